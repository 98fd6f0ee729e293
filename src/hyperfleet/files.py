"""The modes of everything hyperfleet writes, set explicitly instead of left to the umask.

Folders are 0700 and files 0600 (only you read a search), or 0755 / 0644 with
``HYPERFLEET_SHARED=1`` (others may read it, never write). Secrets (TLS keys, the store URL
file) stay 0600 in both cases. The modes are set with ``chmod`` after creation, so a umask of
000 never leaves anything world-writable and a umask of 077 does not hide a shared search.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

SHARED_ENV = "HYPERFLEET_SHARED"
PathLike = Union[str, "os.PathLike[str]"]


def shared() -> bool:
    """True when searches are made readable by other users (``HYPERFLEET_SHARED=1``)."""
    return os.environ.get(SHARED_ENV) == "1"


def folder_mode(private: bool = False) -> int:
    """0o700, or 0o755 with ``HYPERFLEET_SHARED=1`` (``private`` folders are always 0o700)."""
    return 0o755 if shared() and not private else 0o700


def file_mode(private: bool = False) -> int:
    """0o600, or 0o644 with ``HYPERFLEET_SHARED=1`` (``private`` files are always 0o600)."""
    return 0o644 if shared() and not private else 0o600


def make_folder(path: PathLike, *, private: bool = False, exist_ok: bool = True) -> Path:
    """Create ``path`` and any missing parents, each with :func:`folder_mode`.

    Folders that already exist keep their mode (they may be the user's own).

    Raises:
        FileExistsError: ``path`` exists and ``exist_ok`` is false.
    """
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    if not missing and not exist_ok:
        raise FileExistsError(f"{path} exists")
    mode = folder_mode(private)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process
            if folder == path and not exist_ok:
                raise
            continue
        os.chmod(folder, mode)
    return path


def set_file_mode(path: PathLike, *, private: bool = False) -> None:
    """Give a file hyperfleet wrote its mode (:func:`file_mode`)."""
    os.chmod(path, file_mode(private))


def create_file(path: PathLike, *, private: bool = False) -> Path:
    """Create ``path`` if missing (empty) with its mode; an existing file keeps its content and mode."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    try:
        os.fchmod(fd, file_mode(private))
    finally:
        os.close(fd)
    return path


def write_private_text(path: PathLike, text: str) -> Path:
    """Write a secret to ``path``, readable by you only (0o600) from its first byte."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    return path


def open_output(path: PathLike) -> int:
    """Open (append, create) a file descriptor for an evaluation's output with :func:`file_mode`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, file_mode())
    except OSError:
        pass
    return fd


__all__ = ["SHARED_ENV", "shared", "folder_mode", "file_mode", "make_folder", "set_file_mode", "create_file",
           "write_private_text", "open_output"]
