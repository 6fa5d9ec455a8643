"""service_claims: one row per published service, holding the USSD code its newest version
answers on, unique, so that two services publishing one code at the same moment cannot both
take it (the services table's own check read before it wrote); retired_at, when an operator
took the service off the air (its code freed)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db.types

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    claims = op.create_table(
        "service_claims",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=True),
        sa.Column("retired_at", core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_claims")),
        sa.UniqueConstraint("service_code", name=op.f("uq_service_claims_service_code")),
    )
    # Each service claims its newest version's code; where two already share one (published
    # at the same moment before this), the first published keeps it and the other answers none.
    rows = op.get_bind().execute(
        sa.text("SELECT name, version, service_code FROM services ORDER BY published_at, name")
    )
    newest: dict[str, tuple[int, str | None]] = {}
    for name, version, code in rows:
        if name not in newest or version > newest[name][0]:
            newest[name] = (version, code)
    taken: set[str] = set()
    claimed = []
    for name, (_version, code) in newest.items():
        claimed.append({"name": name, "service_code": code if code not in taken else None})
        if code is not None:
            taken.add(code)
    if claimed:
        op.bulk_insert(claims, claimed)


def downgrade() -> None:
    op.drop_table("service_claims")
