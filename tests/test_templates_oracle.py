"""`--format` templates against the docker CLI: `dockhand do` prints what `docker` prints
(stdout byte for byte, the exit status, the error's words) for table + `\\t`, range, if,
with, variables, printf and unknown fields, over ps, images and inspect."""

from __future__ import annotations

import shlex

import pytest

from tests.rig import TEST_IMAGE, Engine
from tests.test_cli import dockhand


@pytest.fixture
def labelled(clean_engine: Engine) -> Engine:
    clean_engine.cli(
        "run", "-d", "--name", "web", "-l", "tier=front", "-l", "a=b", TEST_IMAGE, "sleep", "300"
    )
    clean_engine.cli("create", "--name", "spare", "-e", "A=1", "-e", "B=2", TEST_IMAGE)
    return clean_engine


def same_as_cli(engine: Engine, *args: str) -> None:
    theirs = engine.cli(*args, check=False)
    mine = dockhand("do", shlex.join(args), DOCKER_HOST=engine.url)
    assert mine.returncode == theirs.returncode, (args, mine.stderr, theirs.stderr)
    if theirs.returncode == 0:
        assert mine.stdout == theirs.stdout, args
    else:
        # The CLI's words, up to the type it names: the part a script would match on.
        said = theirs.stderr.strip().splitlines()[-1]
        assert said in mine.stderr, (said, mine.stderr)


PS_TEMPLATES = [
    "table {{.Names}}\\t{{.State}}\\t{{.Image}}",
    'table {{.Names}}\t{{.Label "tier"}}\\t{{pad .State 1 2}}|{{truncate .Names 2}}',
    "table {{.Names}}\\n{{.State}}",
    '{{range $i, $n := split .Names ","}}{{$i}}={{$n}};{{end}}',
    '{{if eq .State "running"}}up{{else if eq .State "created"}}new{{else}}down{{end}} {{.Names}}',
    '{{printf "%-10s|%q|%d" .Names .Image 3}}',
    'table {{printf "%-8s|" .State}}\\t{{if .Labels}}{{.Labels}}{{else}}none{{end}}',
    "{{with $x := .Labels}}{{$x}}{{else}}-{{end}} {{upper .Names | lower | title}}",
    '  {{json .Names}} {{len .Names}} {{.Names | printf "%s!"}}  ',
    "{{.Nope}}",
    "{{.Names | nosuch}}",
    "{{.Names",
]


@pytest.mark.parametrize("template", PS_TEMPLATES)
def test_ps_templates_as_the_cli(labelled: Engine, template: str) -> None:
    same_as_cli(labelled, "ps", "-a", "--format", template)


IMAGE_TEMPLATES = [
    "table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}",
    '{{if eq .Tag "1.0"}}{{printf "%s:%s" .Repository .Tag}}{{end}}',
    '{{range split .Repository "/"}}[{{.}}]{{end}}',
    "{{.Nope}}",
]


@pytest.mark.parametrize("template", IMAGE_TEMPLATES)
def test_images_templates_as_the_cli(labelled: Engine, template: str) -> None:
    same_as_cli(labelled, "images", "--format", template)


INSPECT_TEMPLATES = [
    "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}",
    "{{range $i, $e := .Config.Env}}{{if $i}},{{end}}{{$e}}{{end}}",
    "{{range .Config.Entrypoint}}x{{else}}no entrypoint{{end}}",
    "{{if .State.Running}}up{{else if .State.Paused}}paused{{else}}down{{end}}",
    '{{with .State}}{{.Status}}{{end}} {{$n := .Name}}{{$n = printf "[%s]" $n}}{{$n}}',
    '{{printf "%s %v %5.2f %x %t %q" .Name .Config.Cmd 1.5 255 .State.Running .Path}}',
    '{{index .Config.Labels "nope"}}|{{.Config.Labels.nope}}|{{(index .Config.Cmd 0) | upper}}',
    "{{.Name}}\\t{{.Path}}",  # inspect keeps `\t` as typed
    "{{- .Name -}}  {{/* a comment */}}  {{- .Path}}",
    '{{and .State.Running .Name}} {{or .State.Error "none"}} {{not .State.Running}} '
    '{{lt .State.ExitCode 1}} {{eq .Name "/web" "/spare"}}',
    "{{.Nope}}",
    "{{.Config.Nope}}",
    "{{.State.Health.Status}}",
    "{{index .Config.Cmd 9}}",
    "{{nosuch .Name}}",
    "{{if .Name}}unclosed",
]


@pytest.mark.parametrize("template", INSPECT_TEMPLATES)
def test_inspect_templates_as_the_cli(labelled: Engine, template: str) -> None:
    same_as_cli(labelled, "inspect", "-f", template, "web", "spare")


def test_angle_brackets_reach_stdout(labelled: Engine) -> None:
    same_as_cli(labelled, "inspect", "-f", '{{printf "<%s>" .Name}}', "web")
