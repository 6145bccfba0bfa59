#!/usr/bin/env bash
# Process the shipped sample lecture on the embedded defaults (SQLite, local folder,
# Prefect ephemeral mode, local transcriber and analyzer). Extra arguments go to
# `highlights demo` (e.g. --json).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
bootstrap --no-dev --inexact
exec uv run --no-sync highlights demo "$@"
