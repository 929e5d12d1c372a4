"""Real background processes for the worker tests: a private Redis and a Celery worker.

Both run as child processes of the test run and are always stopped by their fixtures'
finalizers, however the test ended.  A missing binary or a process that does not come up
fails the test: nothing here skips.

- ``RedisServer``: a ``redis-server`` of our own on a free port, without persistence, that a
  test may stop and start again (same port) without disturbing any other Redis.
- ``CeleryWorker``: ``celery -A workers.celery_app worker`` in a session (process group) of its
  own, so ``kill()`` can SIGKILL the main process and its prefork children at once, as a
  crashed host or the OOM killer would.  ``wait_idle()`` waits until every task it received
  has finished and nothing is queued, so a test can count what was sent once all is done.

The fixtures at the end wire them to the session ``app``: the worker gets the same database,
the same instance folder and the same SECRET_KEY (so the links it mails verify in the app).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from tests.support.smtp_sink import SmtpSink, free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
QUEUES = "indexing,matching,mail,celery"
# The worker's INFO log: "Task digests.send_one[<id>] received", "... succeeded in 0.2s: 1",
# "... retry: Retry in 1s: ...", "... raised unexpected: ...".
_TASK_EVENT = re.compile(rb"Task ([\w.]+)\[([0-9a-f-]+)\] (received|succeeded|retry|raised)")


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


class RedisServer:
    """A private redis-server on 127.0.0.1:<free port>."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed (run: bash .ci/services.sh start)")
        self.directory = directory
        self.port = port or free_port()
        self.log_path = directory / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> RedisServer:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory),
             "--logfile", str(self.log_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(self.ping, timeout):
            self.stop()
            raise RuntimeError(f"redis-server on port {self.port} did not start:\n"
                               + _tail(self.log_path))
        return self

    def stop(self) -> None:
        """Stop the server (its data goes with it: nothing is persisted)."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def ping(self) -> bool:
        client = redis.Redis(port=self.port, host="127.0.0.1", socket_connect_timeout=0.5,
                             socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.exceptions.RedisError:
            return False
        finally:
            client.close()


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that have not exited yet (zombies have: their sockets
    are closed, whoever reaps them)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
        state, _ppid, pgrp = stat[stat.rindex(")") + 2:].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            members.append(int(entry.name))
    return members


class CeleryWorker:
    """``celery -A workers.celery_app worker`` with the given environment."""

    def __init__(self, env: dict[str, str], directory: Path, concurrency: int = 2) -> None:
        self.env = env
        self.broker_url = env["REDIS_URL"].rstrip("/") + "/0"  # as jobs.celery_config
        self.directory = directory
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self._log = None
        self.starts = 0

    def start(self, timeout: float = 60.0) -> CeleryWorker:
        assert self.process is None, "already running"
        self.starts += 1
        self.started_at = time.time()
        self.log_path = self.directory / f"worker-{self.starts}.log"
        self._log = self.log_path.open("ab")
        celery = Path(sys.executable).with_name("celery")
        self.process = subprocess.Popen(
            [str(celery), "-A", "workers.celery_app", "worker", "-Q", QUEUES,
             "--concurrency", str(self.concurrency), "--pool", "prefork", "-l", "INFO",
             # A unique node name per start; no mingle/gossip: nothing to sync with, and
             # mingle alone would wait a second for replies at every start.
             "-n", f"test-{uuid.uuid4().hex[:8]}@%h", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_until(self._ready, timeout, interval=0.1):
            log = self.log()
            self.stop()
            raise RuntimeError(f"the Celery worker did not become ready:\n{log}")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {self.process.returncode}:\n"
                               + self.log())
        return b" ready." in self.log_path.read_bytes()

    def log(self, lines: int = 80) -> str:
        return _tail(self.log_path, lines) if self.log_path else "(never started)"

    def task_events(self, name: str | None = None) -> list[tuple[str, str]]:
        """(task name, event) for each task line of this start's log, in order."""
        return [(task.decode(), event.decode())
                for task, _id, event in _TASK_EVENT.findall(self.log_path.read_bytes())
                if name is None or task.decode() == name]

    def is_idle(self) -> bool:
        """Nothing queued, nothing delivered to this worker and not acknowledged yet (tasks
        running or waiting for their countdown), and every task it logged as received has
        finished.  The log is read before and after: a change meanwhile means "not yet"."""
        before = self.log_path.read_bytes()
        pending: dict[bytes, int] = {}
        for _task, task_id, event in _TASK_EVENT.findall(before):
            pending[task_id] = pending.get(task_id, 0) + (1 if event == b"received" else -1)
        if any(pending.values()):
            return False
        client = redis.Redis.from_url(self.broker_url, socket_timeout=5)
        try:
            for key in client.scan_iter():
                if client.type(key) == b"list" and client.llen(key):
                    return False
            # Acks-late messages delivered before this start belong to a killed worker: they
            # come back only after the visibility timeout, and are no work of ours.
            if client.zcount("unacked_index", self.started_at, "+inf"):
                return False
        finally:
            client.close()
        return self.log_path.read_bytes() == before

    def wait_idle(self, timeout: float = 60.0, settle: float = 0.3) -> None:
        """Wait until the worker is idle and stays so for ``settle`` seconds: a message
        taken off its queue but not yet recorded as unacknowledged (a moment, between two
        Redis commands) would otherwise pass for no work at all."""
        def settled() -> bool:
            if not self.is_idle():
                return False
            before = self.log_path.read_bytes()
            time.sleep(settle)
            return self.is_idle() and self.log_path.read_bytes() == before

        if not wait_until(settled, timeout, interval=0.1):
            raise AssertionError(f"the worker is still busy after {timeout} s:\n{self.log()}")

    def wait_for_task(self, name: str, event: str, count: int, timeout: float = 60.0) -> None:
        """Wait until this start's log shows ``count`` ``event`` lines of task ``name``."""
        if not wait_until(lambda: self.task_events(name).count((name, event)) >= count,
                          timeout, interval=0.1):
            raise AssertionError(f"no {count} x {name} {event} after {timeout} s:\n"
                                 + self.log())

    def kill(self) -> None:
        """SIGKILL the whole worker - main process and pool children - and wait until every
        one of them is gone, so their connections (SMTP, database, Redis) are closed."""
        process, self.process = self.process, None
        assert process is not None, "not running"
        pgid = process.pid  # start_new_session: the worker leads its own group
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        if not wait_until(lambda: not _live_members(pgid), 10):
            raise RuntimeError(f"worker processes {_live_members(pgid)} survived SIGKILL")
        self._close_log()

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown (SIGTERM to the main process), then SIGKILL for anything left."""
        process, self.process = self.process, None
        if process is None:
            return
        pgid = process.pid
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(pgid, signal.SIGKILL)  # stragglers, if any
        except ProcessLookupError:
            pass
        process.wait()
        wait_until(lambda: not _live_members(pgid), 10)
        self._close_log()

    def restart(self) -> CeleryWorker:
        self.stop()
        return self.start()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own: stopping it disturbs nothing else."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def smtp_sink():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def worker_env(app, private_redis, smtp_sink) -> dict[str, str]:
    """What a production worker would be given, pointed at this test's services."""
    inherited = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")
    env = {name: os.environ[name] for name in inherited if name in os.environ}
    env.update({
        "REDIS_URL": private_redis.url,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MARKETPLACE_INSTANCE_PATH": os.environ["MARKETPLACE_INSTANCE_PATH"],
        "SECRET_KEY": app.config["SECRET_KEY"],  # "test-secret": its tokens verify in the app
        "MAIL_TRANSPORT": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_sink.port),
        "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "SEARCH_BACKEND": "local",
        "RETRY_BASE_SECONDS": "1",  # retries after ~1 s, 2 s ... instead of 10 s, 20 s ...
        # No OMP_NUM_THREADS: the app sets its math threads itself (EMBEDDER_THREADS, one by
        # default), as in production; tests/integration/test_thread_limits.py checks it.
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def celery_worker(app, worker_env, tmp_path):
    """A running worker on every queue; stopped (or killed) whatever the test did."""
    worker = CeleryWorker(worker_env, tmp_path)
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()
        # It shares the tests' instance folder: drop whatever it indexed there, as the
        # app fixture does for its own search backend after each test.
        from search.backends.local import LocalBackend

        LocalBackend(os.path.join(os.environ["MARKETPLACE_INSTANCE_PATH"], "search"),
                     prefix="est").drop()


def _close_job_clients(app) -> None:
    producer = app.extensions.pop("celery_producer", None)
    if producer is not None:
        producer.close()
    client = app.extensions.pop("coordination_redis", None)
    if client is not None:
        client.close()


@pytest.fixture
def celery_mode(app, private_redis):
    """The session app enqueues to the private Redis, as the web does in production
    (``jobs.enqueue`` sends by task name); restored afterwards."""
    saved = app.config.get("REDIS_URL")
    _close_job_clients(app)
    app.config["REDIS_URL"] = private_redis.url
    yield app
    _close_job_clients(app)
    app.config["REDIS_URL"] = saved
