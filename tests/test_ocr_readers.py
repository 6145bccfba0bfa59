"""Slide pictures read in the background: one real OCR engine while critical work runs,
a second once it is done; every picture's text comes back under its own key, and a
reader's failure reaches the caller."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from highlights.low_priority import critical_work, critical_work_done
from highlights.ocr import OcrEngine
from highlights.ocr_readers import OcrReaders
from highlights.titles import normalize
from lecturesynth.scripts import TOPICS
from lecturesynth.slides import render_slide


def slide(topic: int) -> tuple[str, np.ndarray]:
    shown = TOPICS[topic].slides[0]
    return shown.title, render_slide(shown, len(shown.bullets), "", topic + 1, topic, (960, 540))


def read_all(readers: OcrReaders[int], topics: range) -> dict[int, str]:
    titles = {}
    for topic in topics:
        titles[topic], picture = slide(topic)
        readers.submit(topic, picture)
    texts = readers.results()
    assert set(texts) == set(topics)
    for topic, title in titles.items():
        read = [normalize(line.text) for line in texts[topic]]
        assert normalize(title) in read, (title, read)
    return titles


def test_one_reader_while_critical_work_runs_then_two() -> None:
    engine = OcrEngine.shared()
    with critical_work():
        assert not critical_work_done(0.01)
        busy: OcrReaders[int] = OcrReaders(engine, readers=2)
        read_all(busy, range(4))
    assert busy.readers_used == 1
    assert critical_work_done(0.01)

    free: OcrReaders[int] = OcrReaders(engine, readers=2)
    read_all(free, range(4, 10))
    assert free.readers_used == 2


def test_second_reader_joins_when_critical_work_ends() -> None:
    engine = OcrEngine.shared()
    release = threading.Event()

    def transcriber() -> None:
        with critical_work():
            release.wait(10)

    holder = threading.Thread(target=transcriber)
    holder.start()
    try:
        while critical_work_done(0):  # the holder has not marked its work yet
            time.sleep(0.01)
        readers: OcrReaders[int] = OcrReaders(engine, readers=2)
        titles = {}
        for topic in range(8):
            titles[topic], picture = slide(topic)
            readers.submit(topic, picture)
            if topic == 2:
                release.set()  # the transcriber is done: the second core is free
        texts = readers.results()
    finally:
        release.set()
        holder.join()
    assert readers.readers_used == 2
    assert all(normalize(titles[t]) in [normalize(ln.text) for ln in texts[t]] for t in titles)


def test_a_reader_failure_reaches_the_caller() -> None:
    readers: OcrReaders[str] = OcrReaders(OcrEngine.shared(), readers=2)
    readers.submit("broken", None)  # type: ignore[arg-type]  # not a picture
    with pytest.raises(AttributeError):
        for index in range(20):  # the queue stops taking pictures once a reader failed
            readers.submit(f"slide {index}", slide(index % 4)[1])
        readers.results()
