"""The heap arena cap of a pipeline process (highlights.memory.limit_heap_arenas).

Each case runs in a fresh interpreter, as the cap only acts on arenas created after it:
eight threads allocate and stay alive together, then glibc's `malloc_stats` lists the
process's arenas on stderr.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

THREADS_ALLOCATING = textwrap.dedent(
    """
    import ctypes, importlib, sys, threading
    from highlights.memory import limit_heap_arenas

    if sys.argv[1].startswith("import "):  # an entry point caps the arenas on import
        importlib.import_module(sys.argv[1].split()[1])
        capped = None
    else:
        capped = limit_heap_arenas() if sys.argv[1] == "cap" else False
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    together = threading.Barrier(9)

    def work():
        held = [libc.malloc(64 * 1024) for _ in range(16)]  # below the mmap threshold
        together.wait()  # every thread alive at once: none can take over a freed arena
        together.wait()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    together.wait()
    sys.stderr.flush()
    libc.malloc_stats()
    together.wait()
    for t in threads:
        t.join()
    print("capped" if capped else "not capped")
    """
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="heap arenas and mallopt are glibc's: Linux only")


def arenas_used(mode: str, **env: str) -> tuple[int, str]:
    run_env = {k: v for k, v in os.environ.items()
               if k not in ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", THREADS_ALLOCATING, mode], cwd=REPO, env={**run_env, **env},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return len(re.findall(r"^Arena \d+:", done.stderr, re.MULTILINE)), done.stdout.strip()


def test_a_capped_process_keeps_to_two_arenas_while_eight_threads_allocate():
    uncapped, said = arenas_used("no cap")
    assert said == "not capped"
    assert uncapped > 2  # what the cap is for: one arena per allocating thread

    capped, said = arenas_used("cap")
    assert said == "capped"
    assert capped <= 2


def test_a_limit_the_user_set_is_kept():
    arenas, said = arenas_used("cap", MALLOC_ARENA_MAX="4")
    assert said == "not capped"
    assert 2 < arenas <= 4


@pytest.mark.parametrize("entry", ["cli.main", "flows.lecture"])
def test_the_pipeline_entry_points_cap_the_arenas(entry):
    arenas, _said = arenas_used(f"import {entry}")
    assert arenas <= 2
