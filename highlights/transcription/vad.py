"""faster-whisper's Silero VAD, run in batches that keep its memory small.

Before decoding a window, faster-whisper finds its speech with Silero VAD: the window is
cut into 32 ms frames and all of them go through one ONNX session, 10,000 frames (5.3
minutes) per run. Each run's activations are a transient of +188 MB at the start of every
10-minute window, at the moment the layout branch's slide reader may hold its own peak;
on the benchmark hour that moment was the process tree's peak.

The session carries the LSTM state (h, c) from one run to the next, so the batch size
does not change the result: 1,000 frames give bit-identical speech probabilities (tested
against faster-whisper's own call) for +88 MB, and took less CPU time (1.13 s against
1.31 s on 10 minutes of the benchmark lecture). The batch size is a local variable of
`SileroVADModel.__call__`, so the loop is repeated here and the cached model instance
that faster-whisper's VAD uses is switched to it.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

# 32 s of audio per ONNX run
FRAMES_PER_RUN = 1000


@functools.cache
def _bounded_class() -> type:
    from faster_whisper.vad import SileroVADModel

    class BoundedSileroVAD(SileroVADModel):
        """SileroVADModel whose call feeds the session `FRAMES_PER_RUN` frames at a time."""

        def __call__(
            self, audio: np.ndarray, num_samples: int = 512, context_size_samples: int = 64
        ) -> np.ndarray:
            if audio.ndim != 1 or audio.shape[0] % num_samples:
                raise ValueError(
                    f"VAD input must be 1-D and a multiple of {num_samples} samples, "
                    f"not {audio.shape}"
                )
            # as faster-whisper 1.2 does it: each frame is preceded by the last
            # `context_size_samples` of the frame before (zeros for the first), and
            # the last frame's own tail is zeroed (upstream writes the zeros through a
            # view of the audio; here the input is left as it was)
            frames = audio.reshape(-1, num_samples)
            context = frames[..., -context_size_samples:].copy()
            context[-1] = 0
            context = np.roll(context, 1, 0)
            frames = np.concatenate([context, frames], 1)
            frames[-1, -context_size_samples:] = 0

            h = np.zeros((1, 1, 128), dtype="float32")
            c = np.zeros((1, 1, 128), dtype="float32")
            outputs = []
            for i in range(0, frames.shape[0], FRAMES_PER_RUN):
                output, h, c = self.session.run(
                    None, {"input": frames[i : i + FRAMES_PER_RUN], "h": h, "c": c}
                )
                outputs.append(output)
            return np.concatenate(outputs, axis=0)

    return BoundedSileroVAD


def bound_vad_batches() -> Any:
    """Switch faster-whisper's cached VAD model to bounded batches; returns the model.

    Idempotent, and it touches only the one instance that `get_vad_model()` caches.
    """
    from faster_whisper import vad

    model = vad.get_vad_model()
    if type(model) is vad.SileroVADModel:
        model.__class__ = _bounded_class()
    return model
