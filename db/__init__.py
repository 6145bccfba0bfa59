"""The database layer: the seven tables (`models`), engines and sessions (`engine`),
Alembic migrations (`migrate`), job state changes (`jobstate`), and the queries and
loaders the stages, the API and the CLI share (`queries`).

Import the submodule you need; this package imports nothing, so loading one part (the
CLI's quick input check, say) does not load Alembic.
"""
