"""The lectures committed to the repository: test fixtures and the packaged demo.

Paths are relative to the repository root. Regenerate them all with
`uv run python scripts/generate_lectures.py` (espeak-ng must be installed).
"""

from __future__ import annotations

from lecturesynth.generator import LectureSpec

FIXTURE_DIR = "tests/fixtures/lectures"
DEMO_PATH = "highlights/samples/lecture-demo.mp4"

PRESETS: dict[str, tuple[str, LectureSpec]] = {
    # Side by side, four computer-science topics, the second one important.
    "sbs": (
        f"{FIXTURE_DIR}/sbs.mp4",
        LectureSpec(
            layout="side_by_side",
            topics=("hash_tables", "binary_search_trees", "sorting", "graph_traversal"),
            important_topic=1,
            width=960,
            height=540,
            seed=1,
        ),
    ),
    # Picture in picture, four topics from other subjects, the third one important.
    "pip": (
        f"{FIXTURE_DIR}/pip.mp4",
        LectureSpec(
            layout="picture_in_picture",
            topics=("photosynthesis", "supply_demand", "french_revolution", "immune_system"),
            important_topic=2,
            width=960,
            height=540,
            seed=2,
        ),
    ),
    # Screen only (no camera), short, small.
    "screen": (
        f"{FIXTURE_DIR}/screen.mp4",
        LectureSpec(
            layout="full_screen",
            topics=("dynamic_programming", "newtons_laws"),
            important_topic=0,
            width=640,
            height=360,
            blank_seconds=6.0,
            seed=3,
        ),
    ),
    # The demo shipped in the package: 720p, four topics of about a minute each.
    "demo": (
        DEMO_PATH,
        LectureSpec(
            layout="side_by_side",
            topics=("water_cycle", "newtons_laws", "plate_tectonics", "immune_system"),
            important_topic=1,
            width=1280,
            height=720,
            seed=4,
        ),
    ),
}
