"""What a user is told when a search stops before its end: Ctrl-C, ``hyperfleet cancel``.

Ctrl-C (SIGINT) records the search INTERRUPTED and prints the best result so far with the exact
command that continues it; ``hyperfleet cancel`` (SIGTERM to a local driver) records it
CANCELLED, and the driver's command exits non-zero saying so.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional, TextIO

#: the search's message while ``hyperfleet cancel`` stops its driver; the driver keeps it as its reason
CANCEL_MESSAGE = "cancelled by hyperfleet cancel"
#: the generic reason of a SIGTERM that did not come from ``hyperfleet cancel``
SIGTERM_MESSAGE = "terminated ({}: the scheduler, a kill or a closed terminal)"

#: exit codes of ``hyperfleet search`` / ``resume``
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_CANCELLED = 143  # 128 + SIGTERM


def termination_reason(store, search_id: str, signal_name: str = "SIGTERM") -> str:
    """Why the driver received SIGTERM or SIGHUP: ``hyperfleet cancel`` (it says so in the store first) or else."""
    try:
        message = store.get_search(search_id).message or ""
    except Exception:  # noqa: BLE001 - the reason is informative only; never mask the stop
        message = ""
    return message if message.startswith(CANCEL_MESSAGE) else SIGTERM_MESSAGE.format(signal_name)


def exit_code(state: str) -> int:
    """The exit code of a command whose search ended in ``state`` (0 when it finished)."""
    return {"FAILED": EXIT_FAILED, "INTERRUPTED": EXIT_INTERRUPTED, "CANCELLED": EXIT_CANCELLED}.get(state, 0)


def store_argument(store) -> Optional[str]:
    """``--store`` as a user would type it again, or None for the default store.

    A relative SQLite path becomes absolute (the command may be typed in another folder); a
    password in a URL is hidden.
    """
    if store is None or not isinstance(store, (str, Path)):
        url = getattr(store, "url", None)
        if url is None:
            return None
        store = url
    text = str(store)
    if "://" not in text:
        return str(Path(text).expanduser().resolve())
    try:
        from sqlalchemy.engine import make_url

        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return text


def resume_command(ref: str, store=None) -> str:
    """The exact command that continues a search."""
    arg = store_argument(store)
    return f"hyperfleet resume {shlex.quote(ref)}" + (f" --store {shlex.quote(arg)}" if arg else "")


def interrupted_message(store, search_id: str, store_arg=None) -> str:
    """Lines telling what an interrupted search did and how to continue it (read from the store)."""
    from hyperfleet.search_records import best_evaluations

    record = store.get_search(search_id)
    summary = store.summary(search_id)
    done, failed = summary.done, summary.failed
    latest = store.resolve_search(record.label).id == record.id
    lines = [f"search {record.id} ({record.label}) interrupted: {done} done, {failed} failed"]
    best = best_evaluations(store, search_id, 1)
    if best:
        config = ", ".join(f"{k}={v!r}" for k, v in best[0].config.items())
        lines.append(f"best so far: objective {best[0].objective!r} (evaluation {best[0].id[:8]}): {config}")
    lines.append(f"results: {record.folder}")
    lines.append(f"continue it with: {resume_command(record.label if latest else record.id[:12], store_arg)}")
    return "\n".join(lines)


def report_interrupted(store, search_id: str, store_arg=None, stream: Optional[TextIO] = None) -> None:
    """Print :func:`interrupted_message` (to stderr); never raises, a second Ctrl-C aside."""
    try:
        text = interrupted_message(store, search_id, store_arg)
    except Exception as err:  # noqa: BLE001 - the interruption itself must reach the caller
        text = f"search {search_id} interrupted ({type(err).__name__} while reading its results: {err})"
    print(text, file=stream or sys.stderr, flush=True)
