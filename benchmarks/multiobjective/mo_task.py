"""The real task: an MLPClassifier on scikit-learn's load_digits, accuracy against model size.

    python benchmarks/multiobjective/mo_task.py          # (re)build data/mlp_digits.csv

A discrete space of 480 configurations (hidden width 4..128 in powers of two, 1 or 2 hidden
layers, L2 penalty 1e-5..1e-1, initial learning rate 1e-4..1e-1, relu or tanh). Each one is
trained once (30 epochs of Adam, ``random_state=0``, numpy pinned to one thread) on a fixed
stratified 75/25 split of the 1,797 digits, giving two objectives:

    accuracy       validation accuracy, maximized
    log10_params   log10 of the number of weights and biases, minimized

Training is deterministic, so the whole table is computed once and benchmark runs look their
configurations up in it (``data/mlp_digits.csv``, committed): a run costs the engines' own
time only, and the table's exact Pareto front is the reference front.
"""
from __future__ import annotations

import csv
import itertools
import math
import os
import sys
import time
import warnings
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "data" / "mlp_digits.csv"

SPACE = [
    ("log2_hidden", "int", 2, 7),
    ("n_layers", "int", 1, 2),
    ("log10_alpha", "int", -5, -1),
    ("log10_lr", "int", -4, -1),
    ("activation", "cat", ["relu", "tanh"]),
]
NAMES = [dim[0] for dim in SPACE]


def all_configs() -> list[dict]:
    """Every configuration of the space, in a fixed order."""
    ranges = [range(d[2], d[3] + 1) if d[1] == "int" else d[2] for d in SPACE]
    return [dict(zip(NAMES, values)) for values in itertools.product(*ranges)]


def key(config: dict) -> tuple:
    """The table's key of a configuration (ints as ints, the activation as its string)."""
    return tuple(int(config[n]) if d[1] == "int" else str(config[n]) for n, d in zip(NAMES, SPACE))


def n_params(config: dict, n_in: int = 64, n_out: int = 10) -> int:
    """Weights and biases of the network."""
    widths = [n_in] + [2 ** int(config["log2_hidden"])] * int(config["n_layers"]) + [n_out]
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


def train(config: dict) -> float:
    """Validation accuracy of one configuration (deterministic)."""
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.25, random_state=0,
                                                      stratify=y)
    model = MLPClassifier(
        hidden_layer_sizes=(2 ** int(config["log2_hidden"]),) * int(config["n_layers"]),
        activation=config["activation"], alpha=10.0 ** int(config["log10_alpha"]),
        learning_rate_init=10.0 ** int(config["log10_lr"]), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    return float(model.score(x_val, y_val))


@lru_cache(maxsize=1)
def table() -> dict[tuple, tuple[float, float]]:
    """key -> (accuracy, log10_params), read from the committed CSV."""
    out = {}
    with TABLE.open() as f:
        for row in csv.DictReader(f):
            config = {n: row[n] for n in NAMES}
            out[key(config)] = (float(row["accuracy"]), float(row["log10_params"]))
    return out


def evaluate(config: dict) -> tuple[float, float]:
    """(accuracy, log10_params) of a configuration, from the table."""
    return table()[key(config)]


def build(path: Path = TABLE) -> None:
    """Train every configuration and write the table (a few minutes on one core)."""
    configs = all_configs()
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(NAMES + ["accuracy", "log10_params"])
        for i, config in enumerate(configs):
            accuracy = train(config)
            writer.writerow([config[n] for n in NAMES]
                            + [f"{accuracy:.6f}", f"{math.log10(n_params(config)):.6f}"])
            if i % 40 == 0:
                print(f"{i}/{len(configs)} {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    build()
