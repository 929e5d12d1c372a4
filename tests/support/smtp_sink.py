"""A real SMTP server (aiosmtpd) that keeps what it receives, for tests and benchmarks.

Replies can be scripted per recipient: ``sink.reply_with("a@x.org", "451 try later", times=2)``
answers the first two attempts for that address with a 4xx, then accepts.  ``delay`` slows
every message down (before it is recorded, so a client killed meanwhile leaves no trace).

``hold_after(n)`` makes the message after the n-th wait, unrecorded and unanswered, until
``release()``: a test can kill a client at a known point of its conversation, with no race
against the 250 reply.  A message whose client went away before it was recorded is counted in
``abandoned`` and nowhere else.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink._scripted_reply(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Sleeping and holding yield to the event loop, so a client that disconnects meanwhile
        # is noticed: aiosmtpd cancels this handler and the message is never recorded (a
        # blocking sleep would record it after the client was gone, and it would count twice
        # when the client's retry arrives).
        try:
            if self.sink.delay:
                await asyncio.sleep(self.sink.delay)
            if self.sink._should_hold():
                self.sink._held_change(+1)
                try:
                    while self.sink._should_hold():
                        await asyncio.sleep(0.01)
                finally:
                    self.sink._held_change(-1)
        except asyncio.CancelledError:
            self.sink._abandon()
            raise
        self.sink._record(envelope.rcpt_tos, envelope.content)
        return "250 Message accepted"


class SmtpSink:
    def __init__(self, port: int = 0, delay: float = 0.0, keep_messages: bool = True) -> None:
        self.delay = delay
        self.keep_messages = keep_messages
        self.received: list[tuple[list[str], bytes]] = []
        self.count = 0
        self.abandoned = 0  # messages whose client went away before they were recorded
        self.held = 0  # messages waiting for release() right now
        self._hold_after: int | None = None
        self._scripts: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.port = port or free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- scripting and reading ---------------------------------------------------------------
    def reply_with(self, address: str, reply: str, times: int = 1_000_000) -> None:
        with self._lock:
            self._scripts[address.lower()] = [reply] * times

    def _scripted_reply(self, address: str) -> str | None:
        with self._lock:
            script = self._scripts.get(address.lower())
            return script.pop() if script else None

    def hold_after(self, count: int) -> None:
        """Once ``count`` messages are recorded, hold every further one until ``release()``."""
        with self._lock:
            self._hold_after = count

    def release(self) -> None:
        with self._lock:
            self._hold_after = None

    def _should_hold(self) -> bool:
        with self._lock:
            return self._hold_after is not None and self.count >= self._hold_after

    def _held_change(self, delta: int) -> None:
        with self._lock:
            self.held += delta

    def _abandon(self) -> None:
        with self._lock:
            self.abandoned += 1

    def _record(self, recipients: list[str], content: bytes) -> None:
        with self._lock:
            self.count += 1
            if self.keep_messages:
                self.received.append((list(recipients), content))

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.count = 0
            self.abandoned = 0

    def recipients(self) -> Counter:
        """How many messages each address got."""
        with self._lock:
            return Counter(addr.lower() for rcpts, _ in self.received for addr in rcpts)

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [message_from_bytes(content, policy=policy.default)
                    for _, content in self.received]

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        return self._wait(lambda: self.count >= count, timeout)

    def wait_held(self, timeout: float = 30.0) -> bool:
        """Wait until a message is being held (see ``hold_after``)."""
        return self._wait(lambda: self.held > 0, timeout)

    def wait_abandoned(self, count: int, timeout: float = 30.0) -> bool:
        return self._wait(lambda: self.abandoned >= count, timeout)

    @staticmethod
    def _wait(condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.05)
        return condition()
