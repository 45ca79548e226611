"""Progress edits share one chat.update budget: three pulls at once stay within Slack's
Tier 3 rate, and every final edit still goes."""

from __future__ import annotations

from typing import Any

from bot.progress import EditBudget, MessageProgress
from handlers.progress import ProgressReport


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Client:
    def __init__(self) -> None:
        self.updates: list[float] = []
        self.clock: Clock | None = None

    def chat_update(self, **kwargs: Any) -> dict[str, Any]:
        assert self.clock is not None
        self.updates.append(self.clock.now)
        return {"ok": True}


def test_three_pulls_for_68_seconds_stay_within_the_budget() -> None:
    clock, client = Clock(), Client()
    client.clock = clock
    budget = EditBudget(per_minute=45, burst=5, clock=clock)
    pulls = [
        MessageProgress(client, "C1", f"{n}.0", budget=budget, clock=clock)  # type: ignore[arg-type]
        for n in range(3)
    ]
    while clock.now < 68:
        for progress in pulls:
            progress(ProgressReport(action="pulling", current=1, total=2))
        clock.now += 0.1
    finals = [budget.take(final=True) for _ in pulls]
    assert all(finals)  # the final edits always go
    # 45 a minute over 68 s, plus the burst: never Slack's ~50 a minute.
    assert len(client.updates) <= 45 * 68 / 60 + 5
    per_minute = [t for t in client.updates if t >= 8]
    assert len(per_minute) <= 45 + 1
    # And no message goes without edits: each pull got some of the budget.
    assert all(p.edits > 5 for p in pulls), [p.edits for p in pulls]


def test_one_pull_still_edits_about_once_a_second_within_the_budget() -> None:
    clock, client = Clock(), Client()
    client.clock = clock
    progress = MessageProgress(client, "C1", "1.0", budget=EditBudget(clock=clock), clock=clock)  # type: ignore[arg-type]
    while clock.now < 10:
        progress(ProgressReport(action="pulling"))
        clock.now += 0.1
    assert 5 <= progress.edits <= 11
