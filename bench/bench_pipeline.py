"""Whole-pipeline benchmark: one lecture through the real flow, against its floors.

    uv run python bench/bench_pipeline.py                 # 60-minute 720p lecture
    uv run python bench/bench_pipeline.py --minutes 180   # the 3-hour lecture
    uv run python bench/bench_pipeline.py --source FILE   # any recording
    uv run python bench/bench_pipeline.py --docs-only     # rewrite docs/benchmarks.md from the JSON

The 60-minute lecture is generated once (lecturesynth, espeak-ng narration at the dense
pace of real lectures, over 150 words a minute, 1280x720 at 25 fps, side by side, every
topic's slides read three times in a row so topics run 2-3 minutes, all topics cycled)
and cached as bench/out/lecture-60min-dense.mp4; longer ones (whole hours) are that
lecture looped without re-encoding, unless --synthesize. The words a minute the lecture
holds are printed: from the generator's truth beside it, otherwise from the transcript.

The pipeline runs on the embedded defaults (SQLite, a local folder, Prefect's ephemeral
mode, the local transcriber and analyzer) in this process, as `highlights process` runs
it. Per stage it reports wall time (the stage body, and the `processing_logs` duration
Prefect's hooks measure), CPU time and peak memory. Then, in the same run, the floors:
a bare ffmpeg audio decode, a bare low-rate video decode, the local transcriber alone on
the extracted WAV, and bare ffmpeg renders of the same clips with the same encoder
arguments and parallelism as the pipeline's render.

How CPU and memory are attributed (stages run in threads of one process, three at once
for the analysis branches): a sampler thread reads every thread's CPU time
(/proc/self/task) and every child process (ffmpeg; the ephemeral Prefect API server is
counted apart, as orchestration) 5 times a second. A stage owns the CPU of the thread
that runs its body. CPU of other threads and of child processes (decoder threads, the
Whisper thread pool, ffmpeg) goes to the stage running at the time; while several run,
it is split in proportion to their own threads' CPU in that interval (the calling thread
works alongside its helper pool in CTranslate2, PyAV and OpenCV); while none runs, it is
orchestration. Peak memory of a stage is the highest resident set of this process plus
its ffmpeg children seen while the stage ran (concurrent branches share one figure).

Results go to bench/out/pipeline.json (keyed by lecture minutes) and the table to
docs/benchmarks.md. The machine is shared: the load average and the CPU other processes
used during the run are recorded beside the figures; CPU times are less disturbed by
load than wall times.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
RESULTS_JSON = OUT / "pipeline.json"
DOCS_MD = ROOT / "docs" / "benchmarks.md"
NOTES_HEADING = "## Notes"

# Before Prefect is imported: no telemetry, no per-task console chatter.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

import psutil  # noqa: E402

from flows.stages import STAGE_ORDER  # noqa: E402  (after Prefect's settings are set)
from highlights.memory import limit_heap_arenas  # noqa: E402

# as `highlights process` does it, before this process starts its threads
limit_heap_arenas()

SAMPLE_SECONDS = 0.2

# The targets of docs/benchmarks.md (issue 14).
TARGET_MINUTES_60 = 5.0
TARGET_FLOOR_RATIO = 1.15
TARGET_PREFECT_SHARE = 0.05
TARGET_TREE_MB = 1.3 * 1024  # the whole process tree, Prefect's server included
TARGET_LONG_TREE_MB = 1.5 * 1024
TARGET_LONG_RATIO = 3.0
TARGET_OCR_SHARE = 0.05  # slide reading's share of the hour's wall time (issue 13)
# espeak-ng's rate for the benchmark lecture: with the pauses between sentences and
# slides the lecture holds about 155 words a minute (175 gave 146), the pace of real lectures.
DENSE_SPEECH_WPM = 185
TOPIC_REPEATS = 3


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the lecture ------------------------------------------------------------------------


def looped_lecture(base: Path, times: int, path: Path) -> Path:
    """`base` played `times` times over, stream-copied: seconds to make, where synthesis
    takes about 20 minutes per hour of lecture on a busy 2-core machine."""
    from highlights.ffmpeg import ffmpeg_exe

    log(f"making {path.name} by looping {base.name} {times} times (no re-encoding)")
    partial = path.with_name(path.stem + ".part.mp4")
    subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-stream_loop",
            str(times - 1),
            "-i",
            str(base),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(partial),
        ],
        check=True,
    )
    partial.replace(path)
    return path


def lecture_for(minutes: float, synthesize: bool = False) -> Path:
    """The cached lecture of `minutes`, made on first use: synthesized, or for a whole
    multiple of an hour (unless `synthesize`) the 60-minute one looped."""
    path = OUT / f"lecture-{minutes:g}min-dense.mp4"
    if path.exists() and (path.with_suffix(".json").exists() or minutes != 60):
        return path
    if minutes > 60 and minutes % 60 == 0 and not synthesize:
        return looped_lecture(lecture_for(60), int(minutes // 60), path)
    from dataclasses import replace

    from lecturesynth import LectureSpec, generate_lecture

    OUT.mkdir(parents=True, exist_ok=True)
    log(
        f"generating a {minutes:g}-minute 720p lecture into {path} (a few minutes per hour "
        "of lecture on 2 idle cores)"
    )
    began = time.monotonic()
    shown = [-1]

    def progress(fraction: float) -> None:
        step = int(fraction * 20)
        if step != shown[0]:
            shown[0] = step
            log(f"  generating: {fraction * 100:3.0f}% after {time.monotonic() - began:.0f} s")

    # All topics cycled, so a long lecture is not one four-topic script repeated.
    base = LectureSpec()
    spec = replace(
        base,
        topics=(),
        duration=minutes * 60.0,
        topic_repeats=TOPIC_REPEATS,
        voice=replace(base.voice, words_per_minute=DENSE_SPEECH_WPM),
    )
    generate_lecture(spec, path, progress=progress)
    log(f"generated in {time.monotonic() - began:.0f} s")
    return path


# -- sampling the process ---------------------------------------------------------------


def _is_prefect_server(proc: psutil.Process) -> bool:
    try:
        return any("prefect.server" in part for part in proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def _cpu(times: Any) -> float:
    return float(times.user + times.system)


@dataclass
class StageSpan:
    stage: str
    thread_id: int
    began: float
    ended: float | None = None
    thread_cpu: float = 0.0  # the body thread's own CPU (time.thread_time)
    error: str | None = None


@dataclass
class Usage:
    cpu: float = 0.0
    peak_rss: int = 0


@dataclass
class Sampler:
    """Samples this process's threads and children; attributes CPU and memory to stages."""

    interval: float = SAMPLE_SECONDS
    spans: dict[str, StageSpan] = field(default_factory=dict)
    usage: dict[str, Usage] = field(default_factory=dict)
    orchestration_cpu: float = 0.0  # CPU while no stage ran (Prefect engine, hooks, DB)
    prefect_server_cpu: float = 0.0
    prefect_server_peak_rss: int = 0
    peak_rss: int = 0  # this process + its ffmpeg children
    tree_peak_rss: int = 0  # the same plus the Prefect API server: the whole tree
    system_busy: float = 0.0  # CPU seconds every process on the machine used
    own_total: float = 0.0  # CPU seconds of this process, its workers and the Prefect server
    load_samples: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.proc = psutil.Process()
        # What ran before the benchmark started is nobody's.
        self._threads = {t.id: float(t.user_time + t.system_time) for t in self.proc.threads()}
        self._children: dict[int, float] = {}
        for child in self.proc.children(recursive=True):
            with contextlib.suppress(
                psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess
            ):
                self._children[child.pid] = _cpu(child.cpu_times())
        self._reaped = self._reaped_cpu()
        self._seen_unreaped = 0.0  # CPU already counted of children that ended unreaped
        self._system = self._system_busy()

    # stage bookkeeping, called from the stage threads
    def stage_began(self, stage: str) -> None:
        with self._lock:
            self.spans[stage] = StageSpan(stage, threading.get_native_id(), time.perf_counter())
            self.usage.setdefault(stage, Usage())

    def stage_ended(self, stage: str, thread_cpu: float, error: str | None) -> None:
        self.sample()  # close the stage's last interval while it is still marked running
        with self._lock:
            span = self.spans[stage]
            span.ended = time.perf_counter()
            span.thread_cpu = thread_cpu
            span.error = error

    def running(self) -> list[StageSpan]:
        return [s for s in self.spans.values() if s.ended is None]

    # sampling
    def _reaped_cpu(self) -> float:
        times = self.proc.cpu_times()
        return float(times.children_user + times.children_system)

    @staticmethod
    def _system_busy() -> float:
        times = psutil.cpu_times()
        return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))

    def sample(self) -> None:
        with self._lock:
            self._sample_locked()

    def _sample_locked(self) -> None:
        running = self.running()
        by_thread = {s.thread_id: s for s in running}
        own: dict[str, float] = {s.stage: 0.0 for s in running}
        unowned = 0.0
        threads: dict[int, float] = {}
        for t in self.proc.threads():
            cpu = float(t.user_time + t.system_time)
            threads[t.id] = cpu
            delta = max(0.0, cpu - self._threads.get(t.id, 0.0))
            if t.id in by_thread:
                own[by_thread[t.id].stage] += delta
            else:
                unowned += delta
        self._threads = threads

        rss = self.proc.memory_info().rss
        server_rss = 0
        children: dict[int, float] = {}
        server_delta = 0.0
        for child in self.proc.children(recursive=True):
            try:
                cpu = _cpu(child.cpu_times())
                child_rss = child.memory_info().rss
                server = _is_prefect_server(child)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            children[child.pid] = cpu
            delta = max(0.0, cpu - self._children.get(child.pid, 0.0))
            if server:
                server_delta += delta
                self.prefect_server_peak_rss = max(self.prefect_server_peak_rss, child_rss)
                server_rss += child_rss
            else:
                unowned += delta
                rss += child_rss
        # Children that ended: their whole CPU lands in the reaped counter once waited
        # for, minus what was already counted of them while they were alive.
        reaped = self._reaped_cpu()
        self._seen_unreaped += sum(
            cpu for pid, cpu in self._children.items() if pid not in children
        )
        grown = max(0.0, reaped - self._reaped)
        already = min(grown, self._seen_unreaped)
        self._seen_unreaped -= already
        unowned += grown - already
        self._reaped = reaped
        self._children = children
        self.prefect_server_cpu += server_delta

        if not running:
            self.orchestration_cpu += unowned
        else:
            weight = sum(own.values())
            for stage, cpu in own.items():
                share = cpu / weight if weight > 0 else 1.0 / len(own)
                self.usage[stage].cpu += cpu + unowned * share
        for s in running:
            self.usage[s.stage].peak_rss = max(self.usage[s.stage].peak_rss, rss)
        self.peak_rss = max(self.peak_rss, rss)
        self.tree_peak_rss = max(self.tree_peak_rss, rss + server_rss)
        self.own_total += sum(own.values()) + unowned + server_delta
        system = self._system_busy()
        self.system_busy += max(0.0, system - self._system)
        self._system = system

    def _loop(self) -> None:
        last_load = 0.0
        while not self._stop.wait(self.interval):
            self.sample()
            if time.monotonic() - last_load >= 5.0:
                last_load = time.monotonic()
                self.load_samples.append(os.getloadavg()[0])

    def start(self) -> None:
        self.load_samples.append(os.getloadavg()[0])
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()


def instrument_stages(sampler: Sampler) -> Callable[[], None]:
    """Wrap each stage module's `run` so the sampler knows which thread runs which stage.

    The Prefect tasks call `module.run(...)` through the module attribute, so the flow
    itself is unchanged. Returns a function that restores the originals.
    """
    modules = {stage: importlib.import_module(f"tasks.{stage}") for stage in STAGE_ORDER}
    originals: dict[str, Callable[..., Any]] = {}
    for stage, module in modules.items():
        real = module.run
        originals[stage] = real

        def wrapped(
            *args: Any, _stage: str = stage, _real: Callable[..., Any] = real, **kwargs: Any
        ) -> Any:
            sampler.stage_began(_stage)
            log(f"  stage {_stage} started")
            began = time.thread_time()
            error = None
            try:
                return _real(*args, **kwargs)
            except BaseException as exc:
                error = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                sampler.stage_ended(_stage, time.thread_time() - began, error)
                span = sampler.spans[_stage]
                log(
                    f"  stage {_stage} {'failed' if error else 'done'} in "
                    f"{span.ended - span.began:.1f} s, CPU {sampler.usage[_stage].cpu:.1f} s"
                )

        module.run = wrapped

    def restore() -> None:
        for stage, real in originals.items():
            modules[stage].run = real

    return restore


def progress_printer(sampler: Sampler, stop: threading.Event, began: float) -> None:
    while not stop.wait(30.0):
        with sampler._lock:
            running = ", ".join(s.stage for s in sampler.running()) or "orchestration"
            peak = sampler.peak_rss
        log(
            f"  {time.perf_counter() - began:6.0f} s elapsed; running: {running}; "
            f"peak RSS so far {peak / 2**20:.0f} MB; load {os.getloadavg()[0]:.1f}"
        )


# -- the pipeline run -------------------------------------------------------------------


def run_pipeline(lecture: Path, run_dir: Path) -> dict[str, Any]:
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    os.environ["HIGHLIGHTS_DATABASE_URL"] = f"sqlite:///{run_dir / 'highlights.db'}"
    os.environ["HIGHLIGHTS_STORAGE_URL"] = str(run_dir / "store")
    os.environ["HIGHLIGHTS_WORK_DIR"] = str(run_dir / "work")
    for name in ("HIGHLIGHTS_TRANSCRIBER", "HIGHLIGHTS_ANALYZER", "HIGHLIGHTS_S3_ENDPOINT_URL"):
        os.environ.pop(name, None)

    from db.migrate import init_db
    from flows.jobs import create_job
    from highlights.settings import load_settings

    settings = load_settings()
    init_db(settings.database_url)
    job_id = create_job(settings, str(lecture), {})

    sampler = Sampler()
    restore = instrument_stages(sampler)
    stop = threading.Event()
    log(f"running the pipeline on {lecture.name} (job {job_id})")
    sampler.start()
    began = time.perf_counter()
    printer = threading.Thread(target=progress_printer, args=(sampler, stop, began), daemon=True)
    printer.start()
    try:
        from flows.lecture import process_lecture

        state = process_lecture(job_id=job_id, return_state=True)
        total = time.perf_counter() - began
    finally:
        stop.set()
        sampler.stop()
        restore()
    if not state.is_completed():
        raise SystemExit(f"the pipeline failed: {state.message}")
    return {
        "settings": settings,
        "job_id": job_id,
        "sampler": sampler,
        "began": began,
        "total": total,
    }


def logged_durations(settings: Any, job_id: str) -> dict[str, float]:
    from sqlalchemy import select

    from db.engine import get_engine, session_scope
    from db.models import ProcessingLog

    with session_scope(get_engine(settings)) as session:
        rows = session.execute(
            select(ProcessingLog.stage, ProcessingLog.duration_seconds).where(
                ProcessingLog.job_id == job_id, ProcessingLog.status == "completed"
            )
        ).all()
    return {stage: float(seconds or 0.0) for stage, seconds in rows}


def slide_reading(
    settings: Any, job_id: str, stages: dict[str, dict[str, float]],
    floors: dict[str, dict[str, float]], total: float, lecture_name: str,
) -> dict[str, Any] | None:
    """What reading the slides cost the pipeline, from the layout stage's summary.

    Slide reading runs in the layout branch, beside transcription, so it adds to the
    wall time only through the CPU it takes from the critical path. Two bounds, both
    from this run: its CPU time (each CPU-second it took could hold the critical path
    up by one second at most), and, with the floors, how much longer transcription took
    here than alone, which is what the whole branch (video decode included) cost it.
    The estimate charges slide reading that delay in proportion to its share of the
    branch's CPU (the video decode's floor plus the reading, both measured in this run;
    not the layout row's CPU, which also holds a share of the transcriber's helper
    threads); it overstates reading's part, since the readers run niced and the decoder
    does not. Beside these, the last direct measurement of the same lecture, when there is
    one (`bench/ocr_share.py`: the whole pipeline with and without slide reading).
    """
    from sqlalchemy import select

    from db.engine import get_engine, session_scope
    from db.models import ProcessingLog

    with session_scope(get_engine(settings)) as session:
        metadata = session.execute(
            select(ProcessingLog.metadata_).where(
                ProcessingLog.job_id == job_id, ProcessingLog.stage == "layout_analysis",
                ProcessingLog.status == "completed",
            )
        ).scalar()
    summary = (metadata or {}).get("slide_text")
    layout, transcription = stages.get("layout_analysis"), stages.get("transcription")
    if not summary or not layout or not transcription:
        return None
    ocr_cpu = float(summary.get("ocr_cpu_seconds", 0.0))
    picture_cpu = float(summary.get("picture_cpu_seconds", 0.0))
    reading_cpu = ocr_cpu + picture_cpu
    result: dict[str, Any] = {
        "spans": summary.get("slides_read"),
        "pictures_read": summary.get("ocr_reads"),
        "part_reads": summary.get("part_reads"),
        "ocr_cpu": round(ocr_cpu, 2),
        "picture_cpu": round(picture_cpu, 2),
        "ocr_cpu_per_picture": round(ocr_cpu / max(1, summary.get("ocr_reads") or 0), 3),
        "reading_wall": summary.get("ocr_seconds"),
        "cpu_bound_share": round(reading_cpu / total, 4),
    }
    rate = measured_interference()
    if rate is not None:
        result |= {"interference_rate": round(rate, 3),
                   "measured_share": round(rate * reading_cpu / total, 4)}
    result |= direct_measurement(lecture_name)
    floor, decode = floors.get("transcription"), floors.get("video_decode")
    if floor and decode:
        delay = max(0.0, transcription["wall"] - floor["wall"])
        charged = delay * reading_cpu / max(reading_cpu + decode["cpu"], 1e-9)
        result |= {
            "transcription_delay": round(delay, 2),
            "delay_bound_share": round(min(delay, reading_cpu) / total, 4),
            "estimated_share": round(charged / total, 4),
        }
    return result


def _measured_at_present_priority(name: str) -> dict[str, Any] | None:
    """bench/out/`name` as a benchmark last saved it, if it was measured with the readers
    at their present niceness and scheduling class; else None."""
    from highlights.low_priority import IDLE_POLICY, NICENESS

    path = OUT / name
    if not path.exists():
        return None
    measured = json.loads(path.read_text())
    if measured.get("niceness") != NICENESS or measured.get("idle_class", False) != IDLE_POLICY:
        return None
    return measured


def direct_measurement(lecture_name: str) -> dict[str, Any]:
    """What `bench/ocr_share.py` last measured slide reading to add to the whole pipeline's
    wall on this lecture, with the readers at their present niceness and class, as fields
    of the slide-reading result; none when it has not been measured so."""
    measured = _measured_at_present_priority("ocr_share.json")
    if not measured or measured.get("lecture") != lecture_name or not measured.get("pairs"):
        return {}
    return {"direct_pairs": len(measured["pairs"]),
            "direct_median_share": round(measured["median"], 4),
            "direct_largest_share": round(measured["largest"], 4),
            "direct_measured_at": measured["measured_at"]}


def measured_interference() -> float | None:
    """Seconds of transcriber wall time per CPU-second of slide reading, the largest of the
    pairs `bench/ocr_interference.py` last measured (not below 0); None when it has not
    been measured at the readers' present niceness and scheduling class."""
    measured = _measured_at_present_priority("ocr_interference.json")
    if not measured or not measured.get("rates"):
        return None
    return max(0.0, max(measured["rates"]))


def words_per_minute(lecture: Path, settings: Any, job_id: str, minutes: float) -> dict[str, Any]:
    """How dense the lecture's speech is: from the generator's truth beside it when there
    is one (the words actually read), otherwise from the job's transcript."""
    truth = lecture.with_suffix(".json")
    if truth.exists():
        speech = json.loads(truth.read_text()).get("speech", [])
        if speech:
            words = sum(len(s["text"].split()) for s in speech)
            return {"words": words, "per_minute": round(words / minutes), "from": "script"}
    from sqlalchemy import select

    from db.engine import get_engine, session_scope
    from db.models import TranscriptRow

    with session_scope(get_engine(settings)) as session:
        texts = session.scalars(select(TranscriptRow.text).where(TranscriptRow.job_id == job_id))
        words = sum(len(text.split()) for text in texts)
    return {"words": words, "per_minute": round(words / minutes), "from": "transcript"}


def stage_work_seconds(spans: list[StageSpan]) -> float:
    """Wall time during which at least one stage body ran (the union of their spans)."""
    covered = 0.0
    edge = float("-inf")
    for span in sorted(spans, key=lambda s: s.began):
        end = span.ended or span.began
        if end > edge:
            covered += end - max(span.began, edge)
            edge = end
    return covered


# -- the floors -------------------------------------------------------------------------


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_ffmpeg(args: list[str]) -> dict[str, float]:
    from highlights.ffmpeg import ffmpeg_exe

    cpu, began = children_cpu(), time.perf_counter()
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *args], check=True
    )
    return {"wall": time.perf_counter() - began, "cpu": children_cpu() - cpu}


TRANSCRIBE_ALONE = """
import json, sys, time
import psutil

def peak_mb():
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child started from this
    # benchmark (1.5 GB after the pipeline) would report the benchmark's own peak.
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
from highlights.settings import load_settings
from highlights.transcription import get_transcriber

# The model is loaded inside transcribe(), as the stage loads it: part of the floor.
transcriber = get_transcriber(load_settings())
proc = psutil.Process()
before, began = proc.cpu_times(), time.perf_counter()
transcriber.transcribe(sys.argv[1])
after = proc.cpu_times()
print(json.dumps({"wall": time.perf_counter() - began,
                  "cpu": after.user + after.system - before.user - before.system,
                  "peak_rss_mb": peak_mb()}))
"""


def transcription_floor(lecture: Path, scratch: Path) -> dict[str, float]:
    """The local transcriber alone on the pipeline's own 16 kHz WAV, model loaded first.

    It runs in a fresh process: in this one the model was loaded by a Prefect worker
    thread that has since exited, and CTranslate2 then runs several times slower (see
    docs/benchmarks.md), which would make the floor meaningless.
    """
    from highlights.audio import extract_audio

    wav = scratch / "audio-16k.wav"
    extract_audio(lecture, wav)
    done = subprocess.run(
        [sys.executable, "-c", TRANSCRIBE_ALONE, str(wav)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def render_floor(settings: Any, job_id: str, lecture: Path, scratch: Path) -> dict[str, float]:
    """Bare ffmpeg encodes of the job's clips: the pipeline's encoder arguments, framing,
    parallelism and threads, without thumbnails, subtitles, probes or uploads."""
    from sqlalchemy import select

    from db.engine import get_engine, session_scope
    from db.loaders import load_layout
    from db.models import Clip
    from highlights.ffmpeg import ffmpeg_exe
    from highlights.render import RenderOptions
    from highlights.render.clip import encode_command
    from highlights.render.framing import original_composition
    from highlights.render.source import probe_source
    from highlights.types import Region

    with session_scope(get_engine(settings)) as session:
        spans = [
            (c.start_time, c.end_time)
            for c in session.scalars(
                select(Clip).where(Clip.job_id == job_id).order_by(Clip.clip_order)
            )
        ]
        layout = load_layout(session, job_id)
    options = RenderOptions(format=settings.clip_format)
    source = probe_source(lecture)
    screen = layout.screen_region if layout and not layout.screen_region.is_empty else Region.full()
    composition = original_composition(source, screen, options)
    cores = os.cpu_count() or 1
    workers = min(len(spans), options.max_workers or cores) or 1
    threads = 0 if workers == 1 else max(1, cores // workers)  # as render_clips splits them

    def encode(index: int, start: float, end: float) -> None:
        args = encode_command(
            source,
            start,
            end - start,
            composition.graph,
            "base",
            options,
            threads,
            scratch / f"floor_{index:02d}.mp4",
        )
        subprocess.run([ffmpeg_exe(), *args], check=True, capture_output=True)

    cpu, began = children_cpu(), time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda item: encode(item[0], *item[1]), enumerate(spans)))
    return {
        "wall": time.perf_counter() - began,
        "cpu": children_cpu() - cpu,
        "clips": len(spans),
        "clip_seconds": round(sum(b - a for a, b in spans), 1),
    }


def run_floors(
    settings: Any, job_id: str, lecture: Path, scratch: Path
) -> dict[str, dict[str, float]]:
    scratch.mkdir(parents=True, exist_ok=True)
    floors: dict[str, dict[str, float]] = {}
    log("floor: bare ffmpeg audio decode")
    floors["audio_decode"] = timed_ffmpeg(["-vn", "-i", str(lecture), "-f", "null", "-"])
    log("floor: bare ffmpeg low-rate video decode")
    floors["video_decode"] = timed_ffmpeg(
        ["-an", "-i", str(lecture), "-vf", "fps=2,scale=256:-2", "-f", "null", "-"]
    )
    log("floor: local transcription alone on the extracted WAV")
    floors["transcription"] = transcription_floor(lecture, scratch)
    log("floor: bare ffmpeg renders of the same clips")
    floors["render"] = render_floor(settings, job_id, lecture, scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    return floors


# -- report -----------------------------------------------------------------------------


def build_result(
    lecture: Path,
    run: dict[str, Any],
    floors: dict[str, dict[str, float]],
    wall_began: float,
    wall_ended: float,
) -> dict[str, Any]:
    sampler: Sampler = run["sampler"]
    logged = logged_durations(run["settings"], run["job_id"])
    spans = [sampler.spans[s] for s in STAGE_ORDER if s in sampler.spans]
    stages = {}
    for span in spans:
        usage = sampler.usage[span.stage]
        stages[span.stage] = {
            "wall": round((span.ended or span.began) - span.began, 2),
            "logged_wall": round(logged.get(span.stage, 0.0), 2),
            "cpu": round(usage.cpu, 2),
            "thread_cpu": round(span.thread_cpu, 2),
            "peak_rss_mb": round(usage.peak_rss / 2**20),
        }
    total = run["total"]
    work = stage_work_seconds(spans)
    first_start = min(s.began for s in spans) - run["began"]
    floor_sum = sum(f["wall"] for f in floors.values())
    floor_cpu = sum(f["cpu"] for f in floors.values())
    stage_cpu = sum(sampler.usage[s.stage].cpu for s in spans)
    measured = wall_ended - wall_began
    with_server = sampler.prefect_server_peak_rss
    import av

    with av.open(str(lecture)) as container:
        duration = container.duration / av.time_base
        video = container.streams.video[0].codec_context
        size = f"{video.width}x{video.height}"
    speech = words_per_minute(lecture, run["settings"], run["job_id"], duration / 60)
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "lecture": {
            "path": str(lecture.relative_to(ROOT))
            if lecture.is_relative_to(ROOT)
            else str(lecture),
            "minutes": round(duration / 60, 2),
            "size": size,
            "bytes": lecture.stat().st_size,
            "words": speech["words"],
            "words_per_minute": speech["per_minute"],
            "words_counted_from": speech["from"],
        },
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_min": round(min(sampler.load_samples), 2),
            "load_avg_mean": round(sum(sampler.load_samples) / len(sampler.load_samples), 2),
            "load_avg_max": round(max(sampler.load_samples), 2),
            # CPU seconds per second that other processes used while the pipeline ran.
            "other_cores_busy": round(max(0.0, sampler.system_busy - sampler.own_total) / total, 2),
        },
        "pipeline": {
            "total_wall": round(total, 2),
            "stage_work_wall": round(work, 2),
            "prefect_overhead_wall": round(total - work, 2),
            "prefect_overhead_share": round((total - work) / total, 4),
            "before_first_stage": round(first_start, 2),
            "stage_cpu": round(stage_cpu, 2),
            "orchestration_cpu": round(sampler.orchestration_cpu, 2),
            "prefect_server_cpu": round(sampler.prefect_server_cpu, 2),
            "peak_rss_mb": round(sampler.peak_rss / 2**20),
            "tree_peak_rss_mb": round(sampler.tree_peak_rss / 2**20),
            "max_rss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "prefect_server_peak_rss_mb": round(with_server / 2**20),
        },
        "stages": stages,
        "floors": {name: {k: round(v, 2) for k, v in f.items()} for name, f in floors.items()},
        "floor_sum_wall": round(floor_sum, 2),
        "floor_sum_cpu": round(floor_cpu, 2),
        # None when the floors were skipped (--skip-floors)
        "ratio_to_floors": round(total / floor_sum, 3) if floor_sum else None,
        "cpu_ratio_to_floors": round(
            (stage_cpu + sampler.orchestration_cpu + sampler.prefect_server_cpu) / floor_cpu, 3
        )
        if floor_cpu
        else None,
        "benchmark_wall": round(measured, 1),
        "slide_reading": slide_reading(run["settings"], run["job_id"], stages, floors, total,
                                       lecture.name),
    }


def print_result(result: dict[str, Any]) -> None:
    p, m = result["pipeline"], result["machine"]
    lec = result["lecture"]
    print(
        f"\nLecture {lec['path']}: {lec['minutes']:.1f} min, {lec['size']}, "
        f"{lec['bytes'] / 1e6:.0f} MB, {lec['words']} words = {lec['words_per_minute']} words a "
        f"minute (from the {lec['words_counted_from']}); {m['cores']} cores, load average "
        f"{m['load_avg_min']}-{m['load_avg_max']} (mean {m['load_avg_mean']}), other "
        f"processes kept {m['other_cores_busy']} cores busy"
    )
    print(
        f"\n{'stage':<18} {'wall s':>8} {'logged s':>9} {'CPU s':>8} {'own thr':>8} {'peak MB':>8}"
    )
    for stage, s in result["stages"].items():
        print(
            f"{stage:<18} {s['wall']:8.1f} {s['logged_wall']:9.1f} {s['cpu']:8.1f} "
            f"{s['thread_cpu']:8.1f} {s['peak_rss_mb']:8d}"
        )
    print(
        f"\npipeline total {p['total_wall']:.1f} s wall ({p['total_wall'] / 60:.2f} min); "
        f"stage work {p['stage_work_wall']:.1f} s; Prefect overhead {p['prefect_overhead_wall']:.1f} s "
        f"= {p['prefect_overhead_share'] * 100:.1f}% (of which {p['before_first_stage']:.1f} s "
        f"before the first stage)"
    )
    print(
        f"CPU: stages {p['stage_cpu']:.1f} s, orchestration in-process {p['orchestration_cpu']:.1f} s, "
        f"Prefect API server {p['prefect_server_cpu']:.1f} s"
    )
    print(
        f"peak memory: {p['peak_rss_mb']} MB (pipeline process + ffmpeg children), "
        f"Prefect API server {p['prefect_server_peak_rss_mb']} MB, whole tree "
        f"{p['tree_peak_rss_mb']} MB"
    )
    ocr = result.get("slide_reading")
    if ocr:
        print(
            f"slide reading: {ocr['pictures_read']} pictures read ({ocr['part_reads']} in part) "
            f"for {ocr['spans']} spans between slide changes; OCR {ocr['ocr_cpu']:.1f} CPU-s "
            f"({ocr['ocr_cpu_per_picture']:.2f} a picture), taking the pictures "
            f"{ocr['picture_cpu']:.1f} CPU-s"
        )
        print(f"  share of the wall, at most its CPU time: {ocr['cpu_bound_share'] * 100:.1f}%")
        if "estimated_share" in ocr:
            print(
                f"  transcription took {ocr['transcription_delay']:.1f} s longer than alone: "
                f"at most {ocr['delay_bound_share'] * 100:.1f}%, charged by CPU share "
                f"{ocr['estimated_share'] * 100:.1f}% (target <= {TARGET_OCR_SHARE * 100:.0f}%)"
            )
        if "measured_share" in ocr:
            print(
                f"  at the delay a CPU-second of reading was measured to cause "
                f"(bench/ocr_interference.py, largest pair: {ocr['interference_rate']:.2f} s): "
                f"{ocr['measured_share'] * 100:.1f}%"
            )
        if "direct_median_share" in ocr:
            print(
                f"  measured directly, the pipeline with and without slide reading "
                f"(bench/ocr_share.py, {ocr['direct_pairs']} pairs, {ocr['direct_measured_at']}): "
                f"median {ocr['direct_median_share'] * 100:+.1f}%, largest "
                f"{ocr['direct_largest_share'] * 100:+.1f}%"
            )
    print("\nfloors (same run):")
    for name, f in result["floors"].items():
        peak = f" peak memory {f['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in f else ""
        print(f"  {name:<14} wall {f['wall']:7.1f} s   CPU {f['cpu']:7.1f} s{peak}")
    if result["ratio_to_floors"] is None:
        print("  (skipped)")
        return
    print(
        f"  {'sum':<14} wall {result['floor_sum_wall']:7.1f} s   CPU {result['floor_sum_cpu']:7.1f} s"
    )
    print(
        f"pipeline / floors: wall {result['ratio_to_floors']:.2f}x, CPU {result['cpu_ratio_to_floors']:.2f}x"
    )


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _share_mark(estimate: float, bound: float, measured: float | None = None,
                direct: tuple[int, float] | None = None) -> str:
    """Met when the CPU-time bound is under the target; or when both measurements of what
    reading costs the wall put it there: the transcriber's delay per CPU-second of reading
    (`bench/ocr_interference.py`, its largest pair) and the whole pipeline with and without
    reading (`bench/ocr_share.py`, the median of `direct` = (pairs, median), at least
    three pairs: a single pair moves by more than the target on a shared machine). The
    estimate from this run alone is not proof."""
    if bound <= TARGET_OCR_SHARE:
        return "met"
    if (measured is not None and measured <= TARGET_OCR_SHARE and direct is not None
            and direct[0] >= 3 and direct[1] <= TARGET_OCR_SHARE):
        return "met, measured (not by the CPU-time bound)"
    if measured is not None and measured <= TARGET_OCR_SHARE:
        return "met by the measured delay (not by the CPU-time bound)"
    return "**estimated under, not bounded**" if estimate <= TARGET_OCR_SHARE else "**missed**"


def _direct(ocr: dict[str, Any]) -> tuple[int, float] | None:
    if "direct_median_share" not in ocr:
        return None
    return ocr["direct_pairs"], ocr["direct_median_share"]


def write_docs(results: dict[str, Any], path: Path = DOCS_MD) -> None:
    """The figures table (the lead copies it into the README)."""
    base = results.get("60")
    long = results.get("180")
    lines = [
        "# Benchmarks",
        "",
        "Produced by `uv run python bench/bench_pipeline.py` (`--minutes 180` for the "
        "3-hour row); raw figures in `bench/out/pipeline.json`. The machine is shared by "
        "several engineers: the load average and the cores other processes kept busy "
        "during each run are given, and CPU times are the steadier figures.",
        "",
    ]
    for _minutes, r in sorted(results.items(), key=lambda kv: float(kv[0])):
        p, m, lec = r["pipeline"], r["machine"], r["lecture"]
        lines += [
            f"## {lec['minutes']:.0f}-minute lecture ({lec['size']}, {lec['bytes'] / 1e6:.0f} MB, "
            f"{lec.get('words_per_minute', '?')} words a minute)",
            "",
            f"Measured {r['measured_at']} on {m['cores']} cores; load average "
            f"{m['load_avg_min']}-{m['load_avg_max']} (mean {m['load_avg_mean']}); other "
            f"processes kept {m['other_cores_busy']} cores busy on average.",
            "",
            "| stage | wall s | CPU s | peak RSS while it ran, MB |",
            "|---|---:|---:|---:|",
        ]
        for stage, s in r["stages"].items():
            lines.append(f"| {stage} | {s['wall']:.1f} | {s['cpu']:.1f} | {s['peak_rss_mb']} |")
        lines += [
            f"| **pipeline total** | **{p['total_wall']:.1f}** | "
            f"{p['stage_cpu'] + p['orchestration_cpu'] + p['prefect_server_cpu']:.1f} | "
            f"{p['peak_rss_mb']} |",
            "",
            "| floor (same run) | wall s | CPU s |",
            "|---|---:|---:|",
        ]
        names = {
            "audio_decode": "ffmpeg audio decode",
            "video_decode": "ffmpeg video decode (fps=2, 256 px)",
            "transcription": "local transcription alone",
            "render": "bare ffmpeg renders of the clips",
        }
        for name, f in r["floors"].items():
            lines.append(f"| {names.get(name, name)} | {f['wall']:.1f} | {f['cpu']:.1f} |")
        if r["floors"]:
            lines.append(
                f"| **sum of floors** | **{r['floor_sum_wall']:.1f}** | {r['floor_sum_cpu']:.1f} |"
            )
        else:
            lines.append("| not measured in this run (`--skip-floors`) | | |")
        lines += [
            "",
            "Peak RSS is this process plus its ffmpeg children while the stage ran; the "
            "analysis branches run at once and share their peaks. The Whisper model and the "
            "OCR sessions are dropped when their stages end.",
            "",
            f"Prefect overhead (total minus the time any stage ran): {p['prefect_overhead_wall']:.1f} s "
            f"= {p['prefect_overhead_share'] * 100:.1f}% ({p['before_first_stage']:.1f} s of it before the "
            f"first stage, mostly starting the ephemeral API server); orchestration CPU "
            f"{p['orchestration_cpu']:.1f} s in-process + {p['prefect_server_cpu']:.1f} s in the API "
            f"server (its memory, {p['prefect_server_peak_rss_mb']} MB, is not in the peak above; "
            f"the whole process tree peaked at {p.get('tree_peak_rss_mb', '?')} MB).",
            "",
        ]
        ocr = r.get("slide_reading")
        if ocr:
            lines += [
                f"Slide reading (layout branch): {ocr['pictures_read']} pictures read "
                f"({ocr['part_reads']} in part) for {ocr['spans']} spans between slide changes; "
                f"OCR {ocr['ocr_cpu']:.1f} CPU-s ({ocr['ocr_cpu_per_picture']:.2f} a picture), "
                f"taking the pictures {ocr['picture_cpu']:.1f} CPU-s. Its share of the wall: "
                f"at most {ocr['cpu_bound_share'] * 100:.1f}% by its CPU time"
                + (
                    f"; transcription took {ocr['transcription_delay']:.1f} s longer than alone "
                    f"(the whole branch's cost, {ocr['delay_bound_share'] * 100:.1f}% of the wall "
                    f"when capped by reading's CPU); charged by reading's share of the branch's "
                    f"CPU, {ocr['estimated_share'] * 100:.1f}% of the wall"
                    if "estimated_share" in ocr
                    else ""
                )
                + (
                    f"; at the transcriber's delay per CPU-second of reading measured by "
                    f"`bench/ocr_interference.py` (largest pair, {ocr['interference_rate']:.2f} s), "
                    f"{ocr['measured_share'] * 100:.1f}%"
                    if "measured_share" in ocr
                    else ""
                )
                + (
                    f"; measured directly, the whole pipeline with and without slide reading "
                    f"(`bench/ocr_share.py`, {ocr['direct_pairs']} pairs, {ocr['direct_measured_at']}): "
                    f"median {ocr['direct_median_share'] * 100:+.1f}%, largest "
                    f"{ocr['direct_largest_share'] * 100:+.1f}%."
                    if "direct_median_share" in ocr
                    else "."
                ),
                "",
            ]
    lines += ["## Targets", "", "| target | measured | status |", "|---|---|---|"]
    if base:
        p = base["pipeline"]
        lines.append(
            f"| 60-min lecture ≤ {TARGET_MINUTES_60:g} min, local transcriber, 2 cores | "
            f"{p['total_wall'] / 60:.2f} min | {_mark(p['total_wall'] <= TARGET_MINUTES_60 * 60)} |"
        )
        ratio, cpu_ratio = base["ratio_to_floors"], base["cpu_ratio_to_floors"]
        lines.append(
            f"| total within {TARGET_FLOOR_RATIO}x of the floors | "
            + (
                f"{ratio:.2f}x wall, {cpu_ratio:.2f}x CPU | {_mark(ratio <= TARGET_FLOOR_RATIO)} |"
                if ratio is not None
                else "floors not measured | n/a |"
            )
        )
        lines.append(
            f"| Prefect overhead < {TARGET_PREFECT_SHARE * 100:.0f}% | "
            f"{p['prefect_overhead_share'] * 100:.1f}% | "
            f"{_mark(p['prefect_overhead_share'] < TARGET_PREFECT_SHARE)} |"
        )
        tree = p.get("tree_peak_rss_mb")
        lines.append(
            f"| whole process tree ≤ {TARGET_TREE_MB / 1024:.1f} GB (Prefect's server included) | "
            f"{tree} MB | {_mark(None if tree is None else tree <= TARGET_TREE_MB)} |"
        )
        ocr = base.get("slide_reading") or {}
        if "estimated_share" in ocr:
            lines.append(
                f"| slide reading ≤ {TARGET_OCR_SHARE * 100:.0f}% of the 60-min wall | "
                f"{ocr['estimated_share'] * 100:.1f}% charged by CPU share"
                + (f", {ocr['measured_share'] * 100:.1f}% at the measured delay per CPU-second"
                   if "measured_share" in ocr else "")
                + (f", {ocr['direct_median_share'] * 100:+.1f}% measured directly (median of "
                   f"{ocr['direct_pairs']} pairs, largest {ocr['direct_largest_share'] * 100:+.1f}%)"
                   if "direct_median_share" in ocr else "")
                + f" (at most {ocr['delay_bound_share'] * 100:.1f}% by CPU time) | "
                f"{_share_mark(ocr['estimated_share'], ocr['delay_bound_share'], ocr.get('measured_share'), _direct(ocr))} |"
            )
    time_target = f"| 3-hour lecture ≤ {TARGET_LONG_RATIO:g}x the 60-min time |"
    tree_target = f"| 3-hour lecture: whole process tree ≤ {TARGET_LONG_TREE_MB / 1024:.1f} GB |"
    if base and long:
        t = long["pipeline"]["total_wall"] / base["pipeline"]["total_wall"]
        c = long["pipeline"]["stage_cpu"] / base["pipeline"]["stage_cpu"]
        tree = long["pipeline"].get("tree_peak_rss_mb")
        lines.append(f"{time_target} {t:.2f}x wall ({c:.2f}x CPU) | {_mark(t <= TARGET_LONG_RATIO)} |")
        lines.append(
            f"{tree_target} {tree} MB | "
            f"{_mark(None if tree is None else tree <= TARGET_LONG_TREE_MB)} |"
        )
    else:
        lines.append(f"{time_target} not run yet (`--minutes 180`) | n/a |")
        lines.append(f"{tree_target} not run yet | n/a |")
    if path.exists() and NOTES_HEADING in path.read_text():
        # The hand-written analysis below the figures is kept across runs.
        lines += ["", NOTES_HEADING + path.read_text().split(NOTES_HEADING, 1)[1].rstrip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def load_results() -> dict[str, Any]:
    return json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, default=60.0, help="length of the generated lecture"
    )
    parser.add_argument("--source", type=Path, help="benchmark this recording instead")
    parser.add_argument(
        "--synthesize",
        action="store_true",
        help="synthesize a lecture longer than an hour instead of looping the 60-minute one",
    )
    parser.add_argument("--skip-floors", action="store_true")
    parser.add_argument("--docs-only", action="store_true", help="rewrite the table from the JSON")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()

    if args.docs_only:
        results = load_results()
        for result in results.values():  # a direct measurement may have come since
            if result.get("slide_reading"):
                result["slide_reading"] |= direct_measurement(Path(result["lecture"]["path"]).name)
        RESULTS_JSON.write_text(json.dumps(results, indent=1) + "\n")
        write_docs(results)
        print(f"wrote {DOCS_MD}")
        return 0
    lecture = args.source.resolve() if args.source else lecture_for(args.minutes, args.synthesize)
    began = time.perf_counter()
    # Per process: a second benchmark started meanwhile must not wipe this one's files.
    run_dir = OUT / f"run-{os.getpid()}"
    run = run_pipeline(lecture, run_dir)
    floors = (
        {}
        if args.skip_floors
        else run_floors(run["settings"], run["job_id"], lecture, OUT / f"floors-{os.getpid()}")
    )
    result = build_result(lecture, run, floors, began, time.perf_counter())
    print_result(result)
    if not args.source:
        results = load_results()
        results[f"{args.minutes:g}"] = result
        RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(results, indent=1) + "\n")
        log(f"results in {RESULTS_JSON}")
        if not args.no_docs:
            write_docs(results)
            log(f"table in {DOCS_MD}")
    shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
