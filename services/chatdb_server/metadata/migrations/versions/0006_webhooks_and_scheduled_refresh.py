"""webhooks (subscriptions, the event outbox, deliveries and their attempts) and scheduled schema refreshes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('data_sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refresh_interval_s', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('auto_retrain', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_refresh_time', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_data_sources_next_refresh_time'), ['next_refresh_time'], unique=False)

    op.create_table('webhooks',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant', sa.String(length=63), nullable=False),
    sa.Column('webhook_id', sa.String(length=63), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('event_types', sa.JSON(), nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('tenant', 'webhook_id', name='uq_webhooks_tenant_id')
    )
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhooks_tenant'), ['tenant'], unique=False)

    op.create_table('webhook_events',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('tenant', sa.String(length=63), nullable=False),
    sa.Column('event_type', sa.String(length=63), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_events_tenant'), ['tenant'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('delivery_id', sa.String(length=40), nullable=False),
    sa.Column('tenant', sa.String(length=63), nullable=False),
    sa.Column('webhook_pk', sa.Integer(), nullable=False),
    sa.Column('event_pk', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempt_count', sa.Integer(), nullable=False),
    sa.Column('next_attempt_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=128), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_pk'], ['webhook_events.pk'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webhook_pk'], ['webhooks.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('delivery_id')
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_state_due', ['state', 'next_attempt_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_tenant'), ['tenant'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_webhook_pk'), ['webhook_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_event_pk'), ['event_pk'], unique=False)

    op.create_table('webhook_attempts',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('delivery_pk', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('attempt_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_pk'], ['webhook_deliveries.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('delivery_pk', 'number', name='uq_webhook_attempts_number')
    )
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_attempts_delivery_pk'), ['delivery_pk'], unique=False)


def downgrade() -> None:
    op.drop_table('webhook_attempts')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_events')
    op.drop_table('webhooks')
    with op.batch_alter_table('data_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_sources_next_refresh_time'))
        batch_op.drop_column('next_refresh_time')
        batch_op.drop_column('auto_retrain')
        batch_op.drop_column('refresh_interval_s')
