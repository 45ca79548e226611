"""handlers/template.py without an engine: outputs and errors the docker CLI gave for these
templates (recorded from docker 28 against the rig)."""

import pytest

from handlers.errors import UsageError
from handlers.template import Row, align_columns, go_printf, render, render_listing

WEB = {
    "Name": "/web",
    "Config": {"Cmd": ["sleep", "3000"], "Labels": {"a": "b", "tier": "front"}, "Env": None},
    "State": {"Running": True, "Pid": 23636, "Status": "running"},
    "HostConfig": {"Memory": 0},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}", "a=b tier=front "),
        (
            "{{with .State}}{{.Status}}{{end}} {{len .Config.Cmd}} {{index .Config.Cmd 0}}",
            "running 2 sleep",
        ),
        (
            '{{ $n := .Name }}{{ $n = "y" }}{{$n}} {{ .Config.Labels.tier }} {{ $.Name }}',
            "y front /web",
        ),
        (
            '{{ and 1 0 }} {{ or "" "z" }} {{ not true }} {{ lt 1 2 }} {{ eq .Name "/x" "/web" }}',
            "0 z false true true",
        ),
        ('{{print 1 2 "a" "b" 3}}|{{println "x" 1}}|{{len .Name}}', "1 2ab3|x 1\n|4"),
        ('{{- " a " -}}  b  {{- /* c */ -}} c', " a bc"),
        ("{{if .State.Running}}up{{else if .State.Paused}}p{{else}}down{{end}}", "up"),
        ("{{range .Config.Env}}x{{else}}none{{end}}", "none"),
        (
            '{{range .Config.Cmd}}{{if eq . "sleep"}}{{continue}}{{end}}{{.}}{{break}}{{end}}',
            "3000",
        ),
        (
            '{{pad .Name 1 1}}|{{truncate .Name 2}}|{{title "ab cd-ef"}}|{{join .Config.Cmd ","}}',
            " /web |/w|Ab Cd-Ef|sleep,3000",
        ),
        (
            '{{split "a,b" ","}} {{json .Config.Labels}} {{slice .Name 1 3}}',
            '[a b] {"a":"b","tier":"front"} we',
        ),
        (
            '{{index .Config.Labels "nope"}}|{{.Config.Labels.nope}}|{{.Config.Volumes}}',
            "|<no value>|map[]",
        ),
        ("{{.Name}}\\t{{lower (upper .Name)}}", "/web\\t/web"),  # inspect keeps `\t` as typed
    ],
)
def test_inspect_templates(template: str, expected: str) -> None:
    assert render(template, WEB) == expected


def test_printf_verbs() -> None:
    assert go_printf(
        "%-10s|%5d|%05d|%+d|%x|%X|%o|%e|%g|%%|%c|%q",
        "ab",
        42,
        42,
        42,
        "hi",
        255,
        8,
        1234.5678,
        0.000012,
        65,
        65,
    ) == ("ab        |   42|00042|+42|6869|FF|10|1.234568e+03|1.2e-05|%|A|'A'")
    assert go_printf("%q %v %5.2f %t", "3000", ["a", 1], 1.5, True) == '"3000" [a 1]  1.50 true'
    assert go_printf("%d %s", "x") == "%!d(string=x) %!s(MISSING)"


@pytest.mark.parametrize(
    ("template", "message", "status"),
    [
        (
            "{{.X}}",
            'template parsing error: template: :1:2: executing "" at <.X>: '
            'map has no entry for key "X"',
            1,
        ),
        (
            "{{.Config.X}}",
            'template: :1:9: executing "" at <.Config.X>: map has no entry for key "X"',
            1,
        ),
        (
            "{{.State.Health.Status}}",
            'at <.State.Health.Status>: map has no entry for key "Health"',
            1,
        ),
        (
            "{{index .Config.Cmd 5}}",
            "at <index .Config.Cmd 5>: error calling index: index out of range: 5",
            1,
        ),
        ("{{lower 5}}", 'template: :1:8: executing "" at <5>: expected string; found 5', 1),
        ("{{nosuch}}", 'template parsing error: template: :1: function "nosuch" not defined', 64),
        ("{{.Name", "template parsing error: template: :1: unclosed action", 64),
        ("{{if 1}}x", "template: :1: unexpected EOF", 64),
        ("{{end}}", "unexpected {{end}}", 64),
        ("{{$x}}", 'undefined variable "$x"', 64),
    ],
)
def test_inspect_errors_as_the_cli(template: str, message: str, status: int) -> None:
    with pytest.raises(UsageError) as caught:
        render(template, WEB)
    assert message in caught.value.message
    assert caught.value.exit_status == status


HEADERS = {"Names": "NAMES", "State": "STATE", "Command": "COMMAND", "Image": "IMAGE"}
ROWS = [
    Row({"Names": "spare", "State": "created", "Image": "busybox"}),
    Row({"Names": "web", "State": "running", "Image": "busybox"}, labels={"tier": "front"}),
]


def test_listing_table_tabs_header_functions_and_label() -> None:
    lines = render_listing(
        'table {{.Names}}\\t{{.Label "tier"}}\\t{{upper .State}}\\t{{printf "%-8s|" .State}}',
        ROWS,
        HEADERS,
    )
    assert lines == [
        "NAMES     tier      STATE     STATE   |",
        "spare               CREATED   created |",
        "web       front     RUNNING   running |",
    ]
    assert render_listing("  {{.Names}}\\n{{.State}}  ", ROWS[:1], HEADERS) == ["spare\ncreated"]


def test_listing_unknown_field_names_the_cli_struct() -> None:
    with pytest.raises(UsageError) as caught:
        render_listing("{{.X}}", ROWS, HEADERS)
    assert caught.value.message == (
        'failed to execute template: template: :1:2: executing "" at <.X>: '
        "can't evaluate field X in type *formatter.ContainerContext"
    )
    assert caught.value.exit_status == 1


def test_tabwriter_column_blocks() -> None:
    # A line without a tab ends the column block above it, as Go's tabwriter does.
    assert align_columns(["a\tb", "long-cell-here\tc", "plain", "x\ty"]) == [
        "a".ljust(17) + "b",
        "long-cell-here   c",
        "plain",
        "x         y",
    ]


def test_no_code_runs() -> None:
    with pytest.raises(UsageError, match="not defined"):
        render('{{exec "ls"}}', WEB)
    with pytest.raises(UsageError):
        render("{{.__class__.__mro__}}", WEB)
