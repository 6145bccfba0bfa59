"""Slide pictures read by one OCR engine beside the transcriber, by two once it is done.

One engine on one thread is the cheapest way to read (a fifth less CPU per slide than
one engine on two threads, `OcrEngine.for_recording`), and while the transcriber keeps
every core busy one niced reader is all the machine can spare. On the one-hour
benchmark lecture the transcriber finished first and the lone reader went on for 20-30
s with the second core idle. So a second reader, with its own engine, waits for the
critical work to end (`low_priority.critical_work_done`) and then takes pictures from
the same queue: the tail halves, and its engine's memory arrives after the
transcriber's has gone.

A picture that differs from one read before only in a small part (a slide number, a
highlighted line, an annotation: `slide_images.changed_box`) is read in that part alone,
and keeps the earlier read's lines elsewhere: a part costs a fraction of a whole read.

The queue is short, so at most a few decoded pictures wait in memory however many
slides the lecture has.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from highlights.low_priority import critical_work_done, lower_this_thread
from highlights.memory import return_freed_memory
from highlights.ocr import OcrEngine, OcrLine
from highlights.slide_images import Box

K = TypeVar("K")

_QUEUE_SIZE = 2
_POLL_SECONDS = 0.2
# Margin around a changed part, in shares of the picture, so its text is not cut.
_PART_MARGIN = 0.02
# A part that grows past this share of the picture once whole lines are added is read whole.
_PART_MAX_AREA = 0.5


def read_part(engine: OcrEngine, image: np.ndarray, earlier: tuple[OcrLine, ...],
              changed: Box) -> tuple[OcrLine, ...]:
    """The lines of `image`, which equals the picture read as `earlier` outside `changed`:
    the changed part (grown to whole earlier lines it touches) is read, the rest kept."""
    part = changed.grown(_PART_MARGIN, _PART_MARGIN)
    while True:  # take in every earlier line the part touches, so no line is cut
        touching = [ln for ln in earlier if part.overlaps(ln.left, ln.top, ln.right, ln.bottom)]
        grown = part
        for ln in touching:
            grown = grown.union(ln.left, ln.top, ln.right, ln.bottom)
        if grown == part:
            break
        part = grown
    height, width = image.shape[:2]
    x0, x1 = int(part.left * width), min(width, int(np.ceil(part.right * width)))
    y0, y1 = int(part.top * height), min(height, int(np.ceil(part.bottom * height)))
    if part.area > _PART_MAX_AREA or x1 - x0 < 8 or y1 - y0 < 8:
        return tuple(engine.read(image))
    span_x, span_y = (x1 - x0) / width, (y1 - y0) / height
    new = [
        OcrLine(ln.text, ln.confidence, x0 / width + ln.left * span_x, y0 / height + ln.top * span_y,
                x0 / width + ln.right * span_x, y0 / height + ln.bottom * span_y)
        for ln in engine.read(np.ascontiguousarray(image[y0:y1, x0:x1]))
    ]  # fmt: skip
    kept = [ln for ln in earlier if ln not in touching]
    return tuple(sorted([*kept, *new], key=lambda ln: (round(ln.top, 2), ln.left)))


class OcrReaders(Generic[K]):
    """Read pictures in the background; `results()` waits for every one."""

    def __init__(
        self,
        first: OcrEngine | None = None,
        *,
        readers: int = 2,
        new_engine: Callable[[], OcrEngine] = OcrEngine.for_recording,
    ) -> None:
        self._jobs: queue.Queue[tuple[K, np.ndarray, tuple[K, Box] | None]] = queue.Queue(_QUEUE_SIZE)
        self._results: dict[K, tuple[OcrLine, ...]] = {}
        self._read_done: dict[K, threading.Event] = {}
        self._failures: list[BaseException] = []
        self._closed = threading.Event()
        self._new_engine = new_engine
        self._threads = [
            threading.Thread(target=self._read, args=(index, first if index == 0 else None),
                             daemon=True, name=f"slide-ocr-{index + 1}")
            for index in range(max(1, readers))
        ]  # fmt: skip
        self._pictures_read = [0] * len(self._threads)  # by each reader; its own slot
        self._cpu_seconds = [0.0] * len(self._threads)  # each reader's thread CPU time
        for thread in self._threads:
            thread.start()

    def submit(self, key: K, image: np.ndarray, *, like: tuple[K, Box] | None = None) -> None:
        """Queue one picture; blocks while the queue is full (a reader failed: raises).

        `like=(earlier_key, changed)`: the picture is the earlier one, submitted before,
        but for the `changed` part; only that part is read."""
        self._read_done[key] = threading.Event()
        while True:
            self._raise_failure()
            try:
                self._jobs.put((key, image, like), timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue

    @property
    def readers_used(self) -> int:
        """How many readers read at least one picture."""
        return sum(1 for count in self._pictures_read if count)

    @property
    def cpu_seconds(self) -> float:
        """CPU time the readers spent, OCR's own cost (the engines run on their threads)."""
        return sum(self._cpu_seconds)

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

    def _read(self, index: int, engine: OcrEngine | None) -> None:
        lower_this_thread()
        began = time.thread_time()
        try:
            if index > 0:
                # the second reader: only once no critical work holds the cores
                while not critical_work_done(_POLL_SECONDS):
                    if self._finished():
                        return
                # the transcriber's heap is free but still held: hand it back before
                # this reader's engine takes its own (otherwise the two add up)
                return_freed_memory()
            while True:
                try:
                    key, image, like = self._jobs.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    if self._finished():
                        return
                    continue
                self._pictures_read[index] += 1
                engine = engine or self._new_engine()
                if like is None:
                    self._results[key] = tuple(engine.read(image))
                else:
                    earlier = self._wait_for(like[0])
                    if earlier is None:
                        return  # another reader failed
                    self._results[key] = read_part(engine, image, earlier, like[1])
                self._read_done[key].set()
        except BaseException as exc:  # noqa: BLE001 - raised again in the submitting thread
            self._failures.append(exc)
            self._closed.set()
        finally:
            self._cpu_seconds[index] = time.thread_time() - began

    def _wait_for(self, key: K) -> tuple[OcrLine, ...] | None:
        """An earlier picture's lines (being read by the other reader, or read)."""
        while not self._read_done[key].wait(_POLL_SECONDS):
            if self._failures:
                return None
        return self._results[key]

    def _finished(self) -> bool:
        return (self._closed.is_set() and self._jobs.empty()) or bool(self._failures)
