"""Slide pictures read by one OCR engine beside the transcriber, by two once it is done.

One engine on one thread is the cheapest way to read (a fifth less CPU per slide than
one engine on two threads, `OcrEngine.for_recording`), and while the transcriber keeps
every core busy one niced reader is all the machine can spare. On the one-hour
benchmark lecture the transcriber finished first and the lone reader went on for 20-30
s with the second core idle. So a second reader, with its own engine, waits for the
critical work to end (`low_priority.critical_work_done`) and then takes pictures from
the same queue: the tail halves, and its engine's memory arrives after the
transcriber's has gone.

The queue is short, so at most a few decoded pictures wait in memory however many
slides the lecture has.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from highlights.low_priority import critical_work_done, lower_this_thread
from highlights.ocr import OcrEngine, OcrLine

K = TypeVar("K")

_QUEUE_SIZE = 2
_POLL_SECONDS = 0.2


class OcrReaders(Generic[K]):
    """Read pictures in the background; `results()` waits for every one."""

    def __init__(
        self,
        first: OcrEngine | None = None,
        *,
        readers: int = 2,
        new_engine: Callable[[], OcrEngine] = OcrEngine.for_recording,
    ) -> None:
        self._jobs: queue.Queue[tuple[K, np.ndarray]] = queue.Queue(_QUEUE_SIZE)
        self._results: dict[K, tuple[OcrLine, ...]] = {}
        self._failures: list[BaseException] = []
        self._closed = threading.Event()
        self._new_engine = new_engine
        self._threads = [
            threading.Thread(target=self._read, args=(first, index > 0), daemon=True,
                             name=f"slide-ocr-{index + 1}")
            for index in range(max(1, readers))
        ]  # fmt: skip
        self.readers_used = 0
        self._count_lock = threading.Lock()
        for thread in self._threads:
            thread.start()

    def submit(self, key: K, image: np.ndarray) -> None:
        """Queue one picture; blocks while the queue is full (a reader failed: raises)."""
        while True:
            self._raise_failure()
            try:
                self._jobs.put((key, image), timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def results(self) -> dict[K, tuple[OcrLine, ...]]:
        """Every submitted picture's lines, once all are read."""
        self._closed.set()
        for thread in self._threads:
            thread.join()
        self._raise_failure()
        return self._results

    def _raise_failure(self) -> None:
        if self._failures:
            self._closed.set()
            raise self._failures[0]

    def _read(self, engine: OcrEngine | None, waits: bool) -> None:
        lower_this_thread()
        try:
            if waits:
                # the second reader: only once no critical work holds the cores
                while not critical_work_done(_POLL_SECONDS):
                    if self._finished():
                        return
            used = False
            while True:
                try:
                    key, image = self._jobs.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    if self._finished():
                        return
                    continue
                if not used:
                    used = True
                    with self._count_lock:
                        self.readers_used += 1
                engine = engine or self._new_engine()
                self._results[key] = tuple(engine.read(image))
        except BaseException as exc:  # noqa: BLE001 - raised again in the submitting thread
            self._failures.append(exc)
            self._closed.set()

    def _finished(self) -> bool:
        return (self._closed.is_set() and self._jobs.empty()) or bool(self._failures)
