"""product aliases: other words retailers use for a product, per language

A product's name is in one language only ("Long Grain Rice 25kg"), so an order typed in Swahili
("nataka mfuko 1 wa mchele") found nothing; typed orders are matched against these as well.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "product_aliases",
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("alias", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["region", "sku"],
            ["products.region", "products.sku"],
            name=op.f("fk_product_aliases_region_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "region", "sku", "locale", "alias", name=op.f("pk_product_aliases")
        ),
    )


def downgrade() -> None:
    op.drop_table("product_aliases")
