"""A real SMTP server (aiosmtpd) that keeps what it receives, for tests and benchmarks.

Replies can be scripted per recipient: ``sink.reply_with("a@x.org", "451 try later", times=2)``
answers the first two attempts for that address with a 4xx, then accepts.  ``delay`` slows
every message down (before it is recorded, so a client killed meanwhile leaves no trace).
"""

from __future__ import annotations

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
        if self.sink.delay:
            time.sleep(self.sink.delay)  # blocks the server loop: deliberately slow
        self.sink._record(envelope.rcpt_tos, envelope.content)
        return "250 Message accepted"


class SmtpSink:
    def __init__(self, port: int = 0, delay: float = 0.0, keep_messages: bool = True) -> None:
        self.delay = delay
        self.keep_messages = keep_messages
        self.received: list[tuple[list[str], bytes]] = []
        self.count = 0
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

    def _record(self, recipients: list[str], content: bytes) -> None:
        with self._lock:
            self.count += 1
            if self.keep_messages:
                self.received.append((list(recipients), content))

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.count = 0

    def recipients(self) -> Counter:
        """How many messages each address got."""
        with self._lock:
            return Counter(addr.lower() for rcpts, _ in self.received for addr in rcpts)

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [message_from_bytes(content, policy=policy.default)
                    for _, content in self.received]

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count >= count:
                return True
            time.sleep(0.05)
        return self.count >= count
