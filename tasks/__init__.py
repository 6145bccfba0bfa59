"""One retryable Prefect task per pipeline stage.

Each stage module declares its stage once (`STAGE`, a `tasks.stage.Stage`), has a plain
`run(ctx)` function that loads its inputs, calls the core (`highlights`) and persists its
rows in one transaction, and a module-level Prefect task that takes the job id and calls
`run`. `flows.stages` collects them and configures each run's retries, timeouts and the
state hooks that write `processing_logs`.
"""

import os

# Defaults for running on a laptop, set before Prefect reads its settings; an operator's
# own values win. Telemetry lookups fail offline, and a busy 2-core machine can take
# longer than Prefect's default 20 s to start the ephemeral API server.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
