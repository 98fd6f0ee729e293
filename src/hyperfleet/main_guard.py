"""The ``if __name__ == "__main__":`` guard a script needs around ``run_search``.

Worker processes started with ``spawn`` (the process evaluator, a local Dask cluster) import the
script that started them again, as ``__mp_main__``. A script that calls ``run_search`` outside the
guard would start a search in every worker, and each would fail with a multiprocessing traceback.
:func:`check_main_guard` refuses that once, before anything runs, and :func:`exit_if_reimported`
makes a worker that re-imports such a script anyway exit quietly with :data:`REIMPORT_EXIT_CODE`.
"""

from __future__ import annotations

import ast
import multiprocessing
import sys
from pathlib import Path
from typing import Optional

#: exit code of a worker process whose start re-imported a script calling run_search unguarded
REIMPORT_EXIT_CODE = 86

GUARD_HELP = ('put the call under `if __name__ == "__main__":` (worker processes import your script '
              'again, and would each start the search); see "Python API" in the README')


def reimporting_main() -> bool:
    """Whether this process is a ``spawn`` child still importing its parent's ``__main__``."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def exit_if_reimported() -> None:
    """In a worker re-importing an unguarded script: exit at once, silently (the parent explains)."""
    if reimporting_main():
        sys.stderr.write(f"hyperfleet: run_search called while a worker process imported the main script: "
                         f"{GUARD_HELP}\n")
        raise SystemExit(REIMPORT_EXIT_CODE)


def unguarded_call_site() -> Optional[str]:
    """``file:line`` of the call into hyperfleet from the top level of the main script when that
    call is not under an ``if __name__ == "__main__":`` guard, else None.

    A notebook, ``python -``, ``python -c`` and ``python -m package`` are fine: ``spawn`` does
    not run them again.
    """
    main = sys.modules.get("__main__")
    spec_name = getattr(getattr(main, "__spec__", None), "name", "") or ""
    if spec_name.endswith(".__main__"):
        return None  # `python -m package`: spawn does not import a package's __main__ again
    path = getattr(main, "__file__", None)
    if not path or not str(path).endswith(".py") or not Path(path).is_file():
        return None
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_code.co_name == "<module>" and frame.f_globals is vars(main)):
        frame = frame.f_back
    if frame is None:
        return None
    try:
        tree = ast.parse(Path(path).read_text(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    if _guarded(tree.body, frame.f_lineno):
        return None
    return f"{path}:{frame.f_lineno}"


def _guarded(body: list, line: int) -> bool:
    """Whether ``line`` lies under an ``if`` testing ``__name__`` in these statements."""
    for node in body:
        end = getattr(node, "end_lineno", node.lineno)
        if not node.lineno <= line <= end:
            continue
        if isinstance(node, ast.If) and any(isinstance(n, ast.Name) and n.id == "__name__"
                                            for n in ast.walk(node.test)):
            return True
        children = [getattr(node, name, None) for name in ("body", "orelse", "finalbody", "handlers")]
        for child in children:
            if isinstance(child, list) and child and _guarded(child, line):
                return True
        return False
    return False


def check_main_guard(spawns_workers: bool) -> None:
    """Refuse, before anything runs, an unguarded top-level call from a script whose evaluator
    starts worker processes by ``spawn``.

    Raises:
        RuntimeError: naming the script's line and what to do.
    """
    exit_if_reimported()
    if not spawns_workers:
        return
    site = unguarded_call_site()
    if site is not None:
        raise MainGuardError(f"run_search is called at the top level of {site}: {GUARD_HELP}")


class MainGuardError(RuntimeError):
    """A script runs a search with worker processes without the ``__main__`` guard."""
