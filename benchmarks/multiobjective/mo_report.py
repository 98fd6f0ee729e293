"""Normalized hypervolume of run records and the benchmark's markdown tables.

normalized HV after k evaluations = HV(feasible points among the first k) / HV(reference front)

with every objective mapped to [0, 1] by the problem's fixed bounds (0 = its ideal bound, a
maximized objective flipped) and the reference point at mo_problems.REF (1.1) in each, so 1 is
the true front and 0 nothing inside the reference box. Failed evaluations and infeasible ones
(any constraint > 0) count for nothing. Per problem and engine: mean over seeds at half and full
budget (± std over seeds, ddof 0), the share of feasible evaluations for constrained problems,
the median own time per evaluation (ask + tell, pooled over seeds). Ranks: per problem, engines
ranked by mean HV at full budget (1 = best, ties share the mean rank), averaged over problems;
and the same ranking done seed by seed (seed s of every engine against seed s of the others),
whose mean over problems is given as mean ± std over seeds.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from functools import lru_cache

import mo_problems
import numpy as np
from mo_hv import hypervolume


def normalize(problem, objectives) -> np.ndarray:
    """Objective rows in the problem's units -> minimized, normalized rows."""
    f = np.asarray(objectives, dtype=float).reshape(-1, problem.n_objectives)
    lower, upper = np.array(problem.lower), np.array(problem.upper)
    scaled = (f - lower) / (upper - lower)
    flip = np.array([d == "maximize" for d in problem.directions])
    scaled[:, flip] = 1.0 - scaled[:, flip]
    return scaled


@lru_cache(maxsize=None)
def reference_hv(name: str) -> float:
    """Normalized HV of a problem's reference front (closed form where known)."""
    problem = mo_problems.ALL[name]
    if problem.exact_hv is not None:
        return problem.exact_hv
    return hypervolume(normalize(problem, problem.front()), [mo_problems.REF] * problem.n_objectives)


def feasible_points(problem, record: dict, k: int) -> np.ndarray:
    """The normalized objective rows of the feasible, successful evaluations among the first k."""
    rows = [f for f, g in zip(record["objectives"][:k], record["constraints"][:k])
            if f is not None and all(v <= 0.0 for v in g)]
    if not rows:
        return np.empty((0, problem.n_objectives))
    return normalize(problem, rows)


def normalized_hv(problem, record: dict, k: int | None = None) -> float:
    """Normalized HV of a run after its first k evaluations (all of them by default)."""
    k = len(record["objectives"]) if k is None else k
    points = feasible_points(problem, record, k)
    return hypervolume(points, [mo_problems.REF] * problem.n_objectives) / reference_hv(problem.name)


@dataclass
class Row:
    """One engine on one problem, over its seeds."""

    problem: str
    engine: str
    seeds: list[int]
    hv_half: float
    hv_full: float
    hv_full_std: float
    hv_by_seed: dict[int, float]
    feasible: float | None
    own_ms: float


def summarize(records: list[dict], problem, engine: str) -> Row:
    """Aggregate one (problem, engine)'s seed records."""
    budget = records[0]["budget"]
    half = [normalized_hv(problem, r, budget // 2) for r in records]
    full = [normalized_hv(problem, r) for r in records]
    feasible = None
    if problem.n_constraints:
        flags = [all(v <= 0 for v in g) for r in records for g in r["constraints"]]
        feasible = sum(flags) / len(flags)
    return Row(problem.name, engine, [r["seed"] for r in records], statistics.fmean(half),
               statistics.fmean(full), statistics.pstdev(full),
               {r["seed"]: hv for r, hv in zip(records, full)}, feasible,
               statistics.median(ms for r in records for ms in r["ask_tell_ms"]))


def _ranks(scores: dict[str, float]) -> dict[str, float]:
    """Rank 1 = highest score; ties share the mean of their ranks."""
    ordered = sorted(scores.values(), reverse=True)
    out = {}
    for name, score in scores.items():
        positions = [i + 1 for i, s in enumerate(ordered) if s == score]
        out[name] = statistics.fmean(positions)
    return out


def rank_table(rows: list[Row]) -> dict[str, dict]:
    """engine -> mean rank by mean HV, per-seed mean ranks (mean, std), median ms, problems."""
    problems = list(dict.fromkeys(r.problem for r in rows))
    engines = list(dict.fromkeys(r.engine for r in rows))
    by = {(r.problem, r.engine): r for r in rows}
    mean_ranks = {e: [] for e in engines}
    half_ranks = {e: [] for e in engines}
    for p in problems:
        present = {e: by[p, e].hv_full for e in engines if (p, e) in by}
        for e, rank in _ranks(present).items():
            mean_ranks[e].append(rank)
        for e, rank in _ranks({e: by[p, e].hv_half for e in present}).items():
            half_ranks[e].append(rank)
    seeds = sorted({s for r in rows for s in r.seeds})
    seed_ranks = {e: [] for e in engines}
    for s in seeds:
        per_problem = {e: [] for e in engines}
        for p in problems:
            present = {e: by[p, e].hv_by_seed[s] for e in engines
                       if (p, e) in by and s in by[p, e].hv_by_seed}
            for e, rank in _ranks(present).items():
                per_problem[e].append(rank)
        for e, ranks in per_problem.items():
            if ranks:
                seed_ranks[e].append(statistics.fmean(ranks))
    return {e: {"rank": statistics.fmean(mean_ranks[e]) if mean_ranks[e] else float("nan"),
                "half_rank": statistics.fmean(half_ranks[e]) if half_ranks[e] else float("nan"),
                "seed_rank": statistics.fmean(seed_ranks[e]) if seed_ranks[e] else float("nan"),
                "seed_rank_std": statistics.pstdev(seed_ranks[e]) if seed_ranks[e] else 0.0,
                "own_ms": statistics.median(by[p, e].own_ms for p in problems if (p, e) in by),
                "problems": sum((p, e) in by for p in problems)}
            for e in engines}


def format_report(rows: list[Row]) -> str:
    """The per-problem table and the ranking table, in markdown."""
    lines = ["| problem | engine | seeds | HV half budget | HV full budget | feasible | own ms/eval (median) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        feasible = "" if r.feasible is None else f"{100 * r.feasible:.0f} %"
        lines.append(f"| {r.problem} | {r.engine} | {len(r.seeds)} | {r.hv_half:.3f} | "
                     f"{r.hv_full:.3f} ± {r.hv_full_std:.3f} | {feasible} | {r.own_ms:.1f} |")
    table = rank_table(rows)
    lines += ["", "| engine | problems | mean rank (of mean HV, full budget) | mean rank per seed ± spread | "
              "mean rank (of mean HV, half budget) | own ms/eval (median over problems) |",
              "|---|---:|---:|---:|---:|---:|"]
    for e, t in sorted(table.items(), key=lambda item: item[1]["rank"]):
        lines.append(f"| {e} | {t['problems']} | {t['rank']:.2f} | {t['seed_rank']:.2f} ± "
                     f"{t['seed_rank_std']:.2f} | {t['half_rank']:.2f} | {t['own_ms']:.1f} |")
    return "\n".join(lines)
