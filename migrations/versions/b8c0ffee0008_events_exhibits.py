"""events: exhibits

Revision ID: b8c0ffee0008
Revises: a7c0ffee0007
Create Date: 2026-12-02 06:24:27.612294

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8c0ffee0008'
down_revision = 'a7c0ffee0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_exhibits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('solution_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_exhibits_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['solution_id'], ['solutions.id'], name=op.f('fk_event_exhibits_solution_id_solutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_exhibits')),
    sa.UniqueConstraint('event_id', 'solution_id', name=op.f('uq_event_exhibits_event_id'))
    )
    with op.batch_alter_table('event_exhibits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_exhibits_event_id'), ['event_id'], unique=False)



def downgrade():
    with op.batch_alter_table('event_exhibits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_exhibits_event_id'))

    op.drop_table('event_exhibits')
