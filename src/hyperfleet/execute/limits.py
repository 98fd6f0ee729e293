"""What is kept of one evaluation: plain JSON metadata, and caps on metadata, error text and output.

A run function may return anything in its metadata. What JSON can hold is kept (NumPy scalars
become numbers and arrays lists); anything else (a non-string key, an object) makes the
evaluation FAILED with the reason, and the search goes on. So that one evaluation cannot swell
the store or the folder, what is kept is capped, and a cut says so where it was made:

- metadata: :data:`METADATA_MAX_BYTES` of JSON (keys kept in order while they fit, plus
  ``"_truncated"`` saying what was left out);
- an error message: :data:`ERROR_MAX_CHARS` characters (its start and its end);
- ``stdout.txt`` / ``stderr.txt``: the first and the last :data:`OUTPUT_KEEP_BYTES` bytes, with a
  line saying how much was cut in between.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Optional

METADATA_MAX_BYTES = 256 * 1024
ERROR_MAX_CHARS = 64 * 1024
OUTPUT_KEEP_BYTES = 5 * 1024 * 1024
OUTPUT_FILES = ("stdout.txt", "stderr.txt")
_MAX_DEPTH = 64


class UnstorableValue(ValueError):
    """The run function returned metadata that JSON cannot hold."""


def plain(value: Any, where: str = "metadata", depth: int = 0) -> Any:
    """``value`` as plain JSON types (NumPy scalars -> numbers, arrays -> lists).

    Raises:
        UnstorableValue: a non-string key, a value JSON has no form for, or nesting past 64 levels.
    """
    if depth > _MAX_DEPTH:
        raise UnstorableValue(f"{where} is nested more than {_MAX_DEPTH} levels deep (a cycle?)")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise UnstorableValue(f"{where} has the key {key!r:.80} ({type(key).__name__}); metadata "
                                      f"keys must be strings")
            out[key] = plain(item, f"{where}[{key!r:.40}]", depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [plain(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # NumPy arrays and scalars
        converted = value.tolist()
        if not isinstance(converted, (bool, int, float, str, list, type(None))):
            raise UnstorableValue(f"{where} is a NumPy {value.dtype} value, which JSON cannot hold")
        return plain(converted, where, depth + 1)
    raise UnstorableValue(f"{where} is a {type(value).__name__} ({value!r:.60}), which JSON cannot hold; "
                          f"return numbers, strings, lists and dicts")


def cap_metadata(metadata: dict, limit: int = METADATA_MAX_BYTES) -> dict:
    """``metadata`` if its JSON fits in ``limit`` bytes, else its first keys that fit and ``_truncated``."""
    size = len(_dumps(metadata))
    if size <= limit:
        return metadata
    kept: dict = {}
    used = 200  # room for the note
    for key, item in metadata.items():
        cost = len(_dumps({key: item}))
        if used + cost > limit:
            continue
        kept[key] = item
        used += cost
    kept["_truncated"] = (f"metadata was {size} bytes of JSON, over the cap of {limit}: kept "
                          f"{len(kept)} of {len(metadata)} keys")
    return kept


def cap_text(text: Optional[str], limit: int = ERROR_MAX_CHARS) -> Optional[str]:
    """``text`` cut to its first and last ``limit // 2`` characters, saying so, when longer."""
    if text is None or len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut: over the cap of {limit} ...]\n{text[-half:]}"


def clean_result(state: str, objective: Optional[float], metadata: Any, error: Optional[str]
                 ) -> tuple[str, Optional[float], dict, Optional[str]]:
    """(state, objective, metadata, error) as they may be stored: plain, capped, or FAILED with why."""
    try:
        metadata = cap_metadata(plain(metadata if metadata is not None else {}))
        if not isinstance(metadata, dict):
            raise UnstorableValue("metadata must be a dict")
    except (UnstorableValue, RecursionError) as err:
        reason = f"the result cannot be stored: {err}"
        state, objective, metadata = "FAILED", None, {}
        error = reason if not error else f"{reason}\n{error}"
    return state, objective, metadata, cap_text(error)


def clean_outcome(outcome):
    """An :class:`~hyperfleet.execute.EvalOutcome` fit for the store (a copy when anything changed)."""
    state, objective, metadata, error = clean_result(outcome.state, outcome.objective, outcome.metadata,
                                                     outcome.error)
    if objective is not None and not (isinstance(objective, (int, float)) and math.isfinite(objective)):
        state, objective, error = "FAILED", None, f"the objective {objective!r:.60} is not a finite number"
    return dataclasses.replace(outcome, state=state, objective=objective, metadata=metadata, error=error)


def cap_output_files(folder: Optional[str], keep: int = OUTPUT_KEEP_BYTES) -> None:
    """Cut ``stdout.txt``/``stderr.txt`` in ``folder`` to their first and last ``keep`` bytes."""
    if folder is None:
        return
    for name in OUTPUT_FILES:
        path = Path(folder) / name
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if size <= 2 * keep + 4096:
            continue
        with open(path, "rb") as f:
            head = f.read(keep)
            f.seek(size - keep)
            tail = f.read(keep)
        note = (f"\n[... hyperfleet cut {size - 2 * keep} bytes here: {name} was {size} bytes, over the "
                f"cap of twice {keep} (its first and last {keep} bytes are kept) ...]\n").encode()
        tmp = path.with_name(f".{name}.cut")
        with open(tmp, "wb") as f:
            f.write(head + note + tail)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True, separators=(",", ":"))
