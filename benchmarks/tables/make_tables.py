"""Compute the tabular benchmark problems of benchmarks/tables/ once (real trainings on shipped data).

    python benchmarks/tables/make_tables.py [NAME ...]     # all tables when no name is given

Each table is every configuration of a small search space with the result of a real training,
written as ``NAME.csv.gz`` (one row per configuration: the hyperparameters, then ``objective``,
MAXIMISED, then extra metrics). Deterministic: the same seed per configuration every time.

* ``mlp_digits`` / ``mlp_cancer`` (grid, FCNet-like): a 2-hidden-layer MLP (numpy, Adam,
  6 epochs, float32) on scikit-learn's digits / breast-cancer data; widths 16..512, dropout 0/0.3/0.6,
  3 learning rates, batch 64/256, relu/tanh: 1,296 configurations. Objective: minus the
  validation log-loss.
* ``cell_digits`` / ``cell_diabetes`` (all-categorical, NAS-Bench-201-like): a cell of 4 nodes
  and 6 edges, each edge one of 5 operations (none, skip, relu projection, tanh projection,
  average pooling) on random-feature nodes, the read-out fit in closed form (ridge): 15,625
  cells. Objective: validation accuracy (digits) / minus the validation MSE of the standardised
  target (diabetes).

``mlp_digits`` and ``cell_diabetes`` are the held-aside tables (not used while tuning AMBS).
"""
from __future__ import annotations

import gzip
import itertools
import sys
import time
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent

MLP_SPACE = {
    "units_1": [16, 32, 64, 128, 256, 512],
    "units_2": [16, 32, 64, 128, 256, 512],
    "dropout": [0.0, 0.3, 0.6],
    "lr": [0.001, 0.003, 0.01],
    "batch_size": [64, 256],
    "activation": ["relu", "tanh"],
}
CELL_OPS = ["none", "skip", "proj_relu", "proj_tanh", "avg_pool"]
CELL_EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]


def _split(X, y, seed=0, stratify=True):
    X = (X - X.mean(0)) / (X.std(0) + 1e-8)
    return train_test_split(X, y, test_size=0.4, random_state=seed,
                            stratify=y if stratify else None)


# ---------------------------------------------------------------- MLP grid

def _act(z, kind):
    return np.maximum(z, 0.0) if kind == "relu" else np.tanh(z)


def _dact(a, z, kind):
    return (z > 0).astype(z.dtype) if kind == "relu" else 1.0 - a * a


def train_mlp(Xtr, ytr, Xva, yva, n_classes, units_1, units_2, dropout, lr, batch_size,
              activation, epochs=6, seed=0):
    """Minus the validation log-loss (and the accuracy) of a 2-layer MLP trained with Adam."""
    rng = np.random.default_rng(seed)
    dims = [Xtr.shape[1], units_1, units_2, n_classes]
    W = [(rng.normal(size=(a, b)) * np.sqrt(2.0 / a)).astype(np.float32)
         for a, b in zip(dims[:-1], dims[1:])]
    b = [np.zeros(d, dtype=np.float32) for d in dims[1:]]
    Xtr, Xva = Xtr.astype(np.float32), Xva.astype(np.float32)
    params = W + b
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    Y = np.eye(n_classes, dtype=np.float32)[ytr]
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(Xtr))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            x, yb = Xtr[idx], Y[idx]
            z1 = x @ W[0] + b[0]
            a1 = _act(z1, activation)
            m1 = (rng.random(a1.shape, dtype=np.float32) >= dropout) / np.float32(1 - dropout) if dropout else 1.0
            h1 = a1 * m1
            z2 = h1 @ W[1] + b[1]
            a2 = _act(z2, activation)
            m2 = (rng.random(a2.shape, dtype=np.float32) >= dropout) / np.float32(1 - dropout) if dropout else 1.0
            h2 = a2 * m2
            logits = h2 @ W[2] + b[2]
            logits -= logits.max(1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(1, keepdims=True)
            g3 = (p - yb) / len(idx)
            gW2, gb2 = h2.T @ g3, g3.sum(0)
            g2 = (g3 @ W[2].T) * m2 * _dact(a2, z2, activation)
            gW1, gb1 = h1.T @ g2, g2.sum(0)
            g1 = (g2 @ W[1].T) * m1 * _dact(a1, z1, activation)
            gW0, gb0 = x.T @ g1, g1.sum(0)
            grads = [gW0, gW1, gW2, gb0, gb1, gb2]
            t += 1
            for k, (prm, g) in enumerate(zip(params, grads)):
                m[k] = 0.9 * m[k] + 0.1 * g
                v[k] = 0.999 * v[k] + 0.001 * g * g
                prm -= lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
    h = _act(_act(Xva @ W[0] + b[0], activation) @ W[1] + b[1], activation)
    logits = (h @ W[2] + b[2]).astype(float)
    logits -= logits.max(1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    loss = -float(np.mean(logp[np.arange(len(yva)), yva]))
    acc = float(np.mean(logp.argmax(1) == yva))
    return -loss, acc


def mlp_table(X, y):
    Xtr, Xva, ytr, yva = _split(X, y)
    n_classes = int(y.max()) + 1
    names = list(MLP_SPACE)
    rows = []
    for values in itertools.product(*MLP_SPACE.values()):
        cfg = dict(zip(names, values))
        obj, acc = train_mlp(Xtr, ytr, Xva, yva, n_classes, **cfg)
        rows.append(list(values) + [obj, acc])
    return names + ["objective", "accuracy"], rows


# ---------------------------------------------------------------- architecture cell

def _edge_op(op, src, weights, e):
    if op == "none":
        return np.zeros_like(src)
    if op == "skip":
        return src
    if op == "proj_relu":
        return np.maximum(src @ weights[e, "relu"], 0.0) * np.sqrt(2.0)
    if op == "proj_tanh":
        return np.tanh(src @ weights[e, "tanh"])
    return (np.roll(src, 1, axis=1) + src + np.roll(src, -1, axis=1)) / 3.0  # avg_pool


def _node(parts):
    h = np.sum(parts, axis=0)
    scale = h.std()
    return h / scale if scale > 1e-12 else h


def _ridge_predict(Ftr, Ttr, Fva, lam=1.0):
    Ftr1 = np.hstack([Ftr, np.ones((len(Ftr), 1))])
    Fva1 = np.hstack([Fva, np.ones((len(Fva), 1))])
    A = Ftr1.T @ Ftr1 + lam * np.eye(Ftr1.shape[1])
    return Fva1 @ np.linalg.solve(A, Ftr1.T @ Ttr)


def cell_table(X, y, classify, width, seed=0):
    """Every cell; node values are shared between cells with the same edges into them."""
    rng = np.random.default_rng(seed)
    Xtr, Xva, ytr, yva = _split(X, y, stratify=classify)
    d = X.shape[1]
    weights = {"in": rng.normal(size=(d, width)) / np.sqrt(d)}
    for e in range(len(CELL_EDGES)):
        weights[e, "relu"] = rng.normal(size=(width, width)) / np.sqrt(width)
        weights[e, "tanh"] = rng.normal(size=(width, width)) * 1.5 / np.sqrt(width)
    if classify:
        Ttr = np.eye(int(y.max()) + 1)[ytr]
    else:
        mu, sd = ytr.mean(), ytr.std()
        Ttr, yva_s = ((ytr - mu) / sd)[:, None], (yva - mu) / sd
    n0 = np.vstack([Xtr, Xva]) @ weights["in"]
    ops = CELL_OPS
    # edges (0,1) (0,2) (1,2) (0,3) (1,3) (2,3) are numbered 0..5
    n1 = {a: _node([_edge_op(a, n0, weights, 0)]) for a in ops}
    n2 = {(a, b, c): _node([_edge_op(b, n0, weights, 1), _edge_op(c, n1[a], weights, 2)])
          for a in ops for b in ops for c in ops}
    from_0 = {f: _edge_op(f, n0, weights, 3) for f in ops}
    from_1 = {(a, g): _edge_op(g, n1[a], weights, 4) for a in ops for g in ops}
    names = [f"edge_{i}{j}" for i, j in CELL_EDGES]
    rows = []
    ntr = len(Xtr)
    for a, b, c in itertools.product(ops, repeat=3):
        node2 = n2[a, b, c]
        for f, g, h in itertools.product(ops, repeat=3):
            F = _node([from_0[f], from_1[a, g], _edge_op(h, node2, weights, 5)])
            P = _ridge_predict(F[:ntr], Ttr, F[ntr:])
            if classify:
                obj = float(np.mean(P.argmax(1) == yva))
            else:
                obj = -float(np.mean((P[:, 0] - yva_s) ** 2))
            rows.append([a, b, c, f, g, h, obj])
    return names + ["objective"], rows


# ---------------------------------------------------------------- main

def _digits():
    d = datasets.load_digits()
    return d.data.astype(float), d.target.astype(int)


def _cancer():
    d = datasets.load_breast_cancer()
    return d.data.astype(float), d.target.astype(int)


def _diabetes():
    d = datasets.load_diabetes()
    return d.data.astype(float), d.target.astype(float)


TABLES = {
    "mlp_digits": lambda: mlp_table(*_digits()),
    "mlp_cancer": lambda: mlp_table(*_cancer()),
    "cell_digits": lambda: cell_table(*_digits(), classify=True, width=64),
    "cell_diabetes": lambda: cell_table(*_diabetes(), classify=False, width=32),
}


def write_table(name: str) -> None:
    t0 = time.perf_counter()
    header, rows = TABLES[name]()
    with gzip.open(HERE / f"{name}.csv.gz", "wt", newline="") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row) + "\n")
    print(f"{name}: {len(rows)} rows in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    import os
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # (set in the shell too: numpy reads them at import)
    for table in sys.argv[1:] or list(TABLES):
        write_table(table)
