"""warehouse location: where each warehouse stands, the day's routes starting and ending there

Existing warehouses get the point route planning used for their region until now (the demo's
depot), so their plans do not move; an operator corrects it to the warehouse's own.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 02:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# region -> (lat, lon): the depots the day planner started every route from before this
FORMER_DEPOTS = {
    "lagos": (6.4550, 3.3841),
    "nairobi": (-1.2864, 36.8172),
    "cape_town": (-33.9249, 18.4241),
}


def upgrade() -> None:
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lon", sa.Float(), nullable=True))
    warehouses = sa.table(
        "warehouses", sa.column("region", sa.String), sa.column("lat"), sa.column("lon")
    )
    for region, (lat, lon) in FORMER_DEPOTS.items():
        op.execute(
            warehouses.update()
            .where(warehouses.c.region == region, warehouses.c.lat.is_(None))
            .values(lat=lat, lon=lon)
        )


def downgrade() -> None:
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.drop_column("lon")
        batch_op.drop_column("lat")
