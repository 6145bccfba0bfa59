"""What a stage needs to run: settings, the database, the object store, a work folder.

Stages run in Prefect task threads and, on a deployment, in other processes or on other
machines, so everything is looked up by job id and storage key; nothing is shared in
memory between stages.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from db.engine import get_engine
from highlights.settings import Settings, load_settings
from highlights.storage import Storage, open_storage, result_key, work_key
from highlights.visual import VisualSamples

# Storage names of the artefacts stages hand to each other.
AUDIO_WAV = "audio-16k.wav"
VISUAL_DIR = "visual"
SLIDES_JSON = "slides.json"
TRANSCRIPT_JSON = "transcript.json"
CLIP_PLAN_JSON = "clip-plan.json"
CHAPTERS_TXT = "chapters.txt"


@dataclass
class StageResult:
    """What a stage reports back for its `completed` log row (never media)."""

    agent_name: str
    rows: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"agent_name": self.agent_name, "rows": self.rows, "metadata": self.metadata}


@dataclass
class StageContext:
    job_id: str
    settings: Settings = field(default_factory=load_settings)

    @cached_property
    def engine(self) -> Engine:
        return get_engine(self.settings)

    @cached_property
    def storage(self) -> Storage:
        return open_storage(self.settings)

    @property
    def work_dir(self) -> Path:
        """This job's scratch folder on this machine; removed when the job ends."""
        path = self.settings.work_dir / self.job_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def scratch(self, name: str) -> Path:
        path = self.work_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def fetch(self, key: str, name: str | None = None) -> Path:
        """A local copy of a stored object, downloaded once per machine and job."""
        local = self.scratch(name or "fetched/" + key.replace("/", "__"))
        if not local.exists() or local.stat().st_size != self.storage.size(key):
            self.storage.get_file(key, local)
        return local

    def fetch_prefix(self, prefix: str, folder: str) -> Path:
        """Download every object under `prefix` into a local folder (a multi-file artefact)."""
        target = self.scratch(folder)
        target.mkdir(parents=True, exist_ok=True)
        for key in self.storage.list(prefix):
            relative = key[len(prefix):].lstrip("/")
            local = target / relative
            if not local.exists() or local.stat().st_size != self.storage.size(key):
                local.parent.mkdir(parents=True, exist_ok=True)
                self.storage.get_file(key, local)
        return target

    def put_folder(self, folder: Path, prefix: str) -> list[str]:
        keys = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            keys.append(self.storage.put_file(path, f"{prefix}/{path.relative_to(folder).as_posix()}"))
        return keys

    def work_key(self, name: str) -> str:
        return work_key(self.job_id, name)

    def result_key(self, name: str) -> str:
        return result_key(self.job_id, name)

    def put_json(self, key: str, data: Any) -> str:
        payload = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
        return self.storage.put_bytes(payload, key, content_type="application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.storage.read_bytes(key).decode("utf-8"))

    def remove_work_dir(self) -> None:
        shutil.rmtree(self.settings.work_dir / self.job_id, ignore_errors=True)


def stored_audio(ctx: StageContext) -> Path | None:
    """The job's 16 kHz mono WAV on this machine, or None when the lecture has no audio."""
    key = ctx.work_key(AUDIO_WAV)
    if not ctx.storage.exists(key):
        return None
    return ctx.fetch(key, AUDIO_WAV)


def stored_visual(ctx: StageContext) -> VisualSamples | None:
    """The job's visual samples, or None when the recording has no video."""
    prefix = ctx.work_key(VISUAL_DIR) + "/"
    if not ctx.storage.list(prefix):
        return None
    return VisualSamples.load(ctx.fetch_prefix(prefix, VISUAL_DIR))
