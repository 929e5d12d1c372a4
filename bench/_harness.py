"""What the worker benchmarks (bench/digests.py, bench/emagazine.py, bench/workers.py) share:
the processes they start and always stop (a private Redis, the SMTP sink in a child process, a
Celery worker), a fresh PostgreSQL database built by the migrations (or copied from a seeded
one), bulk inserts, cached embedding vectors, CPU accounting per process group, a step timer,
the machine description and the RESULTS.md section writer.

Run as ``python -m bench._harness --serve-sink`` (from the repository) it is the SMTP sink
child process of ``RemoteSink``.
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
QUEUES = "indexing,matching,mail,celery"


# -- processes we start, and stop whatever happens --------------------------------------------


class Processes:
    """Everything a run started (worker, Redis, sink): stopped on exit, even on error."""

    def __init__(self) -> None:
        self.stack = ExitStack()
        atexit.register(self.close)

    def close(self) -> None:
        self.stack.close()

    def popen(self, argv: list[str], *, grace: float = 20.0, **kwargs: Any) -> subprocess.Popen:
        """Start ``argv`` in a process group of its own; on close, SIGTERM then SIGKILL that
        group (the worker's pool processes are in it)."""
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)

        def stop() -> None:
            if proc.poll() is None:
                proc.terminate()  # Celery: warm shutdown, finishes the task at hand
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group we created, nothing else
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.stack.callback(stop)
        return proc


def on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwind through the finally blocks: teardown runs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not happen within {timeout:.0f} s")


def start_redis(procs: Processes, workdir: Path) -> tuple[str, int]:
    port = free_port()
    proc = procs.popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", str(workdir)],
                       stdout=(workdir / "redis.log").open("w"), stderr=subprocess.STDOUT,
                       grace=5)
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=1)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False
    wait_until(up, 15, "the private Redis server starting")
    return f"redis://127.0.0.1:{port}", proc.pid


def flush_redis(url: str) -> None:
    """Empty the broker (0), results (1) and coordination (2) databases: no stale tasks,
    locks or send-rate counters from an earlier run."""
    import redis

    for number in (0, 1, 2):
        redis.Redis.from_url(url, db=number).flushdb()


def start_worker(procs: Processes, env: dict[str, str], concurrency: int, workdir: Path,
                 name: str) -> tuple[subprocess.Popen, Path]:
    """``celery -A workers.celery_app worker`` on every queue, with ``env`` added to ours;
    returns once it logged " ready."."""
    log = workdir / "worker.log"
    argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", QUEUES,
            "--concurrency", str(concurrency), "--loglevel", "INFO",
            "-n", f"{name}-{os.getpid()}@%h"]
    proc = procs.popen(argv, cwd=REPO, env={**os.environ, **env}, stdout=log.open("w"),
                       stderr=subprocess.STDOUT, grace=10)

    def ready() -> bool:
        if proc.poll() is not None:
            raise SystemExit(f"the Celery worker exited ({proc.returncode}); see {log}:\n"
                             + log.read_text()[-3000:])
        return " ready." in log.read_text()
    wait_until(ready, 90, "the Celery worker becoming ready")
    return proc, log


def worker_errors(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines()
            if "ERROR" in line or "Traceback" in line]


# -- the SMTP sink in a child process ----------------------------------------------------------


class RemoteSink:
    """The SMTP sink (tests/support/smtp_sink.py) in a child process, so that it shares no
    GIL with the benchmark and its CPU is counted apart.  Talks over the child's stdin and
    stdout, one line per request."""

    def __init__(self, procs: Processes, keep_messages: bool = False) -> None:
        argv = [sys.executable, "-m", "bench._harness", "--serve-sink"]
        if keep_messages:
            argv.append("--keep-messages")
        self.proc = procs.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, cwd=REPO, grace=5)
        self.port = int(self.proc.stdout.readline())

    def _ask(self, command: str) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    def count(self) -> int:
        return int(self._ask("count"))

    def summary(self) -> list[dict[str, Any]]:
        """One entry per kept message: recipients, Message-ID, Subject, size, whether it has
        one-click unsubscribe headers (parsed in the child, headers only)."""
        return json.loads(self._ask("summary"))

    def clear(self) -> None:
        self._ask("clear")


def serve_sink(keep_messages: bool = False) -> int:
    from email import policy
    from email.parser import BytesHeaderParser

    from tests.support.smtp_sink import SmtpSink

    with SmtpSink(keep_messages=keep_messages) as sink:
        print(sink.port, flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "count":
                print(sink.count, flush=True)
            elif command == "summary":
                parser = BytesHeaderParser(policy=policy.default)  # decodes the Subject
                with sink._lock:
                    received = list(sink.received)
                out = []
                for rcpts, content in received:
                    headers = parser.parsebytes(content)
                    out.append({"to": rcpts, "id": headers["Message-ID"],
                                "subject": str(headers["Subject"] or ""), "bytes": len(content),
                                "one_click": bool(headers["List-Unsubscribe-Post"])})
                print(json.dumps(out), flush=True)
            elif command == "clear":
                sink.clear()
                print("ok", flush=True)
    return 0


# -- CPU accounting ----------------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children[int(fields[1])].append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def pids_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process (that still exists)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


def cpu_snapshot(pids: dict[str, list[int]]) -> dict[str, Any]:
    return {"pids": {name: cpu_seconds(group) for name, group in pids.items()},
            "own": time.process_time(), "machine": machine_busy_seconds()}


def cpu_report(before: dict[str, Any], after: dict[str, Any], bench_backends: set[int],
               labels: dict[str, str], own_label: str) -> dict[str, float]:
    """CPU seconds between two snapshots, per process group (``labels``: group name → row
    label; the group "postgres" is split into this run's backends and the rest).  A process
    that appeared in between (a new PostgreSQL backend) counts from zero; one that exited is
    lost."""
    def spent(name: str, only: Callable[[int], bool] = lambda pid: True) -> float:
        old = before["pids"].get(name, {})
        return sum(cpu - old.get(pid, 0.0) for pid, cpu in after["pids"][name].items()
                   if only(pid))

    out = {}
    for name, label in labels.items():
        if name == "postgres":
            out["PostgreSQL backends of this run"] = spent(
                "postgres", lambda p: p in bench_backends)
            out["PostgreSQL, rest (WAL writer, checkpointer, other sessions)"] = spent(
                "postgres", lambda p: p not in bench_backends)
        else:
            out[label] = spent(name)
    out[own_label] = after["own"] - before["own"]
    busy = after["machine"][0] - before["machine"][0]
    out["other processes on the machine"] = max(0.0, busy - sum(out.values()))
    out["machine busy"] = busy
    out["machine capacity"] = after["machine"][1] - before["machine"][1]
    return out


def bench_backend_pids(database: str) -> set[int]:
    from sqlalchemy import text

    from marketplace.extensions import db

    pids = set(db.session.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                  {"d": database}))
    db.session.commit()
    return pids


# -- the database ------------------------------------------------------------------------------


def _server_statements(server_url: str, *statements: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _plain_name(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"--database must be a plain lower-case name, not {name!r}")
    return name


def recreate_database(server_url: str, name: str, template: str | None = None) -> str:
    """Drop and create ``name``: empty, or a copy of the database ``template`` (which must
    have no open sessions; PostgreSQL copies its files, much faster than seeding again)."""
    copy = f' TEMPLATE "{_plain_name(template)}"' if template else ""
    _server_statements(server_url, f'DROP DATABASE IF EXISTS "{_plain_name(name)}" WITH (FORCE)',
                       f'CREATE DATABASE "{name}"{copy}')
    return f"{server_url}/{name}"


def drop_database(server_url: str, name: str) -> None:
    _server_statements(server_url, f'DROP DATABASE IF EXISTS "{_plain_name(name)}" WITH (FORCE)')


def commit_probe(count: int = 50) -> tuple[float, str]:
    """Milliseconds per single-row INSERT + COMMIT: what each durable commit waits for."""
    from sqlalchemy import text

    from marketplace.extensions import db

    db.session.execute(text("CREATE TABLE bench_commit_probe (x int)"))
    db.session.commit()
    start = time.perf_counter()
    for i in range(count):
        db.session.execute(text("INSERT INTO bench_commit_probe VALUES (:i)"), {"i": i})
        db.session.commit()
    ms = 1000 * (time.perf_counter() - start) / count
    db.session.execute(text("DROP TABLE bench_commit_probe"))
    setting = db.session.scalar(text("SHOW synchronous_commit"))
    db.session.commit()
    return ms, setting


def cached_vectors(wanted: dict[str, tuple[str, str]], cache_file: Path
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Vectors for ``wanted`` (``indexing.embedding_cache_key`` → (role, text)), read from
    ``cache_file`` where it has them; the rest are computed with the app's embedder (timed,
    with a progress bar) and added to the file, so only a first run pays.  Needs an app
    context.  Returns (vectors by key, {"computed", "cached", "seconds"})."""
    import numpy as np
    from tqdm import tqdm

    from marketplace.discovery import indexing

    stored: dict[str, Any] = {}
    if cache_file.exists():
        with np.load(cache_file) as npz:
            stored = {key: npz[key] for key in npz.files}
    missing = [key for key in wanted if key not in stored]
    timing = {"computed": len(missing), "cached": len(wanted) - len(missing), "seconds": 0.0}
    if missing:
        model = indexing.embedder()
        model.query("warm-up")  # loads the model: not part of the timing
        start = time.perf_counter()
        for key in tqdm(missing, desc="embed (first run only)", unit="text", file=sys.stderr):
            role, text = wanted[key]
            vector = model.query(text) if role == "query" else model.passages([text])[0]
            stored[key] = np.asarray(vector, dtype="<f4")
        timing["seconds"] = time.perf_counter() - start
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache_file, **stored)
    return {key: stored[key] for key in wanted}, timing


def make_app(env: dict[str, str]):
    """The Flask app, configured from the same environment the worker gets."""
    os.environ.update(env)
    from marketplace import create_app

    return create_app()


def bulk_insert(table, rows: list[dict], bar, chunk: int = 5000) -> None:
    """Multi-row INSERTs of ``rows`` into ``table``, ``chunk`` at a time; ``bar`` counts."""
    from marketplace.extensions import db

    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        db.session.execute(table.insert(), part)
        bar.update(len(part))


def seed_tables(tables: list[tuple[Any, list[dict]]]) -> float:
    """Bulk-insert each (model, rows) with a progress bar, move every id sequence past the
    ids given explicitly, and ANALYZE so the planner knows the new sizes.  Returns seconds."""
    from sqlalchemy import text
    from tqdm import tqdm

    from marketplace.extensions import db

    start = time.perf_counter()
    total = sum(len(rows) for _model, rows in tables)
    with tqdm(total=total, desc="seed (bulk insert)", unit="row", file=sys.stderr) as bar:
        for model, rows in tables:
            bulk_insert(model.__table__, rows, bar)
        for model, _rows in tables:
            if "id" in model.__table__.c:
                name = model.__table__.name
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"))
        db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return time.perf_counter() - start


# -- timing steps ------------------------------------------------------------------------------


class StepTimer:
    """Exclusive wall time per label: time goes to the innermost active step, so the
    labels add up to the total."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.stack: list[str] = []
        self.mark = time.perf_counter()
        self.statements: Counter = Counter()

    def enter(self, label: str) -> None:
        now = time.perf_counter()
        if self.stack:
            self.totals[self.stack[-1]] += now - self.mark
        self.stack.append(label)
        self.mark = now

    def exit(self) -> None:
        now = time.perf_counter()
        self.totals[self.stack.pop()] += now - self.mark
        self.mark = now

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        self.enter(label)
        try:
            yield
        finally:
            self.exit()

    def wrap(self, label: str, function: Callable) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.step(label):
                return function(*args, **kwargs)
        return timed


@contextmanager
def sql_timed(timer: StepTimer) -> Iterator[None]:
    """Time every SQL statement as "sql@<the step that ran it>" and count them."""
    from sqlalchemy import event

    from marketplace.extensions import db

    engine = db.engine

    def before(*_args: Any) -> None:
        label = "sql@" + (timer.stack[-1] if timer.stack else "other")
        timer.statements[label] += 1
        timer.enter(label)

    def after(*_args: Any) -> None:
        timer.exit()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


# -- the report --------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = ram = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "ram": ram,
            "python": platform.python_version()}


def git_state() -> str:
    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True,
                              check=False).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "marketplace", "workers", "templates")
    return commit + (" (with uncommitted changes under marketplace/, workers/ or templates/)"
                     if dirty else "")


def server_versions(app) -> dict[str, str]:
    from sqlalchemy import text

    from marketplace.extensions import db

    with app.app_context():
        pg = db.session.scalar(text("SHOW server_version"))
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True,
                                   text=True, check=False).stdout.split()
    version = next((w.split("=", 1)[1] for w in redis_version if w.startswith("v=")), "?")
    return {"postgres": pg.split()[0], "redis": version}


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace the section that starts with the line ``heading`` (e.g. "## Digests") in
    ``path``, or append it, keeping the others."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith("## ")), len(lines))
        rest = "".join(lines[end:])
        text = "".join(lines[:start]) + section + ("\n" + rest if rest else "")
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    if "--serve-sink" in sys.argv[1:]:
        sys.exit(serve_sink(keep_messages="--keep-messages" in sys.argv[1:]))
    sys.exit(__doc__)
