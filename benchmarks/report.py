"""Turn run records (one per engine, problem and seed) into the protocol's comparison tables.

normalized regret after k evaluations = (optimum - best of the first k values)
                                        / (optimum - median of 200 random configurations)

so 0 is perfect and 1 is no better than a typical random point. Per problem and engine the
report gives the mean over seeds at half and full budget (± the standard deviation over
seeds, ddof=0), the mean best value and the median of the search's own time per
evaluation (ask + tell, pooled over the seeds' evaluations). Engines are ranked per
problem by mean regret at full budget (ties share the mean rank) and the ranks averaged
over problems.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

#: problem -> (optimum, median objective of 200 uniformly random configurations), as given
#: in shared/bench/README.md; the anchor tables in ANCHORS.md use exactly these values.
NORMALIZATION = {
    "branin": (-0.397887, -28.7494),
    "hartmann6": (3.32237, 0.140624),
    "ackley5": (0.0, -21.1246),
    "mixed_levy": (0.0, -64.9088),
    "mlp_sim": (0.958131, 0.657565),
}

RANDOM_CONFIGS_FOR_MEDIAN = 200


@dataclass
class Row:
    """One engine on one problem, aggregated over seeds."""

    problem: str
    budget: int
    engine: str
    seeds: str
    best_mean: float
    regret_half: float
    regret_full: float
    regret_full_std: float
    own_ms_median: float
    source: str = "measured"


# ---------------------------------------------------------------- normalization

def normalization(problem) -> tuple[float, float]:
    """(optimum, random median) for a problem: the published table, else computed.

    A problem missing from the table (an unpublished one added to problems.ALL) gets the
    median of 200 random configurations drawn with a fixed seed.
    """
    if problem.name in NORMALIZATION:
        return NORMALIZATION[problem.name]
    return problem.optimum, _random_median(problem)


def _random_median(problem, seed: int = 0) -> float:
    import numpy as np

    rng = np.random.default_rng(seed)
    values = [problem(random_config(problem.space, rng)) for _ in range(RANDOM_CONFIGS_FOR_MEDIAN)]
    return float(np.median(values))


def random_config(space, rng) -> dict:
    config = {}
    for dim in space:
        name, kind = dim[0], dim[1]
        if kind == "int":
            config[name] = int(rng.integers(dim[2], dim[3] + 1))
        elif kind == "float":
            config[name] = float(rng.uniform(dim[2], dim[3]))
        else:
            config[name] = dim[2][int(rng.integers(len(dim[2])))]
    return config


def regret(values: list, count: int, optimum: float, median: float) -> float:
    """Normalized regret of the best of the first ``count`` values (failures are None)."""
    seen = [v for v in values[:count] if v is not None]
    if not seen:
        return float("inf")
    return (optimum - max(seen)) / (optimum - median)


# ---------------------------------------------------------------- aggregation

def summarize(records: list[dict], problem, engine: str) -> Row:
    """Aggregate the records (one per seed) of one engine on one problem."""
    optimum, median = normalization(problem)
    budget = records[0]["budget"]
    full = [regret(r["values"], budget, optimum, median) for r in records]
    half = [regret(r["values"], budget // 2, optimum, median) for r in records]
    bests = [max(v for v in r["values"] if v is not None) for r in records]
    own_ms = [ms for r in records for ms in r["ask_tell_ms"]]
    return Row(problem=problem.name, budget=budget, engine=engine,
               seeds=_seed_label(sorted(r["seed"] for r in records)),
               best_mean=statistics.fmean(bests), regret_half=statistics.fmean(half),
               regret_full=statistics.fmean(full), regret_full_std=statistics.pstdev(full),
               own_ms_median=statistics.median(own_ms))


def _seed_label(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1:
        return f"{seeds[0]}–{seeds[-1]}"
    return ",".join(map(str, seeds))


def mean_ranks(rows: list[Row]) -> dict[str, tuple[float, int]]:
    """engine -> (mean rank over problems by regret at full budget, number of problems)."""
    ranks: dict[str, list[float]] = {}
    for problem in dict.fromkeys(r.problem for r in rows):
        group = [r for r in rows if r.problem == problem]
        for row in group:
            better = sum(o.regret_full < row.regret_full for o in group)
            ties = sum(o.regret_full == row.regret_full for o in group)
            ranks.setdefault(row.engine, []).append(better + (ties + 1) / 2)
    return {e: (statistics.fmean(r), len(r)) for e, r in sorted(ranks.items(),
                                                                 key=lambda kv: statistics.fmean(kv[1]))}


# ---------------------------------------------------------------- ANCHORS.md

_ANCHOR_ROW = re.compile(
    r"^\|\s*(?P<problem>\w+) \((?P<budget>\d+)\)\s*\|\s*(?P<engine>[\w-]+)\s*\|\s*(?P<seeds>[^|]+?)\s*"
    r"\|\s*(?P<best>[-\d.]+)\s*\|\s*(?P<half>[\d.]+)\s*\|\s*(?P<full>[\d.]+)\s*±\s*(?P<std>[\d.]+)\s*"
    r"\|\s*(?P<ms>[\d.,]+)\s*\|")


def anchor_rows(path: Path) -> list[Row]:
    """The per-problem anchor rows of ANCHORS.md, marked as coming from that file."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = _ANCHOR_ROW.match(line)
        if m:
            rows.append(Row(problem=m["problem"], budget=int(m["budget"]), engine=m["engine"],
                            seeds=m["seeds"], best_mean=float(m["best"]), regret_half=float(m["half"]),
                            regret_full=float(m["full"]), regret_full_std=float(m["std"]),
                            own_ms_median=float(m["ms"].replace(",", "")), source="from ANCHORS.md"))
    return rows


# ---------------------------------------------------------------- formatting

def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def format_report(rows: list[Row]) -> str:
    """Markdown: one table per problem, then the mean ranks."""
    lines = []
    for problem in dict.fromkeys(r.problem for r in rows):
        group = sorted((r for r in rows if r.problem == problem), key=lambda r: r.regret_full)
        lines += [f"### {problem} (budget {group[0].budget})", "",
                  ("| engine | seeds | best value, mean | regret @½ | regret @full (± std) "
                   "| ask+tell ms, median | source |"),
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r.engine} | {r.seeds} | {r.best_mean:.4g} | {r.regret_half:.3f} "
                  f"| {r.regret_full:.3f} ± {r.regret_full_std:.3f} | {_ms(r.own_ms_median)} "
                  f"| {r.source} |" for r in group]
        lines.append("")
    sources = {r.engine: r.source for r in rows}
    lines += ["### mean rank by normalized regret at full budget", "",
              "| engine | mean rank | problems | source |", "|---|---|---|---|"]
    lines += [f"| {e} | {rank:.2f} | {n} | {sources[e]} |" for e, (rank, n) in mean_ranks(rows).items()]
    return "\n".join(lines)
