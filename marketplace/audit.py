"""Writing and reading the staff audit log (models/audit.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, select

from marketplace.extensions import db
from marketplace.models import AuditAction, AuditEntry, User

DETAIL_LIMIT = 200  # characters per value: a summary, not a copy of the record


def record(actor: User, action: AuditAction, target, **detail) -> AuditEntry:
    """Add an entry to the current transaction: the caller's commit writes it together with
    the change it describes (and a rollback drops both).  ``target`` is a model instance."""
    entry = AuditEntry(actor_id=actor.id, action=AuditAction(action),
                       target_type=type(target).__name__.lower(), target_id=target.id,
                       detail={key: _summary(value) for key, value in detail.items()})
    db.session.add(entry)
    return entry


def _summary(value):
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_summary(item) for item in value][:20]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)[:DETAIL_LIMIT]


def entries(action: AuditAction | None = None) -> Select:
    """Newest first, optionally of one action."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return query
