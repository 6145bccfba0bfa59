#!/bin/sh
# Prepare a fresh stack, safely repeatable: migrate the highlights database, create the
# process work pool, register the deployments of prefect.yaml (with the S3 trigger and
# the schedules). Run from the project folder with PREFECT_API_URL set.
set -eu
POOL=highlights-process  # the work_pool of every deployment in prefect.yaml

highlights db upgrade
if ! prefect work-pool inspect "$POOL" >/dev/null 2>&1; then
    prefect work-pool create "$POOL" --type process
fi
prefect deploy --all --no-prompt
