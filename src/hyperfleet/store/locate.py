"""Finding the job database the way people expect, as git finds its repository.

Order: the location given (``--store``), else ``$HYPERFLEET_STORE``, else the first folder from
the current one upwards that holds ``hyperfleet.db`` (so every command works inside a search's
folder, ``searches/LABEL-ID8/…``, which sits below its store), else ``./hyperfleet.db`` for the
commands that create a store (``search``, ``submit``). Read-only commands never create one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from hyperfleet.store.base import StoreError

STORE_FILE = "hyperfleet.db"
STORE_ENV = "HYPERFLEET_STORE"
SEARCHES_FOLDER = "searches"


class NoStoreFound(StoreError):
    """No store was given and none was found from the current folder upwards."""


def locate_store(location: Optional[str | os.PathLike] = None, *, create: bool = False,
                 start: Optional[str | os.PathLike] = None) -> str:
    """The store to use: a SQLite file path or a SQLAlchemy URL.

    Args:
        location: given explicitly (``--store``); returned as it is.
        create: ``True`` for commands that create a store when none is found (``./hyperfleet.db``
            of ``start``); ``False`` raises :class:`NoStoreFound` instead.
        start: the folder to search upwards from (default: the current folder).

    Raises:
        NoStoreFound: nothing given, nothing found and ``create`` is false.
    """
    if location is not None and os.fspath(location) != "":
        return os.fspath(location)
    env = os.environ.get(STORE_ENV)
    if env:
        return env
    here = Path(start if start is not None else os.getcwd()).resolve()
    found = find_store_upwards(here)
    if found is not None:
        return str(found)
    if create:
        return str(here / STORE_FILE)
    raise NoStoreFound(f"no hyperfleet store found (looked for {STORE_FILE} in {here} and its parents); "
                       f"run `hyperfleet search` first or give --store")


def find_store_upwards(folder: Path) -> Optional[Path]:
    """The first ``hyperfleet.db`` in ``folder`` or a parent; inside a search folder also a store
    of another name beside its ``searches/`` folder (when there is exactly one ``*.db`` there)."""
    for candidate in (folder, *folder.parents):
        path = candidate / STORE_FILE
        if path.is_file():
            return path
        if candidate.name == SEARCHES_FOLDER and candidate.parent != candidate:
            others = sorted(p for p in candidate.parent.glob("*.db") if p.is_file())
            if len(others) == 1:
                return others[0]
    return None
