"""Work run at low priority: niced in its own thread, the caller's priority untouched,
results and errors handed back."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from highlights.low_priority import NICENESS, run_at_low_priority


def own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_work_runs_niced_and_the_caller_keeps_its_priority() -> None:
    before = own_niceness()
    inside = run_at_low_priority(own_niceness)
    assert inside == min(19, before + NICENESS)
    assert inside == 19  # the lowest priority: it takes only what the stages beside it leave
    assert own_niceness() == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux's")
def test_the_work_runs_in_the_idle_class_and_the_caller_keeps_its_own() -> None:
    def policy() -> int:
        return os.sched_getscheduler(threading.get_native_id())

    before = policy()
    assert run_at_low_priority(policy) == os.SCHED_IDLE
    assert policy() == before


def test_result_and_error_come_back_to_the_caller() -> None:
    assert run_at_low_priority(lambda: 6 * 7) == 42

    def fail() -> None:
        raise ValueError("the slide image is unreadable")

    with pytest.raises(ValueError, match="unreadable"):
        run_at_low_priority(fail)
