"""The application services of the stack, described once for both ways of running it.

docker-compose.yml runs these commands in containers of the application image; the
local launcher (`deploy/local_stack.py`) runs the very same commands as processes.
Both read `deploy/stack.env`; only the addresses differ (`Endpoints`), so the compose
file states `COMPOSE` and tests/test_deployments.py checks the two stay in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent
PROJECT_DIR = DEPLOY_DIR.parent
STACK_ENV = DEPLOY_DIR / "stack.env"
WORK_POOL = "highlights-process"  # the work pool of every deployment in prefect.yaml

# Start order; `register` runs once and must succeed before the worker starts.
APP_SERVICES = ("prefect-server", "register", "worker", "bridge", "api")
ONE_SHOT = frozenset({"register"})

COMMANDS: dict[str, tuple[str, ...]] = {
    "prefect-server": ("prefect", "server", "start", "--host", "{host}", "--port", "{prefect_port}"),
    "register": ("sh", "deploy/register.sh"),
    "worker": ("prefect", "worker", "start", "--pool", WORK_POOL, "--type", "process", "--limit", "2"),
    "bridge": ("python", "-m", "bridge.webhook", "--host", "{host}", "--port", "{bridge_port}"),
    "api": ("highlights", "serve", "--host", "{host}", "--port", "{api_port}"),
}  # fmt: skip


@dataclass(frozen=True)
class Ports:
    host: str = "0.0.0.0"
    prefect_port: int = 4200
    bridge_port: int = 8500
    api_port: int = 8000

    def command(self, service: str) -> list[str]:
        values = {"host": self.host, "prefect_port": self.prefect_port,
                  "bridge_port": self.bridge_port, "api_port": self.api_port}  # fmt: skip
        return [part.format(**values) for part in COMMANDS[service]]


@dataclass(frozen=True)
class Endpoints:
    """Where the application processes find the stack's services.

    Database passwords are not part of the URLs: both drivers (psycopg2 and Prefect's
    asyncpg) read PGPASSWORD, which stack.env sets once for everyone.
    """

    database_url: str
    prefect_database_url: str
    prefect_api_url: str
    s3_endpoint_url: str
    ui_api_url: str  # the API address the Prefect UI uses from the user's browser

    def env(self) -> dict[str, str]:
        return {
            "HIGHLIGHTS_DATABASE_URL": self.database_url,
            "PREFECT_API_DATABASE_CONNECTION_URL": self.prefect_database_url,
            "PREFECT_API_URL": self.prefect_api_url,
            "HIGHLIGHTS_S3_ENDPOINT_URL": self.s3_endpoint_url,
            "PREFECT_UI_API_URL": self.ui_api_url,
        }


# Inside the compose network every service is reached by its service name.
COMPOSE = Endpoints(
    database_url="postgresql://highlights@postgres:5432/highlights",
    prefect_database_url="postgresql+asyncpg://highlights@postgres:5432/prefect",
    prefect_api_url="http://prefect-server:4200/api",
    s3_endpoint_url="http://minio:9000",
    ui_api_url="http://localhost:4200/api",  # the port published to the host
)
COMPOSE_PORTS = Ports()


def local_endpoints(
    postgres: str = "127.0.0.1:5432",
    s3: str = "http://127.0.0.1:9000",
    prefect_port: int = 4200,
    user: str = "highlights",
) -> Endpoints:
    """The same layout on one machine: PostgreSQL and an S3 server on localhost."""
    return Endpoints(
        database_url=f"postgresql://{user}@{postgres}/highlights",
        prefect_database_url=f"postgresql+asyncpg://{user}@{postgres}/prefect",
        prefect_api_url=f"http://127.0.0.1:{prefect_port}/api",
        s3_endpoint_url=s3,
        ui_api_url=f"http://127.0.0.1:{prefect_port}/api",
    )


def read_env_file(path: Path = STACK_ENV) -> dict[str, str]:
    """KEY=VALUE lines as docker compose reads an env_file (comments and blanks skipped)."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{path}:{number}: expected NAME=VALUE, got {line!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values
