#!/usr/bin/env bash
# Run the test suite against real services: a throwaway PostgreSQL from the machine's
# server binaries and an S3 server on loopback (both started by the tests themselves).
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing the PostgreSQL server binaries (tests start their own server)" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "warning: PostgreSQL server binaries not found; the PostgreSQL half of the tests will be skipped" >&2
    fi
fi
exec uv run --no-sync pytest "$@"
