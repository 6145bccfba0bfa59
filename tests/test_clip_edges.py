"""Clips start and end on sentence borders, judged against the generator's sentence
truth (not the pipeline's own transcript), through `highlights process` as users run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.clip_edges import edge_errors, process

LECTURES = Path(__file__).parent / "fixtures" / "lectures"
TOLERANCE = 0.3

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("name", "min_len", "max_len"), [("pip", 20, 40), ("sbs", 30, 60)])
def test_every_clip_edge_is_a_sentence_border(name: str, min_len: float, max_len: float,
                                              tmp_path: Path) -> None:
    truth = json.loads((LECTURES / f"{name}.json").read_text())
    result = process(LECTURES / f"{name}.mp4", tmp_path, min_len, max_len)
    assert result["status"] == "completed", result["error_message"]
    clips = result["clips"]
    assert len(clips) >= 3
    # topics run longer than the clips here: these are windows inside topics
    assert max(t["end"] - t["start"] for t in truth["topics"]) > max_len - 5
    for edge in edge_errors(clips, truth):
        assert edge.start_error <= TOLERANCE and edge.end_error <= TOLERANCE, edge
    for clip in clips:
        spoken = clip["end_time"] - clip["start_time"]
        assert min_len - 1 <= spoken <= max_len + 8.5, clip
