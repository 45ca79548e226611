"""Every menu on a ps listing and every button on a run's message, clicked as Slack sends the
click (the option's or button's own value, signed, through the app): each runs the command
its value carries, for the clicker, and what it changes is checked on the engine. Stop goes
through its preview, Cancel and Confirm included. (Next/Previous: tests/test_slack_experience.py;
Share: test_reads_and_sharing.py; Update: the image-updates test.)"""

from __future__ import annotations

from bot import sharing
from tests.fake_response_urls import Shown
from tests.rig import TEST_IMAGE, Engine
from tests.scenario.support import Scenario

ADMIN = "UADMIN"
# A shell as PID 1 ignores SIGTERM: this one ends on it, so stop and restart take no 10 s.
QUICK = "trap 'exit 0' TERM; sleep 300 & wait"
SHARE = sharing.ACTION


def _state(engine: Engine, name: str) -> str:
    return engine.cli("inspect", "-f", "{{.State.Running}} {{.State.StartedAt}}", name).stdout


def _newest(bot: Scenario, words: str) -> Shown:
    found = [s for s in bot.seen() if words in s.words()]
    assert found, f"nothing says {words!r}: {[s.words()[:200] for s in bot.seen()][-3:]}"
    return found[-1]


def test_every_ps_menu_runs_what_its_option_says(
    docker_bot: Scenario, clean_engine: Engine
) -> None:
    clean_engine.cli("run", "-d", "--name", "web", TEST_IMAGE, "sh", "-c", f"echo hi-web; {QUICK}")
    sent = docker_bot.command("ps", user=ADMIN)
    docker_bot.settle()
    listing = docker_bot.seen(sent.key)[-1]
    menus = {
        e["action_id"]: [o["value"] for o in e["options"]]
        for e in listing.actions()
        if e["type"] == "static_select"
    }
    # The listing's one button is Share (tests/scenario/test_reads_and_sharing.py).
    buttons = [e["action_id"] for e in listing.actions() if e["type"] != "static_select"]
    assert buttons == [SHARE]
    assert menus == {
        "dockhand.run:logs": ["logs --tail 100 web"],
        "dockhand.run:restart": ["restart web"],
        "dockhand.run:stop": ["stop web"],
    }  # a new menu fails here until it has its click below

    docker_bot.click(listing, "dockhand.run:logs", user=ADMIN, choose="logs --tail 100 web")
    docker_bot.settle()
    assert "hi-web" in _newest(docker_bot, "logs of web").words()

    before = _state(clean_engine, "web")
    docker_bot.click(listing, "dockhand.run:restart", user=ADMIN, choose="restart web")
    docker_bot.settle()
    after = _state(clean_engine, "web")
    assert after.startswith("true") and after != before  # started again, later

    docker_bot.click(listing, "dockhand.run:stop", user=ADMIN, choose="stop web")
    docker_bot.settle()
    preview = _newest(docker_bot, "would stop 1 container")
    docker_bot.click(preview, "dockhand.cancel", user=ADMIN)
    docker_bot.settle()
    assert _state(clean_engine, "web").startswith("true")
    docker_bot.click(listing, "dockhand.run:stop", user=ADMIN, choose="stop web")
    docker_bot.settle()
    preview = _newest(docker_bot, "would stop 1 container")
    assert "<@" in preview.words()  # in Slack the prompt names the requester as a mention
    docker_bot.click(preview, "dockhand.confirm", user=ADMIN)
    docker_bot.settle()
    assert _state(clean_engine, "web").startswith("false")


def test_every_button_on_a_run_runs_what_its_value_says(
    docker_bot: Scenario, clean_engine: Engine
) -> None:
    docker_bot.command(f'run -d --name job {TEST_IMAGE} sh -c "echo hi-job; {QUICK}"', user=ADMIN)
    docker_bot.settle()
    posted = docker_bot.posted("C1")[-1].body
    message = Shown(0, "posted", str(posted.get("text", "")), list(posted["blocks"]))
    buttons = {e["action_id"]: e["value"] for e in message.actions()}
    assert buttons == {"dockhand.run:logs": "logs --tail 100 job", "dockhand.run:stop": "stop job"}

    docker_bot.click(message, "dockhand.run:logs", user=ADMIN)
    docker_bot.settle()
    assert "hi-job" in _newest(docker_bot, "logs of job").words()

    docker_bot.click(message, "dockhand.run:stop", user=ADMIN)
    docker_bot.settle()
    preview = _newest(docker_bot, "would stop 1 container")
    docker_bot.click(preview, "dockhand.confirm", user=ADMIN)
    docker_bot.settle()
    assert _state(clean_engine, "job").startswith("false")


def test_a_menu_click_is_judged_as_the_clicker(docker_bot: Scenario, clean_engine: Engine) -> None:
    """The same option a viewer picks is refused for them, and nothing happens."""
    clean_engine.cli("run", "-d", "--name", "web", TEST_IMAGE, "sleep", "300")
    sent = docker_bot.command("ps", user=ADMIN)
    docker_bot.settle()
    listing = docker_bot.seen(sent.key)[-1]
    before = _state(clean_engine, "web")
    docker_bot.click(listing, "dockhand.run:restart", user="U_VIEWER", choose="restart web")
    docker_bot.settle()
    assert "may not run `container:restart`" in _newest(docker_bot, "may not run").words()
    assert _state(clean_engine, "web") == before


def test_exec_answers_the_requester_alone(docker_bot: Scenario, clean_engine: Engine) -> None:
    """What a command prints inside may be a secret: the answer is private, with Share."""
    clean_engine.cli("run", "-d", "--name", "web", "-e", "TOKEN=s3cret", TEST_IMAGE, "sleep", "300")
    sent = docker_bot.command("exec web env", user=ADMIN)
    docker_bot.settle()
    answer = docker_bot.seen(sent.key)[-1]
    assert "TOKEN=s3cret" in answer.words()
    assert [e["action_id"] for e in answer.actions()] == [SHARE]
    assert not any("s3cret" in str(c.body) for c in docker_bot.posted())
    refused = docker_bot.command("exec web env", user="U_VIEWER")
    docker_bot.settle()
    assert "may not run `container:exec`" in docker_bot.seen(refused.key)[-1].words()
