"""Real services for tests: a throwaway PostgreSQL server and an S3-compatible server.

Both run on loopback for one pytest session; fixtures in conftest.py wrap them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceUnavailable(RuntimeError):
    """A test service cannot run on this machine; the message says why (used as skip reason)."""


def find_pg_bin() -> Path:
    """The folder with initdb and pg_ctl: PATH first, then Debian's versioned folders."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    for folder in sorted(glob.glob(PG_BIN_GLOB), reverse=True):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise ServiceUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) are not installed "
        f"(not on PATH nor in {PG_BIN_GLOB}); install the postgresql package"
    )


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster in a temp folder, on a free loopback port."""

    bin_dir: Path
    root: Path
    port: int
    run_as: str | None  # system user that owns the cluster when the tests run as root
    superuser: str = "postgres"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = (
                self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            )
            raise ServiceUnavailable(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()[-1500:]} {log}"
            )

    def start(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            for path in (self.root, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            self.superuser,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        # Durability settings off: a test cluster is thrown away, speed matters.
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=100"
        )
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options, "-w",
            "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        with suppress(ServiceUnavailable, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")

    def _admin(self, sql: str) -> None:
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.superuser, dbname="postgres"
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def reset_database(self, name: str, tables: list[str]) -> None:
        """Empty `tables` in `name` for the next test, whatever the last test left open.

        Connections a test leaked (an engine it never disposed, a transaction left open)
        would block TRUNCATE, so they are ended first; pools reconnect (pre-ping).
        """
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.superuser, dbname=name
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        finally:
            connection.close()

    def create_database(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        suffix = f" TEMPLATE {template}" if template else ""
        self._admin(f"CREATE DATABASE {name}{suffix}")
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a throwaway cluster; stop it and delete its files afterwards."""
    bin_dir = find_pg_bin()
    run_as = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            run_as = pwd.getpwnam("postgres").pw_name
        except KeyError:
            raise ServiceUnavailable(
                "tests run as root and there is no 'postgres' system user to own the cluster"
            ) from None
        if not shutil.which("runuser"):
            raise ServiceUnavailable("tests run as root and runuser is missing")
    root = Path(tempfile.mkdtemp(prefix="highlights-pg-"))
    server = PostgresServer(bin_dir=bin_dir, root=root, port=free_port(), run_as=run_as)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class S3Server:
    endpoint_url: str
    bucket: str
    region: str = "us-east-1"
    access_key: str = "test"
    secret_key: str = "test"

    def env(self, prefix: str) -> dict[str, str]:
        """The environment a process needs to use this server as its object store."""
        return {
            "HIGHLIGHTS_STORAGE_URL": f"s3://{self.bucket}/{prefix}",
            "HIGHLIGHTS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def client(self):  # noqa: ANN201 - a boto3 S3 client
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )


@contextmanager
def running_s3(bucket: str = "highlights-test") -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, with one bucket created."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = S3Server(endpoint_url=f"http://127.0.0.1:{port}", bucket=bucket)
        s3.client().create_bucket(Bucket=bucket)
        yield s3
    finally:
        server.stop()


def add_sample_job(session, job_id: str | None = None, *, status: str = "completed"):  # noqa: ANN001, ANN201
    """A job with one or more rows in each of the six child tables (for DB tests)."""
    import db.models as orm
    from db.models import new_id

    job_id = job_id or new_id("job")
    job = orm.Job(
        job_id=job_id,
        filename="lecture.mp4",
        file_size=3 * 1024**3,  # above 2 GiB: needs the BIGINT column
        content_type="video/mp4",
        original_s3_key=f"uploads/{job_id}/lecture.mp4",
        status=status,
    )
    session.add(job)
    session.flush()
    segment = orm.ContentSegment(
        job_id=job_id,
        start_time=120.0,
        end_time=180.0,
        duration=60.0,
        topic="Binary Search Trees",
        importance_score=0.92,
        keywords=["binary tree"],
        segment_order=1,
    )
    session.add_all(
        [
            orm.TranscriptRow(
                job_id=job_id, start_time=10.5, end_time=15.2, text="Today we discuss trees."
            ),
            orm.SilenceRow(
                job_id=job_id, start_time=30.0, end_time=33.0, duration=3.0, silence_type="both"
            ),
            orm.LayoutAnalysis(
                job_id=job_id,
                screen_region={"x": 0, "y": 0, "width": 0.7, "height": 1.0},
                camera_region={"x": 0.7, "y": 0, "width": 0.3, "height": 1.0},
                split_ratio=0.7,
                layout_type="side_by_side",
            ),
            segment,
            orm.ProcessingLog(job_id=job_id, stage="uploading", status="completed"),
        ]
    )
    session.flush()
    session.add(
        orm.Clip(
            job_id=job_id,
            content_segment_id=segment.segment_id,
            title="Binary Search Trees",
            start_time=120.0,
            end_time=180.0,
            duration=60.0,
            s3_key=f"results/{job_id}/clip_001.mp4",
            clip_order=1,
        )
    )
    session.flush()
    return job
