"""introductions, their steps and messages

Revision ID: f6c0ffee0006
Revises: e5c0ffee0005
Create Date: 2026-12-02 05:06:39.902325

"""
import warnings

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f6c0ffee0006'
down_revision = 'e5c0ffee0005'
branch_labels = None
depends_on = None

STAGES = "stage IN ('new', 'contacted', 'meeting', 'nda', 'pilot', 'contract', 'declined', 'expired')"


def upgrade():
    # Plain ADD COLUMN (no batch): SQLite's batch copy would drop users' lower(email) index.
    op.add_column('users', sa.Column('introduction_notice', sa.String(length=16),
                                     server_default='immediate', nullable=False))
    op.add_column('users', sa.Column('introduction_summary_at', sa.DateTime(timezone=True),
                                     nullable=True))
    op.create_table('introductions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('solution_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=True),
    sa.Column('sender_org_id', sa.Integer(), nullable=False),
    sa.Column('recipient_org_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('recipient_contact_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('help_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('wishes', sa.JSON(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('decline_reason', sa.String(length=32), nullable=True),
    sa.Column('decline_note', sa.Text(), nullable=False),
    sa.Column('open_pair', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stage_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_introductions_match_id_matches'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_introductions_need_id_needs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_introductions_proposed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_contact_id'], ['users.id'], name=op.f('fk_introductions_recipient_contact_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_org_id'], ['organizations.id'], name=op.f('fk_introductions_recipient_org_id_organizations')),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_introductions_sender_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_org_id'], ['organizations.id'], name=op.f('fk_introductions_sender_org_id_organizations')),
    sa.ForeignKeyConstraint(['solution_id'], ['solutions.id'], name=op.f('fk_introductions_solution_id_solutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_introductions')),
    sa.UniqueConstraint('open_pair', name=op.f('uq_introductions_open_pair')),
    sa.CheckConstraint(STAGES, name=op.f('ck_introductions_stage'))
    )
    with op.batch_alter_table('introductions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_introductions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_introductions_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_introductions_recipient_org_id'), ['recipient_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_introductions_sender_org_id'), ['sender_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_introductions_solution_id'), ['solution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_introductions_stage'), ['stage'], unique=False)

    op.create_table('introduction_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('introduction_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_introduction_messages_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['introduction_id'], ['introductions.id'], name=op.f('fk_introduction_messages_introduction_id_introductions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_introduction_messages_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_introduction_messages'))
    )
    with op.batch_alter_table('introduction_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_introduction_messages_introduction_id'), ['introduction_id'], unique=False)

    op.create_table('introduction_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('introduction_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_introduction_steps_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['introduction_id'], ['introductions.id'], name=op.f('fk_introduction_steps_introduction_id_introductions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_introduction_steps')),
    sa.CheckConstraint(STAGES, name=op.f('ck_introduction_steps_stage'))
    )
    with op.batch_alter_table('introduction_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_introduction_steps_introduction_id'), ['introduction_id'], unique=False)



def downgrade():
    with op.batch_alter_table('introduction_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_introduction_steps_introduction_id'))

    op.drop_table('introduction_steps')
    with op.batch_alter_table('introduction_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_introduction_messages_introduction_id'))

    op.drop_table('introduction_messages')
    with op.batch_alter_table('introductions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_introductions_stage'))
        batch_op.drop_index(batch_op.f('ix_introductions_solution_id'))
        batch_op.drop_index(batch_op.f('ix_introductions_sender_org_id'))
        batch_op.drop_index(batch_op.f('ix_introductions_recipient_org_id'))
        batch_op.drop_index(batch_op.f('ix_introductions_need_id'))
        batch_op.drop_index(batch_op.f('ix_introductions_created_at'))

    op.drop_table('introductions')
    # SQLite's batch mode rebuilds users from what it can reflect, which leaves out the
    # lower(email) index: dropped first, made again after.
    op.drop_index('uq_users_email_lower', table_name='users')
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table('users') as batch_op:
            batch_op.drop_column('introduction_summary_at')
            batch_op.drop_column('introduction_notice')
    op.create_index('uq_users_email_lower', 'users', [sa.text('lower(email)')], unique=True)
