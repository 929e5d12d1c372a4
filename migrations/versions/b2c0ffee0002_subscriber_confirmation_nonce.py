"""subscribers: a confirmation nonce, so each confirmation link works once

Revision ID: b2c0ffee0002
Revises: a1c0ffee0001
Create Date: 2026-12-01 21:45:00

Nullable, with no default for existing rows: their outstanding links carry no nonce and stay
valid until the row's first confirmation or unsubscribe sets one.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2c0ffee0002'
down_revision = 'a1c0ffee0001'
branch_labels = None
depends_on = None


# Not a batch operation: on SQLite that rebuilds the table and loses the lower(email) index,
# which it cannot reflect.  SQLite adds and drops a plain column in place.
def upgrade():
    op.add_column('subscribers', sa.Column('confirm_nonce', sa.String(length=32), nullable=True))


def downgrade():
    op.drop_column('subscribers', 'confirm_nonce')
