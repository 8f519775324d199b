"""adapters: the accuracy a fine-tuned version reached on the golden examples held out of its training

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('adapters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_out_accuracy', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('held_out_examples', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('adapters', schema=None) as batch_op:
        batch_op.drop_column('held_out_examples')
        batch_op.drop_column('held_out_accuracy')
