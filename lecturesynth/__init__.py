"""Synthetic lecture recordings with exact ground truth, for tests and benchmarks (dev only:
not part of the installed package; the runtime never imports it).

    from lecturesynth import LectureSpec, generate_lecture
    lecture = generate_lecture(LectureSpec(layout="picture_in_picture"), "out/pip.mp4")

Needs espeak-ng (narration) and scikit-image (the presenter's face, a dev dependency);
ffmpeg comes from imageio-ffmpeg like everywhere else in the package.
"""

from lecturesynth.audio import RoomNoise
from lecturesynth.errors import SynthError
from lecturesynth.generator import GeneratedLecture, LectureSpec, generate_lecture
from lecturesynth.layout import LAYOUTS
from lecturesynth.speech import Voice
from lecturesynth.truth import load_truth

__all__ = [
    "LAYOUTS",
    "GeneratedLecture",
    "LectureSpec",
    "RoomNoise",
    "SynthError",
    "Voice",
    "generate_lecture",
    "load_truth",
]
