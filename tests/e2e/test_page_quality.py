"""Accessibility (axe) and markup validity (the Nu HTML Checker) of the key pages.

axe runs in the browser on each page as a person gets it: 0 serious or critical violations,
and nothing of the page itself blocked by the Content-Security-Policy.
vnu checks the HTML the server sends for the same pages: 0 errors.  vnu is the npm package
vnu-jar, installed by .ci/browser.sh (VNU_JAR says where); a missing one fails, never skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import sign_in

VNU_JAR = os.environ.get("VNU_JAR", "/var/cache/est-vnu/node_modules/vnu-jar/build/dist/vnu.jar")
BLOCKING = ("serious", "critical")

# (name, path from the seeded world, who is signed in)
PAGES = [
    ("home", lambda w: "/", None),
    ("solutions", lambda w: "/solutions", None),
    ("needs", lambda w: "/needs", None),
    ("solution", lambda w: f"/solutions/{w.solution_id}", None),
    ("need", lambda w: f"/needs/{w.need_id}", None),
    ("organisation", lambda w: f"/organizations/{w.org_id}", None),
    ("search", lambda w: "/search?q=membrane", None),
    ("events", lambda w: "/events", None),
    ("event", lambda w: f"/events/{w.event_id}", "buyer"),
    ("login", lambda w: "/login", None),
    ("register", lambda w: "/register", None),
    ("emagazine-archive", lambda w: "/emagazine", None),
    ("emagazine-issue", lambda w: f"/emagazine/{w.issue_slug}", None),
    ("emagazine-subscribe", lambda w: "/emagazine/subscribe", None),
    ("dashboard", lambda w: "/my", "supplier"),
    ("account", lambda w: "/account", "supplier"),
    ("introductions-board", lambda w: "/introductions", "supplier"),
    ("introduction", lambda w: f"/introductions/{w.introduction_id}", "supplier"),
    ("express-interest", lambda w: f"/introductions/new/solutions/{w.solution_id}", "buyer"),
    ("staff-queue", lambda w: "/staff/", "staff"),
    ("staff-introductions", lambda w: "/staff/introductions", "staff"),
    ("staff-organisations", lambda w: "/staff/organizations", "staff"),
    ("staff-event-meetings", lambda w: f"/staff/events/{w.b2b_event_id}/meetings", "staff"),
    ("staff-event-report", lambda w: f"/staff/events/{w.b2b_event_id}/report", "staff"),
    ("staff-dashboard", lambda w: "/staff/dashboard", "staff"),
    ("results", lambda w: "/results", None),
]


def _sign_in_as(page, world, who):
    if who:
        sign_in(page, getattr(world, f"{who}_email"))


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.mark.parametrize(("name", "path", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_accessibility_violations(page, world, axe, name, path, who):
    _sign_in_as(page, world, who)
    blocked: list[str] = []  # anything of ours that the Content-Security-Policy refused
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    response = page.goto(path(world))
    assert response.status == 200, name
    assert blocked == []

    violations = [v for v in axe.run(page).response["violations"] if v["impact"] in BLOCKING]

    report = [f"{v['id']} ({v['impact']}): {v['help']} at "
              + "; ".join(", ".join(node["target"]) for node in v["nodes"]) for v in violations]
    assert not report, "\n".join(report)


def test_the_pages_are_valid_html(page, world, tmp_path):
    assert Path(VNU_JAR).is_file(), f"{VNU_JAR} is missing: run `bash .ci/browser.sh`"
    assert shutil.which("java"), "java is missing: run `bash .ci/browser.sh`"
    files = []
    for who in (None, "supplier", "buyer", "staff"):
        page.context.clear_cookies()
        _sign_in_as(page, world, who)
        for name, path, needs in PAGES:
            if needs == who:
                response = page.request.get(path(world))  # the server's HTML, as sent
                assert response.ok, name
                files.append(tmp_path / f"{name}.html")
                files[-1].write_text(response.text(), encoding="utf-8")

    checked = subprocess.run(
        ["java", "-jar", VNU_JAR, "--format", "json", "--stdout", *map(str, files)],
        capture_output=True, text=True, timeout=120)

    messages = json.loads(checked.stdout)["messages"]
    errors = [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
              for m in messages if m["type"] == "error"]
    assert len(files) == len(PAGES)
    assert not errors, "\n".join(errors)
