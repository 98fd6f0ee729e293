"""What a search's records say, and the checks before one is driven: its label, where its run
function lives, its problem as recorded (refused if the file now declares another space),
whether its driver still runs, and its best evaluations. Re-exported by :mod:`hyperfleet.api`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Optional, Union

from hyperfleet.driver_lifecycle import SearchBusy, driver_liveness
from hyperfleet.problem import HpProblem
from hyperfleet.store import SearchRecord, SearchState, Store
from hyperfleet.user_code import BY_VALUE, CodeRef, UserCodeError

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_label(label: str) -> str:
    if not _LABEL.match(label or ""):
        raise ValueError(f"label {label!r} is not usable: use letters, digits, '.', '_' and '-' "
                         f"(up to 128, starting with a letter or digit)")
    return label


def run_ref_of(run: Union[str, Callable, CodeRef], pickled: bool = True) -> CodeRef:
    """Where a run function lives: from ``file.py[:func]``, a ``CodeRef`` or a function object.

    A function object defined at the top level of a ``.py`` file is imported by the workers from
    there; any other (notebook, ``python -``, closure, lambda) is carried by value, pickled with
    cloudpickle when ``pickled`` (its evaluator runs it in other processes; see
    :func:`hyperfleet.user_code.function_ref`).
    """
    if isinstance(run, CodeRef):
        return run
    if isinstance(run, (str, Path)):
        from hyperfleet.user_code import load_run

        return load_run(str(run))[1]
    if callable(run):
        from hyperfleet.user_code import function_ref

        return function_ref(run, pickled)
    raise UserCodeError(f"run must be a path 'file.py[:func]' or a function, got {type(run).__name__}")


def _in_process(evaluator: Any, isolate: Optional[bool], eval_timeout: Optional[float], gpus_per_eval: int) -> bool:
    """Whether every evaluation runs in this process (no pickling, no spawned workers)."""
    from hyperfleet.execute import SerialExecutor, ThreadExecutor

    local = evaluator in ("serial", "thread") or isinstance(evaluator, (SerialExecutor, ThreadExecutor))
    return local and not isolate and eval_timeout is None and not gpus_per_eval


def recorded_run(record: SearchRecord, run: Union[str, Callable, None], settings: dict) -> CodeRef:
    """The run function of a search being continued: ``run`` if given, else the recorded location."""
    if run is not None:
        return run_ref_of(run, pickled=not _in_process(settings.get("evaluator"), settings.get("isolate"),
                                                        settings.get("eval_timeout"), settings.get("gpus_per_eval")))
    if record.run_path.startswith(BY_VALUE):
        raise ValueError(f"search {record.label} was started with the Python function {record.run_path.split(':', 1)[-1]}, "
                         f"which the store cannot hold; continue it from Python with "
                         f"continue_search({record.label!r}, run=that_function)")
    from hyperfleet.user_code import load_run

    ref = CodeRef.parse(record.run_path, "run")
    try:  # imported here first (as ``search`` does): a run file that is gone or broken stops
        load_run(str(ref))  # ``resume`` with one line instead of failing every evaluation
    except UserCodeError as err:
        raise UserCodeError(f"cannot resume search {record.label}: {err}") from None
    return ref


def check_not_running(record: SearchRecord) -> None:
    """Refuse to drive a search whose driver is alive on this host (or RUNNING on another).

    The recorded driver is judged by its PID, start time and boot id, so a stranger that reused
    the PID does not count; on another host, by its lease (see :mod:`hyperfleet.driver_lifecycle`).
    """
    if record.state != SearchState.RUNNING:
        return
    alive = driver_liveness(record)
    if alive == "alive":
        raise SearchBusy(f"search {record.label} ({record.id[:8]}) is running (driver pid {record.driver_pid}); "
                         f"wait for it or stop it with: hyperfleet cancel {record.label}")
    if alive == "unknown" and record.scheduler is None:
        raise SearchBusy(f"search {record.label} ({record.id[:8]}) is RUNNING on {record.driver_host}; "
                         f"resume it there, or stop it with: hyperfleet cancel {record.label}")


def recorded_problem(record: SearchRecord) -> HpProblem:
    """The problem as recorded; refuses when its file now declares an incompatible space."""
    problem = HpProblem.from_dict(record.problem)
    if record.problem_path:
        ref = CodeRef.parse(record.problem_path, "Problem")
        if Path(ref.path).is_file():
            from hyperfleet.problem.hp_problem import same_space
            from hyperfleet.user_code import load_problem

            current, _ = load_problem(str(ref))
            rules = ("conditions", "forbidden")  # the starting points may differ
            if (not same_space(problem.to_dict()["dims"], current.to_dict()["dims"])
                    or [current.to_dict().get(k) for k in rules] != [problem.to_dict().get(k) for k in rules]):
                raise ValueError(f"the problem in {ref.path} has changed since search {record.label} started "
                                 f"(now: {', '.join(map(str, current.dims))}); restore it, or start a new search")
    return problem


def best_evaluations(store: Store, search_id: str, top: int = 10) -> list:
    """The ``top`` successful, feasible evaluations of a search, best objective first (in its
    direction); with several objectives, the Pareto front (see :func:`pareto_evaluations`)."""
    from hyperfleet.store import EvaluationState

    problem = HpProblem.from_dict(store.get_search(search_id).problem)
    if problem.is_multi_objective:
        return pareto_evaluations(store, search_id)[:top]
    done = [e for e in store.list_evaluations(search_id, [EvaluationState.DONE]) if e.feasible is not False]
    sign = -1.0 if problem.directions[0] == "maximize" else 1.0
    return sorted(done, key=lambda e: (sign * e.objective, e.number))[:top]


def pareto_evaluations(store: Store, search_id: str) -> list:
    """The feasible, non-dominated evaluations of a search (its Pareto front; ties and
    duplicates included), ordered by the first objective, best first."""
    from hyperfleet.report.front import front_records

    problem = HpProblem.from_dict(store.get_search(search_id).problem)
    front = front_records(problem, store.list_evaluations(search_id))
    sign = -1.0 if problem.directions[0] == "maximize" else 1.0
    return sorted(front, key=lambda e: (sign * e.objective, e.number))
