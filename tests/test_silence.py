"""Silence detection against ground truth (generated lectures) and on crafted signals."""

from __future__ import annotations

import numpy as np
import pytest

from highlights.audio import extract_audio, open_pcm16
from highlights.audio_levels import speech_gaps
from highlights.silence import detect_audio_silence, detect_blank_screen, detect_silence
from highlights.types import SilenceRegion
from highlights.visual import visual_pass
from tests.media_samples import (
    LectureSpec,
    Rect,
    analysed_lecture,
    compose_lecture,
    ffmpeg,
    lecture_names,
    noise_floor,
    scratch_dir,
    speechlike,
    write_wav,
)

RATE = 16000
STEP = 0.1  # frame size for the frame-level score


def _frame_mask(spans: list[tuple[float, float]], duration: float) -> np.ndarray:
    centres = np.arange(0, duration, STEP) + STEP / 2
    mask = np.zeros(centres.size, dtype=bool)
    for start, end in spans:
        mask |= (centres >= start) & (centres < end)
    return mask


def _f1(
    predicted: list[tuple[float, float]], truth: list[tuple[float, float]], duration: float
) -> float:
    p, g = _frame_mask(predicted, duration), _frame_mask(truth, duration)
    tp, fp, fn = (p & g).sum(), (p & ~g).sum(), (~p & g).sum()
    return 2 * tp / (2 * tp + fp + fn)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _flat(spans) -> list[float]:
    return [v for s in spans for v in ((s.start, s.end) if isinstance(s, SilenceRegion) else s)]


def _spans(regions: list[SilenceRegion], kind: str) -> list[tuple[float, float]]:
    return [(r.start, r.end) for r in regions if r.silence_type == kind]


@pytest.fixture(scope="module", params=lecture_names())
def lecture_silence(request):
    lecture = analysed_lecture(request.param)
    result = detect_silence(lecture.audio.path, lecture.visual, min_duration=2.0)
    return lecture, result


def test_audio_pauses_match_ground_truth(lecture_silence):
    lecture, result = lecture_silence
    truth = [
        (p["start"], p["end"]) for p in lecture.truth["pauses"] if p["end"] - p["start"] >= 2.0
    ]
    found = _spans(result.regions, "audio_silence")
    duration = lecture.truth["duration"]
    assert _f1(found, truth, duration) >= 0.95
    for pause in truth:  # every pause of 2 s or more is found, nearly whole
        assert max(_overlap(pause, f) for f in found) >= 0.9 * (pause[1] - pause[0]), pause
    all_pauses = [(p["start"], p["end"]) for p in lecture.truth["pauses"]]
    for f in found:  # and nothing is reported where someone speaks
        assert sum(_overlap(f, p) for p in all_pauses) >= 0.9 * (f[1] - f[0]), f


def test_threshold_sits_between_floor_and_speech(lecture_silence):
    lecture, result = lecture_silence
    floor = lecture.truth["noise_floor_dbfs"]
    assert result.noise_floor_dbfs == pytest.approx(floor, abs=3)
    assert floor < result.threshold_dbfs < lecture.truth["speech_rms_dbfs"] - 10
    for r in result.regions:
        if r.silence_type != "blank_screen":
            assert r.amplitude_threshold == result.threshold_dbfs


def test_blank_screen_boundaries(lecture_silence):
    lecture, result = lecture_silence
    blank = _spans(result.regions, "blank_screen")
    truth = lecture.truth["blank"]
    if truth is None:
        assert blank == []
        return
    assert len(blank) == 1
    assert blank[0][0] == pytest.approx(truth["start"], abs=1.0)
    assert blank[0][1] == pytest.approx(truth["end"], abs=1.0)


def test_both_is_the_overlap(lecture_silence):
    _, result = lecture_silence
    audio = _spans(result.regions, "audio_silence")
    blank = _spans(result.regions, "blank_screen")
    expected = sorted(
        (max(a[0], b[0]), min(a[1], b[1]))
        for a in audio
        for b in blank
        if min(a[1], b[1]) - max(a[0], b[0]) >= 2.0
    )
    assert sorted(_spans(result.regions, "both")) == expected
    assert expected  # the generated lectures fall silent while the screen is black


def test_speech_gaps_are_cut_points_inside_pauses(lecture_silence):
    lecture, _ = lecture_silence
    samples, rate = open_pcm16(lecture.audio.path)
    gaps = speech_gaps(samples, rate, min_gap=0.3)
    pauses = [(p["start"], p["end"]) for p in lecture.truth["pauses"]]
    # the middle of every gap is a safe cut: nobody is speaking there
    speech = [(s["start"], s["end"]) for s in lecture.truth["speech"]]
    for start, end in gaps:
        middle = (start + end) / 2
        assert not any(s0 + 0.05 < middle < s1 - 0.05 for s0, s1 in speech), (start, end)
    # and every sentence pause of half a second or more offers one
    for pause in pauses:
        if pause[1] - pause[0] >= 0.5:
            assert any(_overlap(pause, g) > 0 for g in gaps), pause


# --- crafted audio ------------------------------------------------------------------


def _lecture_audio(
    floor_dbfs: float, layout: list[tuple[str, float]], seed: int = 0
) -> tuple[np.ndarray, list]:
    """Speech-like bursts and pauses over a noise floor; returns samples and the pauses."""
    duration = sum(d for _, d in layout)
    x = noise_floor(duration, RATE, floor_dbfs, seed=seed)
    pauses, t = [], 0.0
    for kind, d in layout:
        if kind == "speech":
            seg = speechlike(d, RATE, seed=seed + int(t))
            x[int(t * RATE) : int(t * RATE) + seg.size] += seg
        else:
            pauses.append((t, t + d))
        t += d
    return x, pauses


@pytest.mark.parametrize("floor_dbfs", [-75.0, -60.0, -45.0])
def test_threshold_follows_the_recordings_own_floor(floor_dbfs):
    layout = [("speech", 6), ("pause", 3), ("speech", 5), ("pause", 1.2), ("speech", 4),
              ("pause", 2.5), ("speech", 6)]  # fmt: skip
    x, pauses = _lecture_audio(floor_dbfs, layout)
    found = detect_audio_silence(x, RATE, 2.0)
    long_pauses = [p for p in pauses if p[1] - p[0] >= 2.0]
    assert len(found) == len(long_pauses)
    for f, p in zip(found, long_pauses, strict=True):
        assert f.start == pytest.approx(p[0], abs=0.15) and f.end == pytest.approx(p[1], abs=0.15)
        assert floor_dbfs < f.amplitude_threshold < -20


def test_click_and_breath_do_not_split_a_pause():
    clean, _ = _lecture_audio(-60.0, [("speech", 5), ("pause", 4), ("speech", 5)])
    expected = detect_audio_silence(clean, RATE, 2.0)
    assert len(expected) == 1 and expected[0].duration > 3.5
    x = clean.copy()
    click = np.zeros(int(0.01 * RATE), dtype=np.float32) + 0.3  # a loud 10 ms click at 6 s
    x[6 * RATE : 6 * RATE + click.size] += click
    breath = noise_floor(0.15, RATE, -45.0, seed=9)  # a short, soft breath at 7 s
    x[7 * RATE : 7 * RATE + breath.size] += breath
    found = detect_audio_silence(x, RATE, 2.0)
    assert [(f.start, f.end) for f in found] == [(e.start, e.end) for e in expected]
    # a real word in the pause does split it
    x[7 * RATE : int(7.5 * RATE)] += speechlike(0.5, RATE, seed=4)
    assert len(detect_audio_silence(x, RATE, 1.0)) == 2


def test_word_gaps_are_not_pauses():
    x, _ = _lecture_audio(
        -55.0, [("speech", 3), ("pause", 0.6), ("speech", 3), ("pause", 1.5), ("speech", 3)]
    )
    assert detect_audio_silence(x, RATE, 2.0) == []
    gaps = speech_gaps(x, RATE, min_gap=0.3)
    assert [round(g[0]) for g in gaps if g[1] - g[0] >= 0.5] == [3, 7]


def test_digital_silence_does_not_drag_the_threshold_down():
    # a muted start (digital zero) and room noise in the real pause
    x, _ = _lecture_audio(-50.0, [("pause", 5), ("speech", 5), ("pause", 3), ("speech", 5)])
    x[: 5 * RATE] = 0.0
    found = detect_audio_silence(x, RATE, 2.0)
    assert [(round(f.start), round(f.end)) for f in found] == [(0, 5), (10, 13)]
    assert found[0].amplitude_threshold > -60


def test_int16_memmap_and_float_agree(tmp_path):
    x, _ = _lecture_audio(-55.0, [("speech", 4), ("pause", 3), ("speech", 4)])
    wav = write_wav(tmp_path / "a.wav", x, RATE)
    samples, rate = open_pcm16(wav)
    from_file = detect_audio_silence(samples, rate, 2.0)
    from_array = detect_audio_silence(x, RATE, 2.0)
    assert _flat(from_file) == pytest.approx(_flat(from_array), abs=0.02)


def test_all_quiet_recording_is_one_silence(tmp_path):
    wav = write_wav(tmp_path / "quiet.wav", noise_floor(6, RATE, -70.0), RATE)
    result = detect_silence(str(wav), None)
    assert _spans(result.regions, "audio_silence") == [(0.0, 6.0)]
    assert any("quiet throughout" in n for n in result.notes)
    assert any("no video" in n for n in result.notes)


def test_no_audio_gives_a_note_and_only_visual_rows():
    lecture = analysed_lecture(lecture_names()[0])
    result = detect_silence(None, lecture.visual)
    assert result.noise_floor_dbfs is None and result.threshold_dbfs is None
    assert any("no audio" in n for n in result.notes)
    assert {r.silence_type for r in result.regions} <= {"blank_screen"}


# --- blank screen on crafted video --------------------------------------------------


def test_blank_screen_next_to_a_live_camera():
    # side by side: the screen goes black 10-16 s while the presenter keeps moving
    spec = LectureSpec(duration=24.0, screen=Rect(0, 0, 448, 360), camera=Rect(448, 0, 192, 360),
                       slide_times=[0.0, 16.0], build_times=[], blank=(10.0, 16.0))  # fmt: skip
    work = scratch_dir("silence-blank-sbs")
    video = compose_lecture(work / "sbs.mp4", spec)
    visual = visual_pass(video, work / "visual")
    found = detect_blank_screen(visual, 2.0)
    assert _flat(found) == pytest.approx([10.0, 16.0], abs=0.5)


def test_uniform_white_and_black_frames_are_blank_a_sparse_slide_is_not(tmp_path):
    # white 3 s, a title-only slide 3 s, near-black 3 s, the slide again 3 s
    import cv2

    slide = np.full((180, 320, 3), 250, np.uint8)
    cv2.putText(slide, "Questions?", (90, 95), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (40, 40, 40), 2)
    cv2.imwrite(str(tmp_path / "slide.png"), slide)
    video = tmp_path / "blank.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=white:s=320x180:r=10:d=3",
        "-loop", "1", "-framerate", "10", "-t", "3", "-i", str(tmp_path / "slide.png"),
        "-f", "lavfi", "-i", "color=c=0x0c0c0c:s=320x180:r=10:d=3",
        "-loop", "1", "-framerate", "10", "-t", "3", "-i", str(tmp_path / "slide.png"),
        "-filter_complex", "[0][1][2][3]concat=n=4:v=1:a=0,format=yuv420p", "-c:v", "libx264",
        str(video),
    )  # fmt: skip
    visual = visual_pass(video, tmp_path / "visual")
    found = detect_blank_screen(visual, 2.0)
    assert _flat(found) == pytest.approx([0.0, 3.0, 6.0, 9.0], abs=0.5)
    assert detect_blank_screen(visual, 3.5) == []


def test_audio_only_file_end_to_end(tmp_path):
    x, pauses = _lecture_audio(-55.0, [("speech", 4), ("pause", 3), ("speech", 4)])
    wav = write_wav(tmp_path / "talk.wav", x, RATE)
    m4a = tmp_path / "talk.m4a"
    ffmpeg("-i", str(wav), "-c:a", "aac", "-b:a", "64k", str(m4a))
    info = extract_audio(m4a, tmp_path / "job.wav")
    result = detect_silence(info.path, None)
    assert _flat(_spans(result.regions, "audio_silence")) == pytest.approx(
        list(pauses[0]), abs=0.15
    )
    assert not _spans(result.regions, "both")
