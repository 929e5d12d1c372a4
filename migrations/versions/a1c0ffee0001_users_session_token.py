"""users: session token, rotated to end every session of a user

Revision ID: a1c0ffee0001
Revises: e70b8d9367fd
Create Date: 2026-12-01 21:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1c0ffee0001'
down_revision = 'e70b8d9367fd'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows get "0": their old cookies (ids without a token) stop working once, and
    # the first logout or password change gives them a random token.
    # A plain ADD COLUMN: a batch copy of the table on SQLite would lose the expression index
    # uq_users_email_lower.
    op.add_column('users', sa.Column('session_token', sa.String(length=32),
                                     server_default='0', nullable=False))


def downgrade():
    op.drop_column('users', 'session_token')
