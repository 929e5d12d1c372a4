"""Each process that embeds sets its math threads on purpose (issue 15): a gunicorn web worker
and a Celery worker, started as production starts them with no OMP_NUM_THREADS of their own,
load the embedding engine with EMBEDDER_THREADS threads, as the engine's OpenMP library itself
reports (through threadpoolctl) in the line each process logs when the model loads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from tests.factories import SolutionFactory
from tests.support.smtp_sink import free_port

# The fixtures worker_env, celery_mode and celery_worker (a plugin: imported fixtures would be
# redefined by the tests' arguments).
pytest_plugins = ["tests.support.processes"]

ROOT = Path(__file__).resolve().parents[2]
LOADED = re.compile(r"embedder loaded in process (\d+), thread pools: (.*)")


def loaded_engines(log_text: str) -> dict[int, int]:
    """{pid: OpenMP threads} from the log lines of processes that loaded the model."""
    found = {}
    for line in log_text.splitlines():
        match = LOADED.search(line)
        if match:
            omp = re.search(r"'api': 'openmp', 'threads': (\d+)", match.group(2))
            assert omp, f"no OpenMP library loaded with the engine: {line}"
            found[int(match.group(1))] = int(omp.group(1))
    return found


def production_like_env(app, extra: dict[str, str]) -> dict[str, str]:
    """What a deployment passes, and nothing about threads unless ``extra`` says so."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR",
                                               "MARKETPLACE_INSTANCE_PATH") if name in os.environ}
    env.update({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "SECRET_KEY": "test-secret", "SEARCH_BACKEND": "local",
                "MAIL_TRANSPORT": "outbox", "PYTHONUNBUFFERED": "1", **extra})
    assert "OMP_NUM_THREADS" not in env
    return env


def serve_and_search(app, tmp_path: Path, threads: str | None) -> dict[int, int]:
    """gunicorn with two workers; concurrent searches until both have loaded the model."""
    port = free_port()
    log_path = tmp_path / f"gunicorn-{threads}.log"
    extra = {"EMBEDDER_THREADS": threads} if threads else {}
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "marketplace:create_app()"], cwd=ROOT, env=production_like_env(app, extra),
            stdout=log, stderr=subprocess.STDOUT)
    try:
        def search(word: str) -> None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/search?q={word}",
                                       timeout=30).read()
            except OSError:
                pass  # not listening yet

        def both_loaded() -> bool:
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(search, ["wastewater", "biogas", "sludge", "membrane"]))
            return len(loaded_engines(log_path.read_text())) >= 2

        deadline = time.monotonic() + 90
        while not both_loaded():
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.5)
        return loaded_engines(log_path.read_text())
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_a_web_worker_embeds_with_one_thread_by_default(app, tmp_path):
    assert set(serve_and_search(app, tmp_path, None).values()) == {1}


def test_a_web_worker_takes_the_threads_it_is_given(app, tmp_path):
    assert set(serve_and_search(app, tmp_path, "2").values()) == {2}


def test_a_celery_worker_embeds_with_one_thread(app, worker_env, celery_mode, celery_worker):
    assert "OMP_NUM_THREADS" not in worker_env  # the app sets its own
    SolutionFactory(status="published")  # its outbox event, for the worker to handle
    pending = db.session.scalars(select(OutboxEvent.id).where(
        OutboxEvent.handled_at.is_(None))).all()
    assert pending
    jobs.enqueue("outbox.handle", list(pending))
    celery_worker.wait_for_task("outbox.handle", "succeeded", 1)
    engines = loaded_engines(celery_worker.log_path.read_text())
    assert engines and set(engines.values()) == {1}, celery_worker.log()
    assert celery_worker.process.pid not in engines  # a prefork child embedded
