"""Rendering e-mail from templates/email/<name>/ and handing it to the configured transport.

Transports: ``outbox`` writes ``.eml`` files to ``instance/outbox/`` (embedded mode; admins read
them at /staff/outbox); ``smtp`` submits to ``SMTP_HOST:SMTP_PORT``.

Bulk senders (digests, the E-magazine) open one ``MailSession`` per batch: it keeps one SMTP
connection, waits for the global send rate, and sorts failures into transient ones (4xx
replies, lost connections: retry later) and permanent ones (5xx: the address bounced).
"""

from __future__ import annotations

import functools
import smtplib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

import css_inline
from flask import current_app, render_template
from flask_babel import force_locale

from marketplace.coordination import wait_for_send_slot

_inliner = css_inline.CSSInliner(keep_style_tags=False)


def inline_css(html: str) -> str:
    """The HTML part with its stylesheet moved into style attributes (mail clients drop
    <style>)."""
    return _inliner.inline(html)


class _UrlListHeader(UnstructuredHeader):
    """List-Unsubscribe: ``<https://...>`` exactly as written.  Folded the default way, a
    line over 78 characters (every unsubscribe link is longer) becomes RFC 2047 encoded
    words, which are not allowed in this header: receivers then find no link, and one-click
    unsubscribe (RFC 8058) does not work.  RFC 5322 allows lines of up to 998 characters."""

    def fold(self, *, policy) -> str:
        line = f"{self.name}: {self}"
        if line.isascii() and len(line) <= 998:
            return line + policy.linesep
        return super().fold(policy=policy)


class _FoldedOnce:
    """Keeps a header's last folding: the headers a bulk send's messages share (see
    ``_HeaderClasses``) are folded once, not once per message.  Folding depends on the
    header and on these policy settings only."""

    def fold(self, *, policy) -> str:
        key = (policy.linesep, policy.max_line_length, policy.utf8)
        cached = self.__dict__.get("_folded")
        if cached is None or cached[0] != key:
            cached = self._folded = (key, super().fold(policy=policy))
        return cached[1]


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, with List-Unsubscribe left unencoded, made cheaper for
    bulk sends: it builds each header's class once (the standard one creates a new class for
    every header it parses), and reuses the last few hundred parsed headers - a bulk send
    sets the same Subject, From, Content-Type ... on every message.  Header objects are
    immutable strings; messages already share them (``make_alternative`` moves them)."""

    def __init__(self) -> None:
        super().__init__()
        self.map_to_type("list-unsubscribe", _UrlListHeader)
        self._classes: dict[str, type] = {}
        self._parsed = functools.lru_cache(maxsize=256)(super().__call__)

    def __getitem__(self, name: str) -> type:
        cls = self._classes.get(name.lower())
        if cls is None:
            base = super().__getitem__(name)
            cls = self._classes[name.lower()] = type(base.__name__, (_FoldedOnce, base), {})
        return cls

    def __call__(self, name: str, value):
        if type(value) is str:
            return self._parsed(name, value)
        return super().__call__(name, value)


# email.policy.default with the header registry above.
_POLICY = policy.default.clone(header_factory=_HeaderClasses())


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, e.g. an ``.ics`` invitation."""

    filename: str
    mimetype: str  # "text/calendar"
    content: bytes


class TransientMailError(Exception):
    """Try again later: a 4xx reply, or the server could not be reached."""


class PermanentMailError(Exception):
    """A 5xx reply: this address will not take mail."""


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an e-mail, built on ``PUBLIC_BASE_URL`` - also inside a request,
    whose ``Host`` header the client chooses: a reset link built from it could point at an
    attacker's site (password-reset poisoning)."""
    adapter = current_app.extensions.get("public_url_adapter")
    if adapter is None:  # bound once: a bulk send builds thousands of links
        base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
        adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                           url_scheme=base.scheme)
        current_app.extensions["public_url_adapter"] = adapter
    return adapter.build(endpoint, values, force_external=True)


def render_email(name: str, to: str, language: str = "en", *,
                 headers: dict[str, str] | None = None,
                 attachments: tuple[Attachment, ...] = (), **context) -> EmailMessage:
    """Build a multipart message (plain text first, HTML last) in the reader's language."""
    message = build_message(*render_parts(name, language, **context), to, headers)
    for attachment in attachments:
        maintype, subtype = attachment.mimetype.split("/", 1)
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


def render_parts(name: str, language: str, **context) -> tuple[str, str, str]:
    """Subject, plain text and HTML (CSS inlined) from templates/email/<name>/."""
    with force_locale(language):
        subject = render_template(f"email/{name}/subject.txt", **context).strip()
        text = render_template(f"email/{name}/body.txt", **context)
        html = inline_css(render_template(f"email/{name}/body.html", **context))
    return subject, text, html


def build_message(subject: str, text: str, html: str, to: str,
                  headers: dict[str, str] | None = None) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="est-marketplace")
    for header, value in (headers or {}).items():
        message[header] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # Chosen here, because the generator would compile a regular expression for every
    # boundary it picks (each is new, so never cached) to check it against the parts.  A
    # boundary absent from both texts is absent from their encodings.
    boundary = f"==============={uuid.uuid4().hex}=="
    if f"--{boundary}" not in text and f"--{boundary}" not in html:
        message.set_boundary(boundary)
    return message


def current_transport() -> str:
    return current_app.config["MAIL_TRANSPORT"]


def deliver(message: EmailMessage) -> None:
    with MailSession() as session:
        session.send(message)


class MailSession:
    """One connection to the transport for a batch of messages."""

    def __init__(self) -> None:
        self.transport = current_transport()
        if self.transport not in ("outbox", "smtp"):
            raise RuntimeError(f"Unknown MAIL_TRANSPORT {self.transport!r}")
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> MailSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self._disconnect()

    def send(self, message: EmailMessage) -> None:
        """Submit one message; raises TransientMailError or PermanentMailError."""
        wait_for_send_slot()
        if self.transport == "outbox":
            _write_to_folder(message)
            return
        try:
            self._connection().send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            self._disconnect()
            code, reply = next(iter(error.recipients.values()))
            raise _classified(code, reply) from error
        except smtplib.SMTPResponseException as error:
            self._disconnect()
            raise _classified(error.smtp_code, error.smtp_error) from error
        except (smtplib.SMTPException, OSError) as error:  # lost connection, timeout
            self._disconnect()
            raise TransientMailError(f"{type(error).__name__}: {error}") from error

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = smtplib.SMTP(current_app.config["SMTP_HOST"],
                                      current_app.config["SMTP_PORT"], timeout=30)
        return self._smtp

    def _disconnect(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def _classified(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if 500 <= code < 600:
        return PermanentMailError(f"{code} {text}")
    return TransientMailError(f"{code} {text}")


def send_email(name: str, to: str, language: str = "en", *,
               attachments: tuple[Attachment, ...] = (), **context) -> None:
    deliver(render_email(name, to, language, attachments=attachments, **context))


def mail_folder() -> Path:
    return Path(current_app.config["MAIL_OUTBOX_DIR"])


def _write_to_folder(message: EmailMessage) -> None:
    folder = mail_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    # Write then rename, so a reader never sees half a message.
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(message.as_bytes(policy=policy.SMTP))
    tmp.replace(path)


def folder_messages() -> list[dict]:
    """The outbox, newest first, as summaries for the staff page."""
    folder = mail_folder()
    if not folder.exists():
        return []
    items = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = read_folder_message(path.stem)
        items.append({"id": path.stem, "subject": message["Subject"], "to": message["To"],
                      "date": message["Date"]})
    return items


def read_folder_message(message_id: str) -> EmailMessage:
    # The id comes from a URL: refuse anything that is not a plain file name in the outbox.
    if not message_id.replace("-", "").replace("T", "").isalnum():
        raise FileNotFoundError(message_id)
    path = mail_folder() / f"{message_id}.eml"
    if not path.is_file():
        raise FileNotFoundError(message_id)
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)
