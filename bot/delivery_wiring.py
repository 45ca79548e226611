"""What `build_app` wires around the outbox of a serving process: its sender as a
supervised component (stopped last, after a short drain), the audit's spool flushed by it,
the audit channel's mirror, and the check that reports schedules an emptied Redis lost."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from bot.reply import Reply
from bot.spool import Spool

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.slack_app import SlackFrontEnd

log = logging.getLogger("dockhand.slack")


def wire_delivery(runtime: Runtime, slack: SlackFrontEnd) -> None:
    settings = runtime.settings
    dispatch = slack.dispatch
    outbox = slack.outbox
    runtime.notifier = slack.notify
    # A crash loop's one alert, replaced as deaths add up (bot/alerts.py).
    runtime.editor = lambda channel, ts, reply: dispatch.edit(
        channel, ts, reply.chat_text, reply.blocks, f"edit:{ts}:{uuid.uuid4().hex}"
    )

    def start_outbox() -> None:
        runtime.supervisor.spawn(outbox.name, outbox.run, outbox.stopped)

        def stop_outbox() -> None:
            # Last of all (added once the rest is wired): what the drain and the other
            # parts' stops put in the outbox still goes, within a short grace.
            left = outbox.drain(min(10.0, settings.shutdown_grace))
            outbox.stop()
            if left:
                log.warning("%d message(s) left for Slack in the outbox at shutdown", left)

        runtime.on_stop.append(stop_outbox)

    runtime.on_start.append(start_outbox)
    audit = runtime.pipeline.audit
    if audit is not None:
        # Entries Redis cannot take wait in the spool (on disk with DOCKHAND_SPOOL_DIR) and
        # are written by the outbox's sender once it is back.
        audit.use_spool(Spool(settings.spool_dir, settings.spool_max, "audit"))

        def flush_audit() -> None:
            audit.flush()

        outbox.chores.append(flush_audit)
        document = runtime.pipeline.policy.document
        if document is not None and document.audit_channel:
            channel = document.audit_channel

            def mirror(fields: dict[str, str]) -> None:
                dispatch.mirror_audit(channel, fields)

            audit.mirror = mirror
    if runtime.schedules is not None and settings.redis_url:
        # A Redis that comes back empty takes the schedules with it: said in their channels.
        from bot.epoch import StoreEpoch

        def tell(channel: str, reply: Reply, thread_ts: str | None, key: str) -> None:
            dispatch.notify(channel, reply, thread_ts, key, wait=0)

        epoch = StoreEpoch(runtime.store, runtime.schedules, tell, settings.spool_dir)
        outbox.chores.append(epoch.chore)
