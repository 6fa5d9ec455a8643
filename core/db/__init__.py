"""Database plumbing shared by the engines: one metadata, portable column types, transactions."""

from core.db.database import Database, metadata
from core.db.prepared import Prepared
from core.db.types import DecimalAmount, UTCDateTime

__all__ = ["Database", "DecimalAmount", "Prepared", "UTCDateTime", "metadata"]
