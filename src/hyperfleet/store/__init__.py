"""The job database: searches and evaluations with their states."""

from hyperfleet.store.base import Store, StoreError
from hyperfleet.store.records import (
    EvaluationRecord,
    EvaluationState,
    ReportRecord,
    SearchRecord,
    SearchState,
    SearchSummary,
)
from hyperfleet.store.sql_store import SCHEMA_VERSION, SqlStore, store_url

__all__ = ["Store", "StoreError", "SqlStore", "store_url", "SCHEMA_VERSION", "EvaluationRecord",
           "EvaluationState", "ReportRecord", "SearchRecord", "SearchState", "SearchSummary", "open_store",
           "default_store_location"]


def default_store_location() -> str:
    """``$HYPERFLEET_STORE`` if set, else ``./hyperfleet.db``."""
    import os

    return os.environ.get("HYPERFLEET_STORE") or "hyperfleet.db"


def open_store(location=None) -> Store:
    """Open the store at ``location`` (default: see above).

    ``location``: a SQLite file's path, ``sqlite:////path/file.db?journal_mode=delete`` (for network
    file systems without WAL; also ``$HYPERFLEET_SQLITE_JOURNAL=delete``), or a server's URL such as
    ``postgresql://user:password@host:5432/database`` (needs ``pip install 'hyperfleet[postgres]'``).
    """
    return SqlStore(location or default_store_location())
