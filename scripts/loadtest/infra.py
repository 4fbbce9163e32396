"""Private PostgreSQL and Redis for one load-test run, on free ports in a temporary folder.

Private so that the fault run can restart PostgreSQL and stop Redis without
touching anybody else's (the machine's shared servers keep running).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


def _pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if os.environ.get("PG_BIN"):
        candidates.append(os.path.join(os.environ["PG_BIN"], name))
    path = candidates[-1] if candidates else shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL's {name} not found (set PG_BIN)")
    return path


class PrivatePostgres:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.datadir = workdir / "pg"
        self.logfile = workdir / "pg.log"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/physiobook"
        # PostgreSQL refuses to run as root: run it as the postgres user then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _ctl(self, *args: str) -> None:
        subprocess.run([*self._as, _pg_bin("pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile), *args],
                       check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        if not self.datadir.exists():
            self.datadir.mkdir(parents=True)
            if self._as:
                shutil.chown(self.datadir.parent, "postgres")
                shutil.chown(self.datadir, "postgres")
            subprocess.run([*self._as, _pg_bin("initdb"), "-D", str(self.datadir), "-U", "postgres",
                            "--auth=trust", "-E", "UTF8", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} -c max_connections=100"
        self._ctl("-o", opts, "-w", "start")
        wait_port(self.port)

    def restart(self) -> None:
        self._ctl("-m", "fast", "-w", "restart")
        wait_port(self.port)

    def stop(self) -> None:
        try:
            self._ctl("-m", "fast", "-w", "stop")
        except subprocess.CalledProcessError:
            pass


class PrivateRedis:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)
        self.proc = None
