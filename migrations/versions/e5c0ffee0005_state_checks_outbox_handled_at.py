"""states: a CHECK constraint on every state column; outbox_events.sent_at is handled_at

Revision ID: e5c0ffee0005
Revises: d4c0ffee0004
Create Date: 2026-12-02 06:00:00

"""
import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5c0ffee0005'
down_revision = 'd4c0ffee0004'
branch_labels = None
depends_on = None

# Written out, not imported from marketplace.models.states: a migration must keep meaning
# what it meant when it was written.
LISTING = ('draft', 'pending', 'published', 'archived', 'expired')
MATCH = ('new', 'interesting', 'dismissed')
DELIVERY = ('claimed', 'retrying', 'sent', 'failed', 'bounced', 'suppressed', 'skipped')
SUBSCRIBER = ('pending', 'confirmed', 'unsubscribed')
ISSUE = ('draft', 'scheduled', 'sending', 'paused', 'sent')

CHECKS = {
    'solutions': {'status': LISTING},
    'needs': {'status': LISTING},
    'matches': {'buyer_state': MATCH, 'supplier_state': MATCH},
    'digest_deliveries': {'status': DELIVERY},
    'issue_deliveries': {'status': DELIVERY},
    'subscribers': {'status': SUBSCRIBER},
    'issues': {'status': ISSUE},
}


def _condition(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with warnings.catch_warnings():
        # SQLite's batch mode reflects the tables a foreign key points to (users); their
        # expression index on lower(email) cannot be reflected, and is not needed here.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        _upgrade()


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        _downgrade()


def _upgrade():
    for table, columns in CHECKS.items():
        with _keeping_expression_index(table), op.batch_alter_table(table) as batch:
            for column, values in columns.items():
                batch.create_check_constraint(op.f(f'ck_{table}_{column}'),
                                              _condition(column, values))
    op.drop_index('ix_outbox_events_sent_at', table_name='outbox_events')
    with op.batch_alter_table('outbox_events') as batch:
        batch.alter_column('sent_at', new_column_name='handled_at')
    op.create_index('ix_outbox_events_handled_at', 'outbox_events', ['handled_at'])


def _downgrade():
    op.drop_index('ix_outbox_events_handled_at', table_name='outbox_events')
    with op.batch_alter_table('outbox_events') as batch:
        batch.alter_column('handled_at', new_column_name='sent_at')
    op.create_index('ix_outbox_events_sent_at', 'outbox_events', ['sent_at'])
    for table, columns in CHECKS.items():
        with _keeping_expression_index(table), op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')


@contextmanager
def _keeping_expression_index(table):
    """SQLite's batch mode rebuilds the table from what it can reflect, and an index on
    lower(email) is not reflected: subscribers' is dropped first and made again after."""
    if table != 'subscribers':
        yield
        return
    op.drop_index('uq_subscribers_email_lower', table_name='subscribers')
    yield
    op.create_index('uq_subscribers_email_lower', 'subscribers', [sa.text('lower(email)')],
                    unique=True)
