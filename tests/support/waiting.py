"""Polling, for the helpers that start real processes (tests.support.processes is a pytest
plugin: other modules must not import it, or pytest cannot rewrite its asserts)."""

from __future__ import annotations

import time


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
