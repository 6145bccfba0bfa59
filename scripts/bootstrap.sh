#!/usr/bin/env bash
# Shared set-up for a fresh machine, sourced by scripts/demo.sh and scripts/test.sh:
# `bootstrap [uv sync options]` installs uv if missing, then the locked environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export UV_PYTHON_DOWNLOADS=never   # use the machine's Python; nothing fetched from outside registries
export PREFECT_SERVER_ANALYTICS_ENABLED=false

bootstrap() {
    if ! command -v uv >/dev/null 2>&1; then
        echo "==> installing uv (the Python package manager this project locks with)" >&2
        python3 -m pip install --quiet --user uv >&2 2>/dev/null || python3 -m pip install --quiet uv >&2
        export PATH="$HOME/.local/bin:$PATH"
    fi
    echo "==> installing the locked dependencies" >&2
    uv sync --frozen "$@" >&2
}
