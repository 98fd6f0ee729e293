"""What a label means when it is reused, and the seed of an unseeded search.

A label names one search: a command given the label of an existing search continues it
(``hyperfleet search --name``, ``run_search(label=...)``, ``hyperfleet submit``), unless told to
start another (``--new``). An unseeded search draws its seed and records it, so that it can be
reproduced.
"""

from __future__ import annotations

import secrets
from typing import Union

from hyperfleet.problem import HpProblem
from hyperfleet.search import Search
from hyperfleet.store import SearchRecord, SearchState, Store
from hyperfleet.user_code import BY_VALUE, CodeRef


def draw_seed() -> int:
    """A seed for an unseeded search (recorded, so that the search can be reproduced)."""
    return secrets.randbelow(2**31)


def reused_label(store: Store, record: SearchRecord, problem: HpProblem, run_ref: CodeRef,
                 search: Union[str, Search], max_evals: int) -> str:
    """What happens to a label that is taken: the line saying the search is continued.

    Raises:
        ValueError: the taken search is another search (space, run function, algorithm) or has
            nothing left to run; the message says what to do.
    """
    summary = store.summary(record.id)
    finished = summary.done + summary.failed
    what = f"label {record.label} exists ({record.state.value}, {finished} evaluations)"
    if record.state == SearchState.QUEUED:
        raise ValueError(f"{what} as {record.scheduler} job {record.job_id}; wait for it, or cancel it with "
                         f"`hyperfleet cancel {record.label}`")
    other = "choose another label, or pass --new (new=True) to start another search with this label"
    space = ("dims", "conditions", "forbidden")  # conditions and clauses are part of the space
    recorded = HpProblem.from_dict(record.problem).to_dict()
    if [recorded.get(k) for k in space] != [problem.to_dict().get(k) for k in space]:
        raise ValueError(f"{what} and searches another space; {other}")
    if not run_ref.by_value and not record.run_path.startswith(BY_VALUE) and str(run_ref) != record.run_path:
        raise ValueError(f"{what} and runs {record.run_path}; {other}")
    name = type(search).__name__ if isinstance(search, Search) else search
    if record.settings.get("search") != name:
        raise ValueError(f"{what} and uses the {record.settings.get('search')} search; {other}")
    if finished >= max_evals:
        raise ValueError(f"{what}: nothing to run with --max-evals {max_evals}; raise it above {finished} to "
                         f"continue that search, or pass --new (new=True) to start another with this label")
    return f"{what}: continuing it up to {max_evals} evaluations (as `hyperfleet resume {record.label}` does)"
