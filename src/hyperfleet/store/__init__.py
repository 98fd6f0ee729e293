"""The job database: searches and evaluations with their states."""

from hyperfleet.store.base import Store, StoreError, StoreUnavailable
from hyperfleet.store.locate import STORE_ENV, STORE_FILE, NoStoreFound, locate_store
from hyperfleet.store.records import (
    EvaluationRecord,
    EvaluationState,
    MemberRecord,
    MemberState,
    ReportRecord,
    SearchRecord,
    SearchState,
    SearchSummary,
)
from hyperfleet.store.sql_store import SCHEMA_VERSION, SqlStore, store_url

__all__ = ["Store", "StoreError", "StoreUnavailable", "SqlStore", "store_url", "SCHEMA_VERSION", "EvaluationRecord",
           "EvaluationState", "MemberRecord", "MemberState", "ReportRecord", "SearchRecord", "SearchState", "SearchSummary", "open_store",
           "default_store_location", "locate_store", "NoStoreFound", "STORE_FILE", "STORE_ENV"]


def default_store_location(create: bool = True) -> str:
    """Where a store is found when none is given: see :func:`locate_store`."""
    return locate_store(None, create=create)


def open_store(location=None, *, create: bool = True) -> Store:
    """Open the store at ``location``, or the one :func:`locate_store` finds.

    ``location``: a SQLite file's path, ``sqlite:////path/file.db?journal_mode=delete`` (for network
    file systems without WAL; also ``$HYPERFLEET_SQLITE_JOURNAL=delete``), or a server's URL such as
    ``postgresql://user:password@host:5432/database`` (needs ``pip install 'hyperfleet[postgres]'``).
    ``create=False`` (read-only commands) never creates a file or tables: a missing store raises
    :class:`StoreError`.
    """
    return SqlStore(locate_store(location, create=create), create=create)
