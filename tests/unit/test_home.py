"""App Home shows a host's details only to someone whose role may see them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.home import home_view
from bot.policy import Policy, Requester
from config.policy import load_policy


def test_no_role_sees_no_engine(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text("bindings:\n  - {role: admin, users: [U_ADMIN]}\n")

    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"App Home looked at {name} for a user with no role")

    runtime: Any = SimpleNamespace(
        pipeline=SimpleNamespace(policy=Policy(load_policy(policy_file)), engines=Untouchable()),
        store=Untouchable(),
        schedules=Untouchable(),
    )
    shown = json.dumps(home_view(runtime, Requester("U_NOBODY", "")).to_dict())
    assert "no role" in shown and "running" not in shown and "Scheduled jobs" not in shown
