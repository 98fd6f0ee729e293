"""Tables of the early-stopping benchmark.

- **best at E/3 and E**: the best objective of a training that reached ``max_step``, once a
  third of the epoch budget and once all of it were spent (mean +- standard deviation over
  seeds; "-" when no training had finished).
- **goal (a)**: each AMBS + stopper run at E/3 against full-training AMBS at E: the mean
  difference and how many seeds are at least as good within the seed spread (one standard
  deviation of full-training AMBS at E).
- **goal (b)**: ranks (1 = best) of the engines at an equal budget, per task and seed, averaged.
- **wall time**: the same at the simulated 2-worker time when full-training AMBS had spent a
  third of its budget (per task and seed).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np


def best_at(traj: list, epochs: float, key: int = 0):
    best = None
    for point in traj:
        if point[key] > epochs:
            break
        best = point[2] if point[2] is not None else best
    return best


def fmt(values: list) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return "-"
    missing = len(values) - len(vals)
    text = f"{np.mean(vals):.4f} ± {np.std(vals):.4f}"
    return text + (f" ({missing} none)" if missing else "")


def ranks(rows: list, engines: list, point) -> dict:
    """Mean rank of each engine over (task, seed) at ``point(row)`` (None ranks last)."""
    by = defaultdict(dict)
    for r in rows:
        by[(r["task"], r["seed"])][r["engine"]] = point(r)
    out = defaultdict(list)
    for values in by.values():
        if len(values) < len(engines):
            continue
        scores = {e: (-math.inf if v is None else v) for e, v in values.items()}
        order = sorted(scores, key=lambda e: -scores[e])
        for e in engines:
            # ties share the mean of their ranks
            tied = [i + 1 for i, o in enumerate(order) if scores[o] == scores[e]]
            out[e].append(float(np.mean(tied)))
    return out


def markdown(rows: list, engines: list, tasks: list, budget: int) -> str:
    lines = [f"Budget E = {budget} epochs per run; best = best objective among trainings run to "
             f"the end.", ""]
    cell = {(r["engine"], r["task"]): [] for r in rows}
    for r in rows:
        cell[(r["engine"], r["task"])].append(r)
    lines += ["| engine | " + " | ".join(f"{t} @E/3 | {t} @E" for t in tasks) + " | full / stopped per run |",
              "|---|" + "---|---|" * len(tasks) + "---|"]
    for e in engines:
        cells, counts = [], []
        for t in tasks:
            rs = cell.get((e, t), [])
            cells += [fmt([best_at(r["trajectory"], budget / 3) for r in rs]),
                      fmt([best_at(r["trajectory"], budget) for r in rs])]
            counts += [(r["n_full"], r["n_stopped"]) for r in rs]
        c = f"{np.mean([a for a, _ in counts]):.1f} / {np.mean([b for _, b in counts]):.1f}" if counts else "-"
        lines.append(f"| {e} | " + " | ".join(cells) + f" | {c} |")
    # goal (a)
    if "hf-ambs" in engines:
        lines += ["", "Goal (a): AMBS + stopper at E/3 against full-training AMBS at E "
                  "(difference of the means; seeds within one sd of full AMBS or better).", "",
                  "| engine | " + " | ".join(tasks) + " |", "|---|" + "---|" * len(tasks)]
        for e in engines:
            if not e.startswith("hf-") or e == "hf-ambs":
                continue
            cells = []
            for t in tasks:
                full = [best_at(r["trajectory"], budget) for r in cell.get(("hf-ambs", t), [])]
                full = [v for v in full if v is not None]
                mine = {r["seed"]: best_at(r["trajectory"], budget / 3) for r in cell.get((e, t), [])}
                if not full or not mine:
                    cells.append("-")
                    continue
                sd = float(np.std(full))
                ok = sum(1 for v in mine.values() if v is not None and v >= np.mean(full) - sd)
                vals = [v for v in mine.values() if v is not None]
                diff = (np.mean(vals) - np.mean(full)) if vals else float("nan")
                cells.append(f"{diff:+.4f} ({ok}/{len(mine)})")
            lines.append(f"| {e} | " + " | ".join(cells) + " |")
    # goal (b)
    for label, frac in (("E", 1.0), ("E/3", 1 / 3)):
        rk = ranks(rows, engines, lambda r, f=frac: best_at(r["trajectory"], budget * f))
        lines += ["", f"Mean rank at {label} epochs over tasks and seeds (1 = best; ± sd of the "
                  f"rank; n = task×seed cases):", "", "| engine | mean rank | n |", "|---|---|---|"]
        for e in sorted(engines, key=lambda e: np.mean(rk[e]) if rk[e] else 99):
            if rk[e]:
                lines.append(f"| {e} | {np.mean(rk[e]):.2f} ± {np.std(rk[e]):.2f} | {len(rk[e])} |")
    # wall time
    if "hf-ambs" in engines:
        limit = {}
        for r in rows:
            if r["engine"] == "hf-ambs" and r["trajectory"]:
                t_end = max(p[1] for p in r["trajectory"])
                limit[(r["task"], r["seed"])] = t_end / 3
        rk = ranks([r for r in rows if (r["task"], r["seed"]) in limit], engines,
                   lambda r: best_at(r["trajectory"], limit[(r["task"], r["seed"])], key=1))
        lines += ["", "Mean rank at equal simulated wall time with 2 workers (a third of the time "
                  "full-training AMBS took):", "", "| engine | mean rank | n |", "|---|---|---|"]
        for e in sorted(engines, key=lambda e: np.mean(rk[e]) if rk[e] else 99):
            if rk[e]:
                lines.append(f"| {e} | {np.mean(rk[e]):.2f} ± {np.std(rk[e]):.2f} | {len(rk[e])} |")
    return "\n".join(lines)
