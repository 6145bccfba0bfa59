"""One retryable Prefect task per pipeline stage.

Each stage module has a plain `run(ctx)` function that loads its inputs, calls the core
(`highlights`), and persists its rows in one transaction; `tasks.prefect_tasks` wraps
them as Prefect tasks with retries, timeouts and the state hooks that write
`processing_logs`.
"""
