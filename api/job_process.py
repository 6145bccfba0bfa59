"""`python -m api.job_process JOB_ID [--resume]`: run one job's flow in its own process.

The API's local runner starts one of these per job (in a process group of its own), so a
job's memory (speech models, decoded frames) is returned when it ends, a crashing native
library cannot take the server down, and stopping the server can stop a job at once.
Settings come from the environment, as for every flow run.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    # Before Prefect is imported: no telemetry, quiet console (as the CLI does).
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    parser = argparse.ArgumentParser(prog="api.job_process", description=__doc__)
    parser.add_argument("job_id")
    parser.add_argument("--resume", action="store_true", help="Reuse completed stages.")
    args = parser.parse_args(argv)

    from api.launcher import mark_not_started
    from flows.lecture import process_lecture
    from highlights.settings import load_settings
    from tasks.errors import one_line

    try:
        process_lecture(job_id=args.job_id, resume=args.resume)
    except Exception as exc:  # the flow has recorded the failing stage on the job row...
        print(f"job {args.job_id} did not complete: {one_line(exc)}", file=sys.stderr)
        # ...unless it failed before reaching any stage (settings, database, a missing job).
        mark_not_started(load_settings(), args.job_id, f"could not start: {one_line(exc)}")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a module by the launcher
    sys.exit(main())
