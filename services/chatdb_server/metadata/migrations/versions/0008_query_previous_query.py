"""queries: the query an ask followed up (conversations)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('queries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_query_id', sa.String(length=63), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('queries', schema=None) as batch_op:
        batch_op.drop_column('previous_query_id')
