"""A real PostgreSQL for the tests: the installed server binaries, a cluster in a temporary
directory, a unix socket only (no TCP port: nothing else on the machine can reach it), torn
down when the session ends. Started once per session; each test gets its own schema.

As root (CI, this machine) ``initdb`` refuses to run, so the cluster belongs to the
``postgres`` system user the Debian package creates, and its commands run through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin", "/usr/bin")


def find_bin_dir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are, newest version first; None if not installed."""
    found = shutil.which("pg_ctl")
    candidates = [Path(found).resolve().parent] if found else []
    for pattern in SEARCH:
        candidates += [Path(p) for p in sorted(glob.glob(pattern), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists() and (folder / "postgres").exists():
            return folder
    return None


@dataclass
class PgServer:
    bin_dir: Path
    root: Path
    port: int
    user: str = "shouhu"
    database: str = "shouhu"

    @property
    def socket_dir(self) -> Path:
        return self.root

    def url(self, database: str | None = None, search_path: str | None = None) -> str:
        url = f"postgresql://{self.user}@/{database or self.database}?host={quote(str(self.root))}&port={self.port}"
        if search_path:
            url += "&options=" + quote(f"-c search_path={search_path}")
        return url

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        data = self.root / "data"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        init = self._run(
            self.bin_dir / "initdb", "-D", data, "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-locale", "-N"
        )
        if init.returncode:
            raise RuntimeError(f"initdb failed: {init.stderr.strip()[-500:]}")
        options = (
            f"-k {self.root} -c listen_addresses= -p {self.port} -c fsync=off -c full_page_writes=off "
            "-c synchronous_commit=off -c max_connections=200"
        )
        started = self._run(
            self.bin_dir / "pg_ctl",
            "-D",
            data,
            "-l",
            self.root / "server.log",
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )
        if started.returncode:
            log = (self.root / "server.log").read_text(errors="replace")[-800:]
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()[-300:]} {log}")
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.database}")

    def stop(self) -> None:
        self._run(self.bin_dir / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def new_schema(self) -> str:
        import psycopg

        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return name

    def drop_schema(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    def new_database(self) -> str:
        import psycopg

        name = f"db_{secrets.token_hex(6)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name


def start_server() -> PgServer | str:
    """A running server, or the reason there is none (to skip with)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed (apt-get install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: initdb refuses root"
    root = Path(tempfile.mkdtemp(prefix="shouhu-pg-"))
    server = PgServer(bin_dir, root, port=20000 + secrets.randbelow(40000))
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired, LookupError) as exc:
        server.stop()
        return f"the PostgreSQL test server did not start: {exc}"
    return server
