"""An engine that goes away and comes back: a clear message, then service as usual."""

from __future__ import annotations

from bot.pipeline import Pipeline
from bot.policy import Policy, Requester
from handlers.engines import Engines
from tests.rig import Rig


def test_ps_when_engine_is_stopped_and_back(rig: Rig) -> None:
    engine = rig.engine("flaky")  # its own engine: stopping the shared one would disturb others
    pipeline = Pipeline(Engines({"local": engine.url}, timeout=10), Policy(None))
    me = Requester("U1", "C1", "cli")
    try:
        assert pipeline.run("ps -a", me).ok
        engine.stop()
        reply = pipeline.run("ps -a", me)
        assert not reply.ok
        assert reply.text == f"cannot reach Docker at local ({engine.url})"
        assert "Traceback" not in str(reply.blocks)
        engine.start()
        again = pipeline.run("ps -a", me)
        assert again.ok, again.text
    finally:
        pipeline.engines.close()
        engine.stop()


def test_first_contact_with_a_dead_engine(rig: Rig) -> None:
    """The client is made lazily; a failure then is the same clear message, and not cached."""
    url = f"unix://{rig.root}/never.sock"
    pipeline = Pipeline(Engines({"local": url}, timeout=5), Policy(None))
    reply = pipeline.run("version", Requester("U1", "C1", "cli"))
    assert reply.text == f"cannot reach Docker at local ({url})"
    assert reply.exit_status == 1
