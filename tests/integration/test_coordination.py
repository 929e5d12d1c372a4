"""The send-rate limit and the locks, shared in a real Redis between app instances (as
between workers), and their in-process stand-ins for embedded mode."""

import os
import threading
import uuid

import pytest
import redis

from marketplace import coordination, create_app

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def two_workers(database_url):
    """Two app instances on one Redis, like two worker processes."""
    apps = [create_app({"TESTING": True, "SECRET_KEY": "x", "REDIS_URL": REDIS_URL,
                        "SQLALCHEMY_DATABASE_URI": database_url}) for _ in range(2)]
    # No skipping: if Redis is not there this fails, as the suite must.
    redis.Redis.from_url(REDIS_URL).ping()
    yield apps
    for app in apps:
        client = app.extensions.get("coordination_redis")
        if client is not None:
            client.close()


def test_a_lock_held_by_one_worker_is_refused_to_another(two_workers):
    first, second = two_workers
    name = f"test-{uuid.uuid4().hex}"
    with first.app_context(), coordination.exclusive(name, ttl_seconds=30) as mine:
        assert mine
        with second.app_context(), coordination.exclusive(name) as theirs:
            assert not theirs
    with second.app_context(), coordination.exclusive(name) as theirs:
        assert theirs  # released


def test_the_send_rate_is_counted_across_workers(two_workers):
    first, second = two_workers
    second_now = 10**9 + uuid.uuid4().int % 10**6  # a window no other test uses
    with first.app_context():
        client_a = coordination.redis_client()
        counts = [coordination._count_in_redis(client_a, second_now) for _ in range(3)]
    with second.app_context():
        client_b = coordination.redis_client()
        counts.append(coordination._count_in_redis(client_b, second_now))
    assert counts == [1, 2, 3, 4]  # one counter for everybody


def test_sending_waits_when_the_window_is_full(two_workers, monkeypatch):
    first, _ = two_workers
    sleeps = []
    monkeypatch.setattr(coordination.time, "sleep", lambda s: sleeps.append(s))
    with first.app_context():
        first.config["MAIL_RATE_PER_SECOND"] = 2
        frozen = 2 * 10**9 + uuid.uuid4().int % 10**6 + 0.5
        ticks = iter([frozen, frozen, frozen, frozen + 1])
        monkeypatch.setattr(coordination.time, "time", lambda: next(ticks))
        coordination.wait_for_send_slot()
        coordination.wait_for_send_slot()
        coordination.wait_for_send_slot()  # third in the same second: waits for the next
    assert sleeps == [pytest.approx(0.5)]


def test_in_process_lock_without_redis(app):
    name = f"test-{uuid.uuid4().hex}"
    results = []
    with coordination.exclusive(name) as mine:
        thread = threading.Thread(target=lambda: results.append(
            _try_lock(app, name)))
        thread.start()
        thread.join()
        assert mine
    assert results == [False]


def _try_lock(app, name):
    with app.app_context(), coordination.exclusive(name) as got:
        return got


def test_mail_still_goes_when_redis_is_down(database_url):
    """A password reset must not fail because the shared counter is unreachable."""
    from tests.support.smtp_sink import free_port

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url,
                      "REDIS_URL": f"redis://127.0.0.1:{free_port()}"})  # nobody listens
    with app.app_context():
        coordination.wait_for_send_slot()  # returns instead of raising
        coordination.redis_client().close()


def test_writes_noted_by_one_worker_reach_the_recorder_until_it_stops(two_workers):
    """What a rebuild replays: ids noted by any worker while it records, none after."""
    recorder, writer = two_workers
    name = f"test-recording-{uuid.uuid4().hex[:8]}"
    with recorder.app_context():
        coordination.start_recording(name)
    with writer.app_context():
        coordination.note(name, 7)
        coordination.note(name, 9)
    with recorder.app_context():
        assert coordination.drain(name) == {"7", "9"}
    with writer.app_context():
        coordination.note(name, 11)
    with recorder.app_context():
        assert coordination.drain(name, stop=True) == {"11"}
    with writer.app_context():
        coordination.note(name, 13)  # the recording is over: nothing is kept
    with recorder.app_context():
        coordination.start_recording(name)
        assert coordination.drain(name, stop=True) == set()


def test_recording_in_process_without_redis(app):
    name = f"test-recording-{uuid.uuid4().hex[:8]}"
    coordination.note(name, 1)  # not recording yet
    coordination.start_recording(name)
    coordination.note(name, 2)
    assert coordination.drain(name) == {"2"}
    coordination.note(name, 3)
    assert coordination.drain(name, stop=True) == {"3"}
    coordination.note(name, 4)
    assert coordination.drain(name) == set()
