"""The site under concurrent load (issue 15): gunicorn with 2 workers, loaded with wrk on
loopback, route by route.

    apt-get install wrk                       # once: Debian's package
    bash .ci/elasticsearch.sh start           # for --modes postgres-es (the default includes it)
    python bench/web.py [--modes embedded,postgres-es] [--duration 8] [--connections 8]

Each mode gets a fresh world: its own instance folder, `flask db upgrade` and `flask demo seed`
(SQLite and the local search backend for ``embedded``; a throwaway PostgreSQL database and
Elasticsearch indices under their own prefix for ``postgres-es``), then `gunicorn --workers 2`
started as production starts it, with nothing about threads in its environment (the app sets
its own: EMBEDDER_THREADS, one per process).  Every route is loaded on its own for
``--duration`` seconds at ``--connections`` connections, after a short warm-up: the
references first (``/healthz``, a hello-world route; a static file), then home, browse, a
listing page, search in English, Chinese and Vietnamese, and a signed-in match page.  wrk
reports requests per second, latency percentiles and errors (sockets, timeouts, and any
answer that is not 2xx or 3xx).  Bounded: each run stops after its duration; the whole bench
takes about 2 + 1.5 minutes per mode.

Prints a table and rewrites the "## Web under load" section of bench/RESULTS.md (unless
``--no-write``).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
# With bench/ first on sys.path, ``import search`` would find bench/search.py.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from bench import _harness  # noqa: E402

RESULTS = HERE / "RESULTS.md"
HEADING = "## Web under load"
DEMO_PASSWORD = "demo-password-2026"
SEARCH_TARGET = {"rps": 40.0, "p95_ms": 300.0}
# A line of JSON from wrk's done() hook: wrk itself prints no p95.
REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50": %d, "p95": %d, "p99": %d, "max": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def routes(base: str, listing: str, match_page: str) -> list[tuple[str, str, bool]]:
    """(name, path, signed in)."""
    def search(words: str) -> str:
        return "/search?" + urllib.parse.urlencode({"q": words})

    return [
        ("hello world (/healthz)", "/healthz", False),
        ("static file (app.css)", "/static/app.css", False),
        ("home", "/", False),
        ("browse solutions", "/solutions", False),
        ("listing page", listing, False),
        ("search, English", search("wastewater treatment"), False),
        ("search, Chinese", search("污水处理"), False),
        ("search, Vietnamese", search("xử lý nước thải"), False),
        ("match page (signed in)", match_page, True),
    ]


def world(mode: str, workdir: Path, args) -> dict[str, str]:
    """The environment of a fresh world for ``mode``, migrated and seeded."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR")
           if name in os.environ}
    env.update({"MARKETPLACE_INSTANCE_PATH": str(workdir / "instance"),
                "SECRET_KEY": "bench-web", "FLASK_APP": "marketplace",
                "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    if mode == "postgres-es":
        name = f"est_bench_web_{os.getpid()}"
        env["DATABASE_URL"] = _harness.recreate_database(args.postgres, name)
        env.update({"SEARCH_BACKEND": "elasticsearch", "ELASTICSEARCH_URL": args.es_url,
                    "SEARCH_INDEX_PREFIX": f"bench-web-{os.getpid()}"})
    flask = [str(Path(sys.executable).with_name("flask"))]
    for step in (["db", "upgrade"], ["demo", "seed"]):
        print(f"  {mode}: flask {' '.join(step)} ...", flush=True)
        subprocess.run(flask + step, env=env, cwd=_harness.REPO, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return env


def drop_world(mode: str, env: dict[str, str], args) -> None:
    if mode != "postgres-es":
        return
    _harness.drop_database(args.postgres, env["DATABASE_URL"].rsplit("/", 1)[1])
    prefix = env["SEARCH_INDEX_PREFIX"]
    request = urllib.request.Request(f"{args.es_url}/{prefix}-*", method="DELETE")
    try:
        urllib.request.urlopen(request, timeout=30).read()
    except OSError as error:
        print(f"  could not delete the {prefix}-* indices: {error}")


def sign_in(base: str, email: str) -> tuple[str, str]:
    """The session cookie of ``email``, and the first match page its dashboard links to."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                   "password": DEMO_PASSWORD}).encode()
    opener.open(f"{base}/login", data=form, timeout=30).read()
    dashboard = opener.open(f"{base}/my", timeout=30).read().decode()
    need = re.search(r'href="(/needs/\d+)"', dashboard)
    if need is None:
        raise SystemExit("the demo buyer's dashboard lists no need")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, need.group(1) + "/matches"


def first_listing(base: str) -> str:
    page = urllib.request.urlopen(f"{base}/solutions", timeout=30).read().decode()
    return re.search(r'href="(/solutions/\d+)"', page).group(1)


def load(url: str, args, cookie: str | None, duration: int) -> dict:
    script = Path(tempfile.gettempdir()) / "bench-web-report.lua"
    script.write_text(REPORT_LUA)
    command = ["wrk", "-t", str(min(args.connections, 2)), "-c", str(args.connections),
               "-d", f"{duration}s", "--timeout", "5s", "-s", str(script)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    report["rps"] = report["requests"] / report["seconds"]
    report["errors"] = sum(report[k] for k in ("connect", "read", "write", "status", "timeout"))
    return report


def run_mode(mode: str, args, procs: _harness.Processes) -> list[dict]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-web-{mode}-"))
    env = world(mode, workdir, args)
    try:
        port = _harness.free_port()
        base = f"http://127.0.0.1:{port}"
        log = (workdir / "gunicorn.log").open("wb")
        procs.popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                     f"127.0.0.1:{port}", "--timeout", "60", "marketplace:create_app()"],
                    env=env, cwd=_harness.REPO, stdout=log, stderr=subprocess.STDOUT)

        def up() -> bool:
            try:
                return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200
            except OSError:
                return False

        _harness.wait_until(up, 60, "gunicorn")
        cookie, match_page = sign_in(base, "buyer@demo.est-marketplace.org")
        rows = []
        for name, path, signed_in in routes(base, first_listing(base), match_page):
            url = base + path
            load(url, args, cookie if signed_in else None, args.warmup)  # both workers warm
            report = load(url, args, cookie if signed_in else None, args.duration)
            report.update(mode=mode, route=name, path=path)
            print(f"  {mode:12} {name:24} {report['rps']:8.1f} req/s  p50 "
                  f"{report['p50'] / 1000:6.0f} ms  p95 {report['p95'] / 1000:6.0f} ms  "
                  f"errors {report['errors']}", flush=True)
            rows.append(report)
        return rows
    finally:
        procs.close()
        drop_world(mode, env, args)
        shutil.rmtree(workdir, ignore_errors=True)


def verdicts(rows: list[dict]) -> list[str]:
    lines = []
    for mode in dict.fromkeys(row["mode"] for row in rows):
        mine = [row for row in rows if row["mode"] == mode]
        home = next(row for row in mine if row["route"] == "home")
        for row in mine:
            if row["route"].startswith("search"):
                met = (row["rps"] >= SEARCH_TARGET["rps"] and row["errors"] == 0
                       and row["p95"] / 1000 <= SEARCH_TARGET["p95_ms"])
                lines.append(f"- {mode}, {row['route']}: {row['rps']:.1f} req/s, p95 "
                             f"{row['p95'] / 1000:.0f} ms, {row['errors']} errors against "
                             f"≥ 40 req/s, p95 ≤ 300 ms, 0 errors: "
                             f"**{'met' if met else 'missed'}**")
        pages = [row for row in mine if not row["route"].startswith(("hello", "static"))]
        slow = [row["route"] for row in pages if row["rps"] < home["rps"] / 3]
        lines.append(f"- {mode}: no page below a third of home's {home['rps']:.1f} req/s "
                     f"({home['rps'] / 3:.1f}): **{'met' if not slow else 'missed'}**"
                     + (f" ({', '.join(slow)} below)" if slow else ""))
    return lines


def table(rows: list[dict]) -> str:
    out = ["| mode | route | req/s | p50 ms | p95 ms | p99 ms | errors |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        out.append(f"| {row['mode']} | {row['route']} | {row['rps']:.1f} | "
                   f"{row['p50'] / 1000:.0f} | {row['p95'] / 1000:.0f} | "
                   f"{row['p99'] / 1000:.0f} | {row['errors']} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default="embedded,postgres-es")
    parser.add_argument("--duration", type=int, default=8, help="seconds per route")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each route")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--postgres", default="postgresql+psycopg://est:est@127.0.0.1:5432")
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    started = time.time()
    load_before = os.getloadavg()[0]
    rows = []
    for mode in args.modes.split(","):
        procs = _harness.Processes()
        rows += run_mode(mode, args, procs)
    section = "\n".join([
        HEADING, "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))} on "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, commit "
        f"{_harness.git_state()}; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after.",
        "",
        f"Command: `python bench/web.py --modes {args.modes} --duration {args.duration:g} "
        f"--connections {args.connections}`: gunicorn with 2 workers (EMBEDDER_THREADS unset, "
        f"so one math thread each), wrk with {min(args.connections, 2)} threads and "
        f"{args.connections} connections, each route on its own for {args.duration:g} s after "
        f"{args.warmup:g} s of warm-up, on the demo world.",
        "", table(rows), "", "Targets (issue 15):", "", *verdicts(rows), ""])
    print("\n" + section)
    if not args.no_write:
        _harness.write_section(RESULTS, HEADING, section)


if __name__ == "__main__":
    main()
