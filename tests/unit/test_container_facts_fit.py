"""The results of exec, port, diff, wait and events fit Slack whatever they hold (hostile
text, huge outputs, thousands of lines), as tests/unit/test_every_result_fits.py checks for
handlers/results.py's own results."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render import reply_for
from bot.reply import Origin
from handlers.container_facts import ChangeList, PortList, WaitResult
from handlers.event_window import EventList
from handlers.exec import ExecResult
from handlers.results import Result
from tests.unit.slack_checks import check_reply
from tests.unit.test_every_result_fits import FAST, model

NEW = st.one_of(*(model(c) for c in (ExecResult, PortList, ChangeList, WaitResult, EventList)))


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@FAST
@given(result=NEW, page=st.integers(0, 50), ephemeral=st.booleans())
def test_new_results_fit(result: Result, page: int, ephemeral: bool) -> None:
    reply = reply_for(result, ephemeral=ephemeral, origin=Origin("exec web sh", "local", page))
    check_reply(reply)
