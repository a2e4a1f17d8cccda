"""config_overlays: an admin's edits of a hall's configuration (laid over the TOML file)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 21:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'config_overlays',
        sa.Column('hall', sa.String(length=48), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('hall'),
    )


def downgrade() -> None:
    op.drop_table('config_overlays')
