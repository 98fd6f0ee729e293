"""The store interface: the single source of truth of searches and evaluations.

Only the driver writes to a store; the CLI and reports read it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterable, Optional, Sequence

from hyperfleet.store.records import (
    EvaluationRecord,
    EvaluationState,
    ReportRecord,
    SearchRecord,
    SearchSummary,
)


class StoreError(Exception):
    """A store cannot be opened or does not hold what was asked for."""


class StoreUnavailable(StoreError):
    """The store stayed locked or unreachable longer than hyperfleet waits (see ``store/retry.py``)."""


class Store(ABC):
    """What every store implements (see :class:`hyperfleet.store.SqlStore`)."""

    #: the store as named in messages (a file path, a URL without its password)
    where: str = "the store"

    @abstractmethod
    def create_search(self, label: str, folder: str, problem: dict, settings: dict,
                      problem_path: Optional[str] = None, run_path: Optional[str] = None,
                      search_id: Optional[str] = None) -> SearchRecord: ...

    @abstractmethod
    def update_search(self, search_id: str, **fields) -> None: ...

    @abstractmethod
    def get_search(self, search_id: str) -> SearchRecord: ...

    @abstractmethod
    def list_searches(self) -> list[SearchRecord]: ...

    @abstractmethod
    def find_searches(self, ref: str) -> list[SearchRecord]:
        """Searches whose label equals ``ref`` or whose id starts with it, oldest first."""

    @abstractmethod
    def summaries(self, search_ids: Optional[Iterable[str]] = None) -> list[SearchSummary]: ...

    @abstractmethod
    def create_evaluation(self, search_id: str, number: int, config: dict, folder: Optional[str] = None,
                          state: EvaluationState = EvaluationState.CREATED,
                          eval_id: Optional[str] = None, **fields) -> EvaluationRecord: ...

    @abstractmethod
    def update_evaluation(self, eval_id: str, **fields) -> None: ...

    def update_evaluations(self, updates: Sequence[tuple[str, dict]]) -> None:
        """Apply several updates (``[(eval_id, fields), ...]``); stores may do it in one transaction."""
        for eval_id, fields in updates:
            self.update_evaluation(eval_id, **fields)

    @abstractmethod
    def claim_search(self, search_id: str, token: str, lease_s: float, take_from: Optional[str] = None,
                     **fields) -> bool:
        """Make ``token`` the search's driver, atomically, and set ``fields`` with it.

        The claim succeeds (``True``) when the search has no driver token, has ``token`` already,
        has a lease that expired, or has the token ``take_from`` (a driver the caller saw dead);
        otherwise nothing is written and it returns ``False``. The lease lasts ``lease_s`` seconds.
        """

    @abstractmethod
    def renew_lease(self, search_id: str, token: str, lease_s: float) -> bool:
        """Extend the lease of the driver holding ``token``; ``False`` when it no longer holds it."""

    @abstractmethod
    def release_search(self, search_id: str, token: str, **fields) -> bool:
        """Drop the claim of ``token`` and set ``fields`` (the final state) in one write; ``False``
        (nothing written) when another driver holds the search."""

    @abstractmethod
    def list_evaluations(self, search_id: str, states: Optional[Iterable[EvaluationState]] = None
                         ) -> list[EvaluationRecord]: ...

    @abstractmethod
    def find_evaluations(self, prefix: str) -> list[EvaluationRecord]:
        """Evaluations whose id starts with ``prefix``."""

    @abstractmethod
    def add_reports(self, search_id: str, reports: Sequence[ReportRecord]) -> None:
        """Record intermediate values of evaluations of ``search_id``, in one transaction."""

    @abstractmethod
    def list_reports(self, search_id: str, eval_ids: Optional[Iterable[str]] = None) -> list[ReportRecord]:
        """The intermediate values of a search (or of some of its evaluations), by ``seq``."""

    def close(self) -> None:
        """Release connections."""

    def summary(self, search_id: str) -> SearchSummary:
        return self.summaries([search_id])[0]

    def resolve_search(self, ref: str) -> SearchRecord:
        """The search named by a label (the latest with it) or a unique id prefix.

        Raises:
            StoreError: when nothing matches or an id prefix is ambiguous.
        """
        matches = self.find_searches(ref)
        by_label = [s for s in matches if s.label == ref]
        if by_label:
            return by_label[-1]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise StoreError(f"no search with label or id {ref!r} in store {self.where}; "
                             f"`hyperfleet ls` lists the searches")
        ids = ", ".join(s.id[:12] for s in matches[:5])
        raise StoreError(f"id prefix {ref!r} matches {len(matches)} searches ({ids}); give more characters")

    def resolve_item(self, ref: str) -> SearchRecord | EvaluationRecord:
        """The search named by ``ref`` (label, the latest with it, or id prefix), or else the
        evaluation whose id starts with ``ref``.

        Raises:
            StoreError: when nothing matches, or an id prefix matches several items.
        """
        searches = self.find_searches(ref)
        labelled = [s for s in searches if s.label == ref]
        if labelled:
            return labelled[-1]
        matches: list = [*searches, *self.find_evaluations(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise StoreError(f"no search label, search id or evaluation id matches {ref!r} in store "
                             f"{self.where}; `hyperfleet ls` lists them")
        listed = ", ".join(f"{'search' if isinstance(m, SearchRecord) else 'evaluation'} {m.id[:12]}"
                           for m in matches[:6])
        raise StoreError(f"{ref!r} matches {len(matches)} items ({listed}); give more characters of the id")
