#!/usr/bin/env bash
# Run the test suite against real services: a throwaway PostgreSQL from the machine's
# server binaries and an S3 server on loopback (both started by the tests themselves).
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
bootstrap

# System packages the tests drive for real: PostgreSQL's server binaries (the tests start
# a throwaway server), Chromium (the results-page browser test) and espeak-ng (the
# lecture generator's own test). Installed from Debian when missing and we are root.
missing=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql)
fi
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing ${missing[*]} from Debian" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 \
            || echo "warning: could not install ${missing[*]}; the tests that need them will be skipped" >&2
    else
        echo "warning: not installed: ${missing[*]}; the tests that need them will be skipped" >&2
    fi
fi
exec uv run --no-sync pytest "$@"
