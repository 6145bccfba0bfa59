"""Synthetic lecture recordings with exact ground truth, for tests and benchmarks.

    from highlights.synth import LectureSpec, generate_lecture
    lecture = generate_lecture(LectureSpec(layout="picture_in_picture"), "out/pip.mp4")

Needs espeak-ng (narration) and scikit-image (the presenter's face, a dev dependency);
ffmpeg comes from imageio-ffmpeg like everywhere else in the package.
"""

from highlights.synth.audio import RoomNoise
from highlights.synth.errors import SynthError
from highlights.synth.generator import GeneratedLecture, LectureSpec, generate_lecture
from highlights.synth.layout import LAYOUTS
from highlights.synth.speech import Voice
from highlights.synth.truth import load_truth

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
