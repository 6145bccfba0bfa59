"""Run work that can wait at a lower CPU priority, so the stages beside it go first.

Slide OCR runs in the layout branch while the transcriber decodes on every core; both
want the CPU, and the transcriber is the pipeline's critical path. On Linux a thread has
its own nice value and scheduling class, so the OCR runs in a fresh thread niced down to
the lowest priority and put in the idle class (SCHED_IDLE): it takes the cycles the
transcriber leaves instead of sharing time slices. The transcriber leaves many (alone it
keeps about 1.5 of the 2 cores busy). Measured by `bench/ocr_interference.py` (10 min of
dense speech, alternated pairs, a reader reading slides all the while), each CPU-second
the reader spent held the transcriber up by -0.27 to +0.48 s at nice 19 alone (6 pairs,
median 0.16), and by -0.66 to +0.02 s (6 pairs, median -0.29) in the idle class, where
the reader got about half as much CPU (9-12 CPU-s in a 30-40 s run against 20-29). The
whole pipeline on the benchmark hour with and without slide reading: median +0.1% of the
wall over six alternated pairs, the largest +3.8% (docs/benchmarks.md). On a machine
that other programs keep busy the readers wait for them as well: the job takes longer,
and still finishes, since the idle class gets a small share of a busy core (as nice 19
does; a fifth of nice 19's).
A fresh thread because an unprivileged process cannot raise a thread's priority again,
and the worker threads that run stages are reused. Elsewhere the work runs at normal
priority.

Work on the critical path says so (`critical_work`): low-priority work that could use
more threads waits for `critical_work_done` before it takes a second core, so it uses
the cores the transcriber leaves once it has finished, and never competes with it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

NICENESS = 19  # the lowest: see above
# Linux's idle scheduling class on top: see `lower_this_thread`.
IDLE_POLICY = True

_critical = threading.Condition()
_critical_running = 0


@contextlib.contextmanager
def critical_work() -> Iterator[None]:
    """Mark the enclosed work as the critical path for as long as it runs."""
    global _critical_running
    with _critical:
        _critical_running += 1
    try:
        yield
    finally:
        with _critical:
            _critical_running -= 1
            _critical.notify_all()


def critical_work_done(timeout: float) -> bool:
    """Wait up to `timeout` seconds for no critical work to be running in this process."""
    with _critical:
        return _critical.wait_for(lambda: _critical_running == 0, timeout)


def lower_this_thread() -> None:
    """Nice the calling thread (Linux threads have their own nice value) and put it in the
    idle scheduling class; elsewhere, or when not allowed, it keeps normal priority.

    Nice 19 still competes: a niced thread that is running when a transcriber thread
    wakes keeps the core until the scheduler's wake-up granularity runs out, and the
    transcriber's threads wake at every step of the decoder. A SCHED_IDLE thread gives the
    core up at once to any thread of a normal class that wakes (an unprivileged thread may
    enter the class, not leave it: hence fresh threads)."""
    tid = threading.get_native_id()
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICENESS))
    if IDLE_POLICY:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))


def run_at_low_priority(work: Callable[[], T], name: str = "low-priority") -> T:
    """`work()` in a niced thread; its result, or its exception re-raised here."""
    outcome: dict[str, T] = {}
    failure: list[BaseException] = []

    def body() -> None:
        lower_this_thread()
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome["value"]
