"""Private instances of the real services for fault tests: started, stopped, restarted and crashed
by the test that owns them. Never the shared PostgreSQL on 5432 or the shared Redis on 6379."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.common import free_port


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL with ``initdb`` and ``pg_ctl`` (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free loopback port, in a temporary directory.

    As root, the server runs as the ``postgres`` system user (PostgreSQL refuses to run as root);
    otherwise as the current user. ``fsync=off``: the tests crash the server process, never the
    machine, and committed data survives a process crash without it."""

    def __init__(self, bindir: Path | None = None):
        self.bindir = bindir or postgres_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL's initdb/pg_ctl are not installed")
        self.port = free_port()
        # Not under pytest's tmp_path: that is private to root (0700) and the server user must enter it.
        self.dir = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.as_root = os.geteuid() == 0

    # --- commands ---------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} {args[1:3]} failed ({done.returncode}): {done.stderr[-2000:]}\n"
                               f"log: {self.log_tail()}")
        return done

    def _options(self) -> str:
        return f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"

    def init(self) -> PrivatePostgres:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-o", self._options(), "-l", str(self.log), "-w", "-t", "60",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: sessions are cut and rolled back; ``immediate``: the server is killed (a crash;
        the next start runs crash recovery)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-o", self._options(), "-l", str(self.log), "-w",
                  "-t", "60", "restart")

    def running(self) -> bool:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0

    def wait_accepting(self, timeout: float = 60) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        """Stop the server (if running) and delete its directory."""
        try:
            if self.data.exists() and self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- databases --------------------------------------------------------------------------

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class SupervisedWorker:
    """A real Celery worker (solo pool) in a thread, restarted when it dies — what docker compose's
    ``restart: unless-stopped`` does for the worker service.

    Why: kombu 5.7 lets a worker die with "Unrecoverable error: AttributeError(... 'hostname')" when
    Redis drops while the worker holds unacknowledged messages (a delivery retry waiting for its
    countdown): closing the lost connection tries to restore them through a connection that is
    already gone. The product does not depend on that worker surviving: every message is a row, the
    beat sweep re-queues what is due and delivery takes a row lock, so a restarted worker delivers it
    exactly once. ``restarts`` counts the crashes so a test can report them."""

    def __init__(self, app, *, loglevel: str = "WARNING"):
        self.app = app
        self.loglevel = loglevel
        self.restarts = 0
        self._stopping = False
        self._worker = None
        self._thread = None

    def _new_worker(self):
        from celery.contrib.testing.worker import TestWorkController
        from celery.utils.nodenames import anon_nodename

        return TestWorkController(app=self.app, concurrency=1, pool="solo", loglevel=self.loglevel,
                                  hostname=anon_nodename(), ready_callback=None, without_heartbeat=True,
                                  without_mingle=True, without_gossip=True)

    def _run(self) -> None:
        while not self._stopping:
            self._worker.start()  # returns when stopped, or after an "Unrecoverable error"
            if self._stopping:
                return
            self.restarts += 1
            time.sleep(1.0)
            self._worker = self._new_worker()

    def __enter__(self) -> SupervisedWorker:
        from celery.contrib.testing.worker import setup_app_for_worker

        setup_app_for_worker(self.app, self.loglevel, None)
        self._worker = self._new_worker()
        self._thread = threading.Thread(target=self._run, daemon=True, name="supervised-celery-worker")
        self._thread.start()
        self._worker.ensure_started()
        return self

    def __exit__(self, *exc) -> None:
        from celery.worker import state

        self._stopping = True
        state.should_terminate = 0
        try:
            self._thread.join(20)
            if self._thread.is_alive():
                raise RuntimeError("the supervised Celery worker did not stop within 20 s")
        finally:
            state.should_terminate = None
            # The worker told Celery that this process is a worker (a ``.get()`` inside it would block);
            # celery.contrib.testing's own start_worker undoes that on exit, and so must this one, or any
            # later test of the run that waits for a task result fails (random order finds it).
            from celery._state import _set_task_join_will_block

            _set_task_join_will_block(False)
