"""column and row policies

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('column_policies',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('policy_id', sa.String(length=32), nullable=False),
    sa.Column('tenant', sa.String(length=63), nullable=False),
    sa.Column('source_pk', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=255), nullable=False),
    sa.Column('column_name', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('exempt_roles', sa.JSON(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_pk'], ['data_sources.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('policy_id'),
    sa.UniqueConstraint('source_pk', 'table_name', 'column_name', name='uq_column_policies_column')
    )
    with op.batch_alter_table('column_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_column_policies_source_pk'), ['source_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_column_policies_tenant'), ['tenant'], unique=False)

    op.create_table('row_policies',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('policy_id', sa.String(length=32), nullable=False),
    sa.Column('tenant', sa.String(length=63), nullable=False),
    sa.Column('source_pk', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=255), nullable=False),
    sa.Column('predicate', sa.Text(), nullable=False),
    sa.Column('exempt_roles', sa.JSON(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_pk'], ['data_sources.pk'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('policy_id')
    )
    with op.batch_alter_table('row_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_row_policies_source_pk'), ['source_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_row_policies_tenant'), ['tenant'], unique=False)


def downgrade() -> None:
    op.drop_table('row_policies')
    op.drop_table('column_policies')
