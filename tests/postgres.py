"""A real PostgreSQL server for tests and benches: the one ``$PROVENANCE_TEST_POSTGRES`` names
(`.ci/run` starts one), else a throwaway cluster made with Debian's binaries on a loopback port.

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` user (made by
Debian's package), else ``nobody``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from .server import free_port

TEST_URL_ENV = "PROVENANCE_TEST_POSTGRES"
_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


def binaries() -> Path | None:
    """The newest installed server's bin directory, if any."""
    found = [d for d in _BIN_DIRS if (d / "initdb").exists() and (d / "pg_ctl").exists()]
    return found[-1] if found else None


def why_unavailable() -> str | None:
    """None when a server can be had; else why not (for the skip message)."""
    if os.environ.get(TEST_URL_ENV) or binaries() is not None:
        return None
    return (
        f"no PostgreSQL: ${TEST_URL_ENV} is unset and no server binaries are in "
        "/usr/lib/postgresql/*/bin (apt-get install postgresql; .ci/run does)"
    )


class Cluster:
    """initdb + pg_ctl in a temporary directory; ``url`` connects as the superuser.

    ``durable=False`` (tests) turns fsync off; benches keep PostgreSQL's durable defaults.
    """

    def __init__(self, *, durable: bool = False) -> None:
        bindir = binaries()
        if bindir is None:
            raise RuntimeError(why_unavailable() or "no PostgreSQL binaries")
        self.bindir = bindir
        self.durable = durable
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="provenance-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            user = "postgres" if _user_exists("postgres") else "nobody"
            command = ["runuser", "-u", user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> Cluster:
        if os.geteuid() == 0:
            user = "postgres" if _user_exists("postgres") else "nobody"
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.data} -c max_connections=200"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def server(*, durable: bool = False) -> Iterator[str]:
    """The URL of a running server: the configured one, else a throwaway cluster."""
    configured = os.environ.get(TEST_URL_ENV)
    if configured:
        yield configured
        return
    cluster = Cluster(durable=durable).start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@contextlib.contextmanager
def schema(url: str) -> Iterator[str]:
    """A fresh, empty schema on the server; the URL that makes it the search path."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")  # type: ignore[arg-type]
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")  # type: ignore[arg-type]
