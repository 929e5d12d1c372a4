"""What several processes must agree on: the global mail send rate, exclusive locks, and the
ids written while a long job (an index rebuild) runs.

With ``REDIS_URL`` set (production) both live in Redis database 2, so they hold across every
worker.  Embedded mode runs in one process, where a thread lock and an in-process counter
are the same guarantee.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from flask import current_app

log = logging.getLogger(__name__)

COORDINATION_DB = 2  # see the Redis database numbers in marketplace/config.py

_local_locks: dict[str, threading.Lock] = {}
_local_locks_guard = threading.Lock()
_local_window = {"second": 0, "count": 0}
_local_window_guard = threading.Lock()


def redis_client() -> redis.Redis | None:
    """The shared Redis connection pool, or None in embedded mode."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("coordination_redis")
    if client is None:
        client = redis.Redis.from_url(url, db=COORDINATION_DB, socket_timeout=5,
                                      socket_connect_timeout=2)
        current_app.extensions["coordination_redis"] = client
    return client


@contextmanager
def exclusive(name: str, ttl_seconds: int = 600) -> Iterator[bool]:
    """Hold the lock ``name`` if nobody else does; yields whether we got it.

    The Redis lock expires after ``ttl_seconds`` so a crashed holder cannot block forever.
    """
    client = redis_client()
    if client is None:
        yield from _exclusive_in_process(name)
        return
    lock = client.lock(f"lock:{name}", timeout=ttl_seconds, blocking=False)
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except redis.exceptions.LockError:  # expired meanwhile: someone else may hold it
                pass


def _exclusive_in_process(name: str) -> Iterator[bool]:
    with _local_locks_guard:
        lock = _local_locks.setdefault(name, threading.Lock())
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()


# Slots are taken from the shared counter a few at a time, saving a Redis round trip per
# message; a worker may run at most this many over the limit in a second.
SLOTS_PER_TRIP = 5
_reserved = threading.local()


def wait_for_send_slot() -> None:
    """Block until sending one more message keeps us within ``MAIL_RATE_PER_SECOND``.

    A fixed one-second window counted in Redis: every worker increments the same key, so
    the limit is global, however many workers run.
    """
    limit = current_app.config["MAIL_RATE_PER_SECOND"]
    if limit <= 0:
        return
    client = redis_client()
    while True:
        now = time.time()
        second = int(now)
        if getattr(_reserved, "second", None) == second and _reserved.left > 0:
            _reserved.left -= 1
            return
        count = _count(client, second, SLOTS_PER_TRIP)
        if count - SLOTS_PER_TRIP < limit:
            _reserved.second, _reserved.left = second, min(SLOTS_PER_TRIP, limit - (
                count - SLOTS_PER_TRIP)) - 1
            return
        time.sleep(max(0.0, second + 1 - now))


def _count(client: redis.Redis | None, second: int, slots: int = 1) -> int:
    if client is None:
        return _count_in_process(second, slots)
    try:
        return _count_in_redis(client, second, slots)
    except redis.exceptions.RedisError:
        # Redis is down: mail a user asked for (a password reset) must still go, so count in
        # this process until it is back - the limit holds per process meanwhile.
        log.warning("Redis unavailable: counting the send rate in this process")
        return _count_in_process(second, slots)


def _count_in_redis(client: redis.Redis, second: int, slots: int = 1) -> int:
    key = f"mail-rate:{second}"
    pipe = client.pipeline()
    pipe.incrby(key, slots)
    pipe.expire(key, 5)
    return int(pipe.execute()[0])


def _count_in_process(second: int, slots: int = 1) -> int:
    with _local_window_guard:
        if _local_window["second"] != second:
            _local_window.update(second=second, count=0)
        _local_window["count"] += slots
        return _local_window["count"]


# -- recording writes during a long job ---------------------------------------------------
# A rebuild loads a new index from the database while the live one keeps taking writes; those
# writes are recorded here (from any process) and replayed into the new index once it is in.

_NOTE = """if redis.call('exists', KEYS[1]) == 1 then redis.call('sadd', KEYS[2], ARGV[1]) end"""
_local_recordings: dict[str, set[str]] = {}
_local_recordings_guard = threading.Lock()


def start_recording(name: str, ttl_seconds: int = 6 * 3600) -> None:
    """From now on ``note(name, item)`` keeps ``item``; the flag expires if we crash."""
    client = redis_client()
    if client is None:
        with _local_recordings_guard:
            _local_recordings[name] = set()
        return
    client.delete(f"recording:{name}:items")
    client.set(f"recording:{name}", 1, ex=ttl_seconds)


def note(name: str, item: object) -> None:
    """Record ``item`` if a recording called ``name`` is on (atomically: never after it
    stopped).  Costs one round trip; nothing when embedded."""
    client = redis_client()
    if client is None:
        with _local_recordings_guard:
            if name in _local_recordings:
                _local_recordings[name].add(str(item))
        return
    client.eval(_NOTE, 2, f"recording:{name}", f"recording:{name}:items", str(item))


def drain(name: str, stop: bool = False) -> set[str]:
    """What was recorded since the last drain; with ``stop``, also end the recording, in the
    same step, so no note falls between the two."""
    client = redis_client()
    if client is None:
        with _local_recordings_guard:
            items = _local_recordings.pop(name, set()) if stop else _local_recordings.get(name)
            if items is not None and not stop:
                _local_recordings[name] = set()
            return set(items or ())
    pipe = client.pipeline(transaction=True)
    if stop:
        pipe.delete(f"recording:{name}")
    pipe.smembers(f"recording:{name}:items")
    pipe.delete(f"recording:{name}:items")
    results = pipe.execute()
    members = results[1] if stop else results[0]
    return {m.decode() if isinstance(m, bytes) else m for m in members}
