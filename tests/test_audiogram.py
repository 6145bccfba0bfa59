"""Audiogram clips (highlights.render.audiogram) on real audio files made here.

Every file is encoded by the project's ffmpeg (imageio-ffmpeg), in the formats lectures
arrive in: mono MP3, AAC in M4A, 5.1 Opus in WebM, 44.1 kHz WAV, plus a recording that
opens with a minute of digital silence and one that opens with a minute of music
(tones). Their "speech" is a voiced, syllable-modulated tone (tests/media_samples.py),
so the waveform's movement can be checked against known loud and quiet stretches. Each
rendered clip is probed with PyAV and its frames are looked at.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from highlights.render import RenderError, RenderOptions, render_clips
from highlights.render.audiogram import (
    AudiogramCard,
    AudiogramJob,
    audiogram_layout,
    lecture_name,
    render_audiogram,
)
from highlights.render.source import probe_audio_source
from highlights.types import ClipPlan, RenderedClip, Transcript, TranscriptSegment, Word
from tests.media_samples import SHARED_MEDIA, ffmpeg, speechlike, write_wav

FAST = {"preset": "ultrafast"}
RATE = 16000
SPEECH_S = 8.0


def _wav(path: Path, samples: np.ndarray) -> Path:
    return write_wav(path, samples, RATE)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The awkward audio files, made once for the module."""
    folder = tmp_path_factory.mktemp("audiogram-media")
    speech = _wav(folder / "speech.wav", speechlike(SPEECH_S, RATE, seed=3))
    silence_then_speech = np.concatenate(
        [np.zeros(60 * RATE, np.float32), speechlike(SPEECH_S, RATE, seed=4)]
    )
    t = np.arange(60 * RATE) / RATE
    # A minute of "music": a chord that changes every two seconds, then the lecture.
    roots = np.array([220.0, 247.0, 262.0, 294.0, 330.0])[(t // 2).astype(int) % 5]
    chord = sum(np.sin(2 * np.pi * roots * k * t) / k for k in (1.0, 1.25, 1.5))
    music = (0.15 * chord).astype(np.float32)
    files = {
        "mono.mp3": ("-i", str(speech), "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k"),
        "talk.m4a": ("-i", str(speech), "-ac", "2", "-ar", "48000", "-c:a", "aac"),
        "surround.webm": ("-i", str(speech), "-af", "aformat=channel_layouts=5.1",
                          "-ar", "48000", "-c:a", "libopus", "-b:a", "192k"),
        "cd.wav": ("-i", str(speech), "-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le"),
        "silent-minute.m4a": ("-i", str(_wav(folder / "s.wav", silence_then_speech)),
                              "-c:a", "aac"),
        "music-minute.m4a": ("-i", str(_wav(folder / "m.wav", np.concatenate(
            [music, speechlike(SPEECH_S, RATE, seed=5)]))), "-c:a", "aac"),
    }  # fmt: skip
    for name, args in files.items():
        ffmpeg("-y", *args, str(folder / name))
    return {name: folder / name for name in files}


def probe(path: Path | str) -> dict:
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        return {
            "video": video.codec_context.name,
            "size": (video.codec_context.width, video.codec_context.height),
            "pix_fmt": video.codec_context.pix_fmt,
            "audio": audio.codec_context.name,
            "channels": audio.codec_context.channels,
            "duration": container.duration / av.time_base,
            "video_duration": float(video.duration * video.time_base) if video.duration else None,
        }


def frames(path: Path | str) -> list[tuple[float, np.ndarray]]:
    with av.open(str(path)) as container:
        return [(f.time, f.to_ndarray(format="gray")) for f in container.decode(video=0)]


def band(gray: np.ndarray, options: RenderOptions) -> np.ndarray:
    w = audiogram_layout(options).wave
    return gray[w.y : w.y + w.height, w.x : w.x + w.width]


def wave_extent(gray: np.ndarray, options: RenderOptions) -> float:
    """Share of the waveform band's rows the wave reaches (0: a flat line)."""
    rows = np.flatnonzero((band(gray, options) > 120).any(axis=1))
    return 0.0 if rows.size == 0 else (rows.max() - rows.min() + 1) / band(gray, options).shape[0]


def render_one(source: Path, plan: ClipPlan, out: Path) -> tuple[RenderedClip, RenderOptions]:
    opts = RenderOptions(**FAST)
    clip = render_clips(source, [plan], None, None, opts, out, lecture="Algorithms 101")[0]
    return clip, opts


# --- the formats lectures arrive in ----------------------------------------------------


@pytest.mark.parametrize("name", ["mono.mp3", "talk.m4a", "surround.webm", "cd.wav"])
def test_each_audio_format_becomes_an_h264_aac_audiogram(media, name, tmp_path):
    plan = ClipPlan(1.0, 5.0, 0, "Hash tables and their load factor", "Hashing", 0.8, 1)
    clip, opts = render_one(media[name], plan, tmp_path)
    info = probe(clip.video_path)
    assert (info["video"], info["size"], info["pix_fmt"]) == ("h264", (1280, 720), "yuv420p")
    assert info["audio"] == "aac" and info["channels"] <= 2  # 5.1 is mixed down for players
    assert abs(info["duration"] - plan.duration) <= 0.2, info
    assert abs(info["video_duration"] - plan.duration) <= 0.2, info
    assert clip.metadata["picture"] == "audiogram" and clip.metadata["framing"] == "audiogram"
    assert clip.metadata["audiogram_reason"] == "no video stream"
    assert clip.metadata["width"] == 1280 and clip.metadata["file_size"] > 0
    # The voice moves the wave: it reaches well beyond a flat line in most frames.
    extents = [wave_extent(g, opts) for _, g in frames(clip.video_path)]
    assert np.median(extents) > 0.3, extents[:20]
    # The thumbnail is a frame of the same picture, taken where the wave is drawn.
    thumb = av.open(clip.thumbnail_path)
    gray = next(thumb.decode(video=0)).to_ndarray(format="gray")
    thumb.close()
    assert gray.shape == (720, 1280) and wave_extent(gray, opts) > 0.3
    # Only the finished files are left: no scratch folder, no partial output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip_01.jpg", "clip_01.mp4"]


def test_wave_is_flat_in_digital_silence_and_moves_when_speech_starts(media, tmp_path):
    # The clip spans the end of the silent minute and the first seconds of speech.
    plan = ClipPlan(56.0, 63.0, 0, "After the pause", "Intro", 0.5, 1)
    clip, opts = render_one(media["silent-minute.m4a"], plan, tmp_path)
    info = probe(clip.video_path)
    assert abs(info["duration"] - 7.0) <= 0.2
    decoded = frames(clip.video_path)
    silent = [wave_extent(g, opts) for t, g in decoded if 0.5 <= t <= 3.5]
    speaking = [wave_extent(g, opts) for t, g in decoded if 4.5 <= t <= 6.5]
    assert max(silent) < 0.05, silent
    assert np.median(speaking) > 0.3, speaking
    # The thumbnail is taken where the sound is loudest, not in the silence.
    assert clip.metadata["thumbnail_time"] > 4.0
    assert clip.metadata["thumbnail_level_dbfs"] > -40


def test_music_at_the_start_renders_like_speech(media, tmp_path):
    plan = ClipPlan(20.0, 26.0, 0, "Opening music", "Intro", 0.5, 1)
    clip, opts = render_one(media["music-minute.m4a"], plan, tmp_path)
    assert abs(probe(clip.video_path)["duration"] - 6.0) <= 0.2
    extents = [wave_extent(g, opts) for _, g in frames(clip.video_path)]
    assert np.median(extents) > 0.3


# --- card, captions, vertical ------------------------------------------------------------


def test_vertical_audiogram_with_burned_captions_and_subtitles(media, tmp_path):
    words = [Word(1.2 + 0.5 * i, 1.6 + 0.5 * i, w) for i, w in enumerate(
        ["buckets", "hold", "the", "keys", "that", "hash", "alike"])]  # fmt: skip
    transcript = Transcript([TranscriptSegment(1.2, 5.0, " ".join(w.text for w in words),
                                               0.9, words)])  # fmt: skip
    plan = ClipPlan(1.0, 5.0, 0, "Buckets", "Hashing", 0.8, 1)
    captioned = RenderOptions(format="vertical", burn_captions=True, **FAST)
    clip = render_clips(media["talk.m4a"], [plan], transcript, None, captioned, tmp_path / "a")[0]
    plain = RenderOptions(format="vertical", **FAST)
    bare = render_clips(media["talk.m4a"], [plan], transcript, None, plain, tmp_path / "b")[0]
    info = probe(clip.video_path)
    assert info["size"] == (1080, 1920) and info["video"] == "h264" and info["audio"] == "aac"
    assert abs(info["duration"] - 4.0) <= 0.2
    assert clip.metadata["framing"] == "audiogram_vertical"
    assert clip.metadata["captions_burned"] and clip.metadata["caption_cues"] >= 1
    assert clip.srt_path and "buckets" in Path(clip.srt_path).read_text()
    assert clip.vtt_path and Path(clip.vtt_path).read_text().startswith("WEBVTT")
    # Captions are drawn low in the frame, below the waveform; the card is the same.
    with_caps = dict(frames(clip.video_path))
    without = dict(frames(bare.video_path))
    t = min(with_caps, key=lambda x: abs(x - 2.0))
    diff = np.abs(with_caps[t].astype(int) - without[t].astype(int)) > 40
    rows = np.flatnonzero(diff.any(axis=1))
    assert rows.size and rows.min() > 1920 * 0.66, rows[:5]
    # The title and lecture name are on the card (bright text in the top third).
    assert (with_caps[t][: int(1920 * 0.33)] > 200).sum() > 2000
    # Thumbnails stay clean of captions, like those of other clips.
    for path in (clip.thumbnail_path, bare.thumbnail_path):
        with av.open(path) as c:
            gray = next(c.decode(video=0)).to_ndarray(format="gray")
        assert gray.shape == (1920, 1080)


def test_card_shows_title_and_lecture_name(media, tmp_path):
    opts = RenderOptions(**FAST)
    source = probe_audio_source(media["mono.mp3"])
    out = {}
    for key, card in {"both": AudiogramCard("Hash tables", "Algorithms 101"),
                      "none": AudiogramCard("", "")}.items():  # fmt: skip
        plan = ClipPlan(1.0, 2.0, 0, card.title, "t", 0.5, 1)
        job = AudiogramJob(plan, source, card, None, opts, tmp_path / key, 0, "test")
        clip = render_audiogram(job)
        out[key] = frames(clip.video_path)[5][1]
    top = slice(0, int(720 * 0.45))
    assert (out["none"][top] > 200).sum() == 0  # no text: the plain card
    assert (out["both"][top] > 200).sum() > 1000


def test_lecture_name_from_file_name():
    assert lecture_name("cs101_week-3.m4a") == "cs101 week 3"
    assert lecture_name("Lecture 7.mp3") == "Lecture 7"
    assert lecture_name("---.wav") == "---"


# --- batches and errors ------------------------------------------------------------------


def test_audio_only_batch_renders_every_plan_in_rank_order(media, tmp_path):
    plans = [ClipPlan(4.0, 7.0, 1, "Second", "B", 0.5, 2),
             ClipPlan(0.5, 3.0, 0, "First", "A", 0.9, 1)]  # fmt: skip
    done: list[tuple[int, int]] = []
    clips = render_clips(media["mono.mp3"], plans, None, None, RenderOptions(**FAST), tmp_path,
                         progress=lambda d, n: done.append((d, n)))  # fmt: skip
    assert [c.plan.rank for c in clips] == [1, 2]
    assert [Path(c.video_path).name for c in clips] == ["clip_01.mp4", "clip_02.mp4"]
    assert done[-1] == (2, 2)
    for clip in clips:
        assert abs(probe(clip.video_path)["duration"] - clip.plan.duration) <= 0.2


def test_blank_video_can_be_rendered_as_an_audiogram(media, tmp_path):
    # A black screen recording with sound: the caller (compilation) asks for audiograms.
    black = tmp_path / "black.mp4"
    ffmpeg("-y", "-f", "lavfi", "-i", "color=c=black:s=320x240:r=10:d=8", "-i",
           str(media["talk.m4a"]), "-shortest", "-c:v", "libx264", "-c:a", "aac", str(black))  # fmt: skip
    plan = ClipPlan(1.0, 4.0, 0, "Said in the dark", "t", 0.5, 1)
    clip = render_clips(black, [plan], None, None, RenderOptions(**FAST), tmp_path / "out",
                        picture="audiogram", picture_reason="blank throughout")[0]  # fmt: skip
    info = probe(clip.video_path)
    assert info["size"] == (1280, 720) and abs(info["duration"] - 3.0) <= 0.2
    assert clip.metadata["audiogram_reason"] == "blank throughout"
    # Left to itself the renderer cuts the (black) video as usual.
    cut = render_clips(black, [plan], None, None, RenderOptions(**FAST), tmp_path / "cut")[0]
    assert probe(cut.video_path)["size"] == (320, 240) and "picture" not in cut.metadata


def test_bad_audio_fails_with_a_clear_permanent_error_and_writes_nothing(media, tmp_path):
    plan = ClipPlan(1.0, 3.0, 0, "t", "t", 0.5, 1)
    out = tmp_path / "out"
    with pytest.raises(RenderError, match="past the end") as past:
        render_clips(media["mono.mp3"], [ClipPlan(5, 30, 0, "t", "t", 0.5, 1)], None, None,
                     RenderOptions(**FAST), out)  # fmt: skip
    assert not past.value.transient
    text = tmp_path / "notes.m4a"
    text.write_text("not audio at all\n" * 100)
    with pytest.raises(RenderError) as unreadable:
        render_clips(text, [plan], None, None, RenderOptions(**FAST), out)
    assert not unreadable.value.transient and "notes.m4a" in str(unreadable.value)
    # Cut short mid-stream: the decoder gives out before the clip's end.
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(media["cd.wav"].read_bytes()[: 44100 * 4 * 2])  # 2 s of 8
    late = ClipPlan(3.0, 6.0, 0, "t", "t", 0.5, 1)
    try:
        clip = render_clips(truncated, [late], None, None, RenderOptions(**FAST), out)[0]
    except RenderError as exc:
        assert not exc.transient and str(exc)
    else:  # WAV headers declare the full length; ffmpeg may render what is there
        assert Path(clip.video_path).stat().st_size > 0
    leftovers = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert all(not name.startswith(".") for name in leftovers), leftovers


@pytest.mark.parametrize("name", ["aac.m4a", "mono.mp3"])
def test_shared_audio_only_recordings(name, tmp_path):
    src = SHARED_MEDIA / name
    if not src.exists():
        pytest.skip(f"{src} not present")
    clip = render_clips(src, [ClipPlan(0.5, 5.0, 0, "Real speech", "t", 0.5, 1)], None, None,
                        RenderOptions(**FAST), tmp_path)[0]  # fmt: skip
    info = probe(clip.video_path)
    assert info["video"] == "h264" and info["audio"] == "aac"
    assert abs(info["duration"] - 4.5) <= 0.2
