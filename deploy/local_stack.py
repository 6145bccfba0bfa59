"""Run the compose stack's application services as local processes (no Docker).

    uv run python -m deploy.local_stack up            # all of them, until Ctrl-C
    uv run python -m deploy.local_stack up --only prefect-server worker

The commands are those of docker-compose.yml (`deploy/services.py` holds both), with
the settings of `deploy/stack.env`; the addresses point at localhost instead of the
compose service names. PostgreSQL (databases `highlights` and `prefect`) and an S3
server (MinIO) are yours to run; see docs/deploy.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from deploy.services import (
    APP_SERVICES,
    ONE_SHOT,
    PROJECT_DIR,
    STACK_ENV,
    Endpoints,
    Ports,
    local_endpoints,
    read_env_file,
)

DEFAULT_LOG_DIR = Path(tempfile.gettempdir()) / "highlights-stack-logs"


class StackError(RuntimeError):
    """A service did not start; the message names it and quotes the end of its log."""


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2.0).status_code < 500
    except httpx.HTTPError:
        return False


def stack_env(
    endpoints: Endpoints,
    overrides: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment every service process gets: stack.env, addresses, then overrides."""
    env = dict(os.environ if base is None else base)
    env.update(read_env_file(STACK_ENV))
    env.update(endpoints.env())
    env.update(overrides or {})
    # The project's own tools (prefect, highlights, python) come first, as in the image.
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class LocalStack:
    endpoints: Endpoints
    ports: Ports = field(default_factory=lambda: Ports(host="127.0.0.1"))
    overrides: dict[str, str] = field(default_factory=dict)
    log_dir: Path = field(default_factory=lambda: DEFAULT_LOG_DIR)
    project_dir: Path = PROJECT_DIR
    start_timeout: float = 240.0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return stack_env(self.endpoints, self.overrides)

    def log_path(self, service: str) -> Path:
        return self.log_dir / f"{service}.log"

    def _spawn(self, service: str) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path(service), "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        process = subprocess.Popen(
            self.ports.command(service), cwd=self.project_dir, env=self.env, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() also ends flow-run children
        )  # fmt: skip
        self.processes[service] = process
        return process

    def _ready(self, service: str) -> bool:
        host = self.ports.host if self.ports.host not in ("0.0.0.0", "") else "127.0.0.1"
        if service == "prefect-server":
            return _http_ok(f"http://{host}:{self.ports.prefect_port}/api/health")
        if service == "bridge":
            return _http_ok(f"http://{host}:{self.ports.bridge_port}/")
        if service == "api":
            # an answer, not an open port: the port may be open before the app serves
            return _http_ok(f"http://{host}:{self.ports.api_port}/health")
        return True  # the worker has no endpoint: running is ready

    def _wait(self, service: str, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            code = process.poll()
            if service in ONE_SHOT:
                if code == 0:
                    return
                if code is not None:
                    raise StackError(
                        f"{service} failed (exit {code}):\n{_tail(self.log_path(service))}"
                    )
            elif code is not None:
                raise StackError(
                    f"{service} exited at start (exit {code}):\n{_tail(self.log_path(service))}"
                )
            elif self._ready(service):
                return
            time.sleep(0.5)
        raise StackError(
            f"{service} not ready after {self.start_timeout:.0f} s:\n"
            f"{_tail(self.log_path(service))}"
        )

    def start(self, services: Iterable[str] = APP_SERVICES) -> LocalStack:
        wanted = list(services)
        unknown = set(wanted) - set(APP_SERVICES)
        if unknown:
            raise StackError(
                f"unknown service(s) {', '.join(sorted(unknown))}; "
                f"choose from {', '.join(APP_SERVICES)}"
            )
        try:
            for service in APP_SERVICES:  # always in dependency order
                if service in wanted:
                    self._wait(service, self._spawn(service))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 20.0) -> None:
        for service in reversed(list(self.processes)):
            process = self.processes.pop(service)
            if process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
            except ProcessLookupError:
                pass
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local_stack",
        description="Run the stack's services as local processes.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the services and keep them running until Ctrl-C")
    up.add_argument(
        "--only",
        nargs="+",
        choices=APP_SERVICES,
        default=list(APP_SERVICES),
        help="start only these services (dependency order is kept)",
    )
    up.add_argument("--postgres", default="127.0.0.1:5432", help="HOST:PORT of PostgreSQL")
    up.add_argument("--s3-endpoint", default="http://127.0.0.1:9000", help="S3/MinIO endpoint URL")
    up.add_argument("--prefect-port", type=int, default=4200)
    up.add_argument("--bridge-port", type=int, default=8500)
    up.add_argument("--api-port", type=int, default=8000)
    up.add_argument("--log-dir", type=Path, default=DEFAULT_LOG_DIR)
    args = parser.parse_args(argv)

    user = read_env_file(STACK_ENV).get("POSTGRES_USER", "highlights")
    stack = LocalStack(
        endpoints=local_endpoints(args.postgres, args.s3_endpoint, args.prefect_port, user),
        ports=Ports(host="127.0.0.1", prefect_port=args.prefect_port,
                    bridge_port=args.bridge_port, api_port=args.api_port),
        log_dir=args.log_dir,
    )  # fmt: skip
    stopping = False

    def _terminate(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _terminate)
    try:
        stack.start(args.only)
        print(
            f"running: {', '.join(stack.processes)}; logs in {args.log_dir}; Ctrl-C stops",
            flush=True,
        )
        while not stopping:
            for service, process in list(stack.processes.items()):
                if service not in ONE_SHOT and process.poll() is not None:
                    raise StackError(
                        f"{service} stopped (exit {process.returncode}):\n"
                        f"{_tail(stack.log_path(service))}"
                    )
            time.sleep(1.0)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
