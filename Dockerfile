# The application image: API, Prefect server and worker, S3 bridge (docker-compose.yml
# runs each from it with a different command). Dependencies come from uv.lock only.
FROM python:3.11-slim

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /usr/local/bin/

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# Run as an unprivileged user; it owns only what it writes (Prefect's home, work files).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin highlights \
    && mkdir -p /tmp/highlights-work \
    && chown highlights /tmp/highlights-work
USER highlights

ENV PATH=/app/.venv/bin:$PATH \
    PREFECT_HOME=/home/highlights/.prefect \
    HIGHLIGHTS_WORK_DIR=/tmp/highlights-work

EXPOSE 8000 4200 8500
CMD ["highlights", "serve", "--host", "0.0.0.0", "--port", "8000"]
