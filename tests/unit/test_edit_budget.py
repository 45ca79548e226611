"""Progress edits share one chat.update budget: three pulls at once stay within Slack's
Tier 3 rate, and every final edit still goes."""

from __future__ import annotations

from typing import Any

from bot.delivery import Outcome
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

    def call(self, method: str, **kwargs: Any) -> Outcome:
        assert self.clock is not None and method == "chat.update"
        self.updates.append(self.clock.now)
        return Outcome(ok=True)


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
    # The final edits always go, each when a token is free: never beyond the budget.
    finals = []
    for _ in pulls:
        while (wait := budget.delay()) > 0:
            clock.now += wait
            pulls[0](ProgressReport(action="pulling", current=1, total=2))  # steps aside
        finals.append(clock.now)
        client.updates.append(clock.now)
    assert finals[-1] - 68 < 3 * 60 / 45 + 0.1
    # 45 a minute over the run, plus the burst: never Slack's ~50 a minute.
    assert len(client.updates) <= 45 * clock.now / 60 + 5
    for start in range(0, int(clock.now)):
        assert len([t for t in client.updates if start <= t < start + 60]) <= 50
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
