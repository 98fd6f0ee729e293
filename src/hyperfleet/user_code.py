"""Loading the user's ``problem.py`` and ``run`` function from files."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import shlex
import stat
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional


class UserCodeError(ValueError):
    """The user's problem or run file cannot be used as given."""


#: the ``path`` of a :class:`CodeRef` to a function carried by value (a notebook's, a closure)
BY_VALUE = "<by value>"


@dataclass(frozen=True)
class CodeRef:
    """A file and an attribute in it, written ``path.py:attr``.

    A function that no file defines (in a notebook, ``python -``, a closure, a lambda) is carried
    by value instead: ``path`` is :data:`BY_VALUE`, ``attr`` its name, and ``function_bytes`` the
    function pickled by value with cloudpickle (None when only this process runs it: the serial and
    thread evaluators find it in :data:`hyperfleet.execute.worker` by ``attr``).
    """

    path: str
    attr: str
    function_bytes: Optional[bytes] = field(default=None, compare=False, repr=False)

    @property
    def by_value(self) -> bool:
        return self.path == BY_VALUE

    @classmethod
    def parse(cls, spec: str, default_attr: str) -> "CodeRef":
        text = str(spec)
        path, sep, attr = text.rpartition(":")
        # "C:\\x.py" style drive letters and plain paths without ":attr"
        if not sep or not attr.isidentifier() or not path:
            path, attr = text, default_attr
        return cls(str(Path(path).expanduser().resolve()), attr)

    def __str__(self) -> str:
        return f"{self.path}:{self.attr}"


def check_not_writable_by_others(file: Path) -> None:
    """Refuse a user file, or its folder, that other users can write: they could change the code,
    or plant a module beside it (``pprint.py``) that would run as you."""
    for what, target in (("file", file), ("folder", file.parent)):
        try:
            info = target.stat()
        except OSError:
            continue
        if info.st_mode & 0o002 or (info.st_mode & 0o020 and not _private_group(info)):
            who = "every user" if info.st_mode & 0o002 else "its group"
            fix = f"chmod go-w {shlex.quote(str(target))}"
            if what == "folder" and info.st_mode & stat.S_ISVTX:
                fix = f"move {file.name} to a folder only you can write (a shared folder like {target} is not)"
            raise UserCodeError(f"refusing to load {file}: its {what} {target} is writable by {who} "
                                f"(mode {stat.S_IMODE(info.st_mode):o}), so others could make it run their code "
                                f"as you; fix: {fix}")


def _private_group(info: os.stat_result) -> bool:
    """The user-private group of the owner (group named as the user, no other member): RHEL's
    umask 002 makes files group-writable with nobody else in the group."""
    try:
        import grp
        import pwd

        owner = pwd.getpwuid(info.st_uid).pw_name
        group = grp.getgrgid(info.st_gid)
    except (ImportError, KeyError):
        return False
    return group.gr_name == owner and set(group.gr_mem) <= {owner}


def load_module(path: str):
    """Import a Python file as a module, by its path.

    The file and its folder must not be writable by other users. Its folder goes at the *end* of
    ``sys.path``, for its own imports of sibling modules: never ahead of the standard library or
    the installed packages, so that a file there named like one of them is not imported instead.
    """
    file = Path(path)
    if not file.is_file():
        raise UserCodeError(f"file {path} does not exist; check the path given to -p/-r")
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
    name = f"hyperfleet_user_{file.stem}_{digest}"
    # one import at a time: evaluation threads starting together must not see the module
    # before its code has run (it is in sys.modules from the start of its import)
    with _IMPORT_LOCK:
        if name in sys.modules:
            return sys.modules[name]
        return _import(file, name, path)


_IMPORT_LOCK = threading.RLock()


def _import(file: Path, name: str, path: str):
    check_not_writable_by_others(file)
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.append(folder)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise UserCodeError(f"{path} is not a Python file that can be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise UserCodeError(f"importing {path} failed: {type(err).__name__}: {err}") from err
    return module


def load_attr(ref: CodeRef, what: str) -> Any:
    module = load_module(ref.path)
    if not hasattr(module, ref.attr):
        raise UserCodeError(f"{ref.path} defines no {what} named '{ref.attr}'; define it, or name "
                            f"another with {Path(ref.path).name}:NAME")
    return getattr(module, ref.attr)


def load_problem(spec: str):
    """Load an ``HpProblem`` from ``file.py`` (attribute ``Problem``) or ``file.py:attr``."""
    from hyperfleet.problem import HpProblem

    ref = CodeRef.parse(spec, "Problem")
    problem = load_attr(ref, "problem")
    if not isinstance(problem, HpProblem):
        raise UserCodeError(f"{ref} is a {type(problem).__name__}, not an HpProblem; "
                            f"create it with `Problem = HpProblem()` (from hyperfleet import HpProblem)")
    return problem, ref


def load_run(spec: str) -> tuple[Callable, CodeRef]:
    """Load the run function from ``file.py`` (function ``run``) or ``file.py:func``."""
    ref = CodeRef.parse(spec, "run")
    func = load_attr(ref, "run function")
    if not callable(func):
        raise UserCodeError(f"{ref} is not callable; it must be a function run(param_dict) -> float")
    return func, ref


def _importable(func: Callable) -> Optional["CodeRef"]:
    """A ``CodeRef`` to ``func`` when worker processes can import it from its file, else None."""
    name = getattr(func, "__qualname__", "")
    module = sys.modules.get(getattr(func, "__module__", None) or "")
    try:
        path = inspect.getsourcefile(func)
    except TypeError:
        return None
    if not path or not name.isidentifier() or not Path(path).is_file() or not path.endswith(".py"):
        return None
    if module is None or getattr(module, name, None) is not func:
        return None  # defined in a function, replaced, or not where its file says
    return CodeRef(str(Path(path).resolve()), name)


def function_ref(func: Callable, pickled: bool) -> "CodeRef":
    """Where a run function given as a Python object lives, for the workers.

    A function defined at the top level of a ``.py`` file is imported by the workers from there;
    any other (a notebook's, one typed in ``python -``, a closure, a lambda) is carried by value:
    registered in this process for the serial and thread evaluators and, with ``pickled`` (the
    evaluator runs it in other processes), pickled by value with cloudpickle.

    Raises:
        UserCodeError: it must be pickled and cloudpickle cannot pickle it.
    """
    ref = _importable(func)
    if ref is not None:
        return ref
    from hyperfleet.execute.worker import register_function

    name = f"{getattr(func, '__module__', None) or '?'}.{getattr(func, '__qualname__', type(func).__name__)}"
    data = None
    if pickled:
        try:
            import cloudpickle

            data = cloudpickle.dumps(func)
        except Exception as err:  # noqa: BLE001 - anything it cannot pickle
            raise UserCodeError(
                f"the run function {name} cannot be sent to worker processes (cloudpickle: "
                f"{type(err).__name__}: {err}); use evaluator='thread' or 'serial', or define it at the "
                f"top level of a .py file and pass 'file.py:func'") from None
    ref = CodeRef(BY_VALUE, name, data)
    register_function(ref, func)
    return ref
