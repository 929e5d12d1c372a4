"""matches: the delivery verdict of the evidence rule, and each side's dismiss reason

Revision ID: d4c0ffee0004
Revises: c3c0ffee0003
Create Date: 2026-12-02 01:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4c0ffee0004'
down_revision = 'c3c0ffee0003'
branch_labels = None
depends_on = None


def upgrade():
    # Rows from before the rule start undelivered: `flask matches rescore` judges them.
    op.add_column('matches', sa.Column('evidence', sa.Float(), nullable=True))
    op.add_column('matches', sa.Column('delivered', sa.Boolean(), server_default=sa.false(),
                                       nullable=False))
    op.add_column('matches', sa.Column('delivered_at', sa.DateTime(timezone=True),
                                       nullable=True))
    op.add_column('matches', sa.Column('buyer_dismiss_reason', sa.String(length=16),
                                       nullable=True))
    op.add_column('matches', sa.Column('supplier_dismiss_reason', sa.String(length=16),
                                       nullable=True))
    op.create_index('ix_matches_delivered', 'matches', ['delivered'])


def downgrade():
    op.drop_index('ix_matches_delivered', table_name='matches')
    with op.batch_alter_table('matches') as batch:
        for column in ('supplier_dismiss_reason', 'buyer_dismiss_reason', 'delivered_at',
                       'delivered', 'evidence'):
            batch.drop_column(column)
