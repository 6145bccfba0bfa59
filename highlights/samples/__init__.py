"""A demo lecture shipped inside the package, so `highlights` can show itself off
without the user finding a recording first.

`lecture-demo.mp4` is synthetic (made by `lecturesynth`, preset "demo"): a 720p
side-by-side screen share and presenter camera with spoken narration over four topics;
`lecture-demo.json` beside it is its exact ground truth (topics, speech, pauses, slides).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEMO_LECTURE = "lecture-demo.mp4"


def demo_lecture_path() -> Path:
    """The installed demo lecture's MP4 (a real file on disk, also inside a wheel)."""
    path = Path(str(resources.files(__name__).joinpath(DEMO_LECTURE)))
    if not path.is_file():
        raise FileNotFoundError(f"the demo lecture is missing from the installation: {path}")
    return path


def demo_truth_path() -> Path:
    """The ground truth JSON of the demo lecture."""
    return demo_lecture_path().with_suffix(".json")
