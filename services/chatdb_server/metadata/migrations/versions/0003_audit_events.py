"""audit events

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=32), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('principal', sa.String(length=255), nullable=False),
    sa.Column('tenant', sa.String(length=63), nullable=False),
    sa.Column('method', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('data_source', sa.String(length=127), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('sql', sa.Text(), nullable=False),
    sa.Column('status_code', sa.String(length=32), nullable=False),
    sa.Column('row_count', sa.BigInteger(), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('peer', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_time'), ['time'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_principal'), ['principal'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_tenant'), ['tenant'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_data_source'), ['data_source'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_data_source'))
        batch_op.drop_index(batch_op.f('ix_audit_events_tenant'))
        batch_op.drop_index(batch_op.f('ix_audit_events_principal'))
        batch_op.drop_index(batch_op.f('ix_audit_events_time'))
    op.drop_table('audit_events')
