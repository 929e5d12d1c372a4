"""Rendering e-mail from templates/email/<name>/ and handing it to the configured transport.

Transports: ``outbox`` writes ``.eml`` files to ``instance/outbox/`` (embedded mode; staff read
them at /staff/outbox); ``smtp`` submits to ``SMTP_HOST:SMTP_PORT``.
"""

from __future__ import annotations

import smtplib
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path

import css_inline
from flask import current_app, render_template
from flask_babel import force_locale

_inliner = css_inline.CSSInliner(keep_style_tags=False)


def render_email(name: str, to: str, language: str = "en", **context) -> EmailMessage:
    """Build a multipart message (plain text first, HTML last) in the reader's language."""
    with force_locale(language):
        subject = render_template(f"email/{name}/subject.txt", **context).strip()
        text = render_template(f"email/{name}/body.txt", **context)
        html = _inliner.inline(render_template(f"email/{name}/body.html", **context))
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="est-marketplace")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def current_transport() -> str:
    return current_app.config["MAIL_TRANSPORT"]


def deliver(message: EmailMessage) -> None:
    transport = current_transport()
    if transport == "outbox":
        _write_to_outbox(message)
    elif transport == "smtp":
        with smtplib.SMTP(current_app.config["SMTP_HOST"], current_app.config["SMTP_PORT"],
                          timeout=30) as smtp:
            smtp.send_message(message)
    else:
        raise RuntimeError(f"Unknown MAIL_TRANSPORT {transport!r}")


def send_email(name: str, to: str, language: str = "en", **context) -> None:
    deliver(render_email(name, to, language, **context))


def outbox_dir() -> Path:
    return Path(current_app.config["MAIL_OUTBOX_DIR"])


def _write_to_outbox(message: EmailMessage) -> None:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    # Write then rename, so a reader never sees half a message.
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(message.as_bytes(policy=policy.SMTP))
    tmp.replace(path)


def outbox_messages() -> list[dict]:
    """The outbox, newest first, as summaries for the staff page."""
    folder = outbox_dir()
    if not folder.exists():
        return []
    items = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = read_outbox_message(path.stem)
        items.append({"id": path.stem, "subject": message["Subject"], "to": message["To"],
                      "date": message["Date"]})
    return items


def read_outbox_message(message_id: str) -> EmailMessage:
    # The id comes from a URL: refuse anything that is not a plain file name in the outbox.
    if not message_id.replace("-", "").replace("T", "").isalnum():
        raise FileNotFoundError(message_id)
    path = outbox_dir() / f"{message_id}.eml"
    if not path.is_file():
        raise FileNotFoundError(message_id)
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)
