"""The markdown report of parallel_anchors.py: regret of the best-so-far at fractions of the
simulated makespan, mean ranks per worker count, seed spread, equal-time comparison of widths."""
from __future__ import annotations

import math
import statistics

from aside_problems import find_problem


def best_by(record: dict, t: float) -> float | None:
    """The best objective among the evaluations finished by virtual time ``t`` (None: none yet)."""
    values = [v for e, v in zip(record["ends"], record["values"]) if e <= t + 1e-9 and v is not None]
    return max(values) if values else None


def reached(record: dict, t: float) -> bool:
    """Whether the run got that far on the clock (a run stopped by its real-time limit may not)."""
    return record["complete"] or (record["ends"] and record["ends"][-1] >= t)


def makespans(runs: dict) -> dict:
    """(seed, workers, evals) -> the simulated makespan of a complete run (the same for all)."""
    out = {}
    for (_engine, _p, seed, w, n), r in runs.items():
        if r["complete"]:
            out[(seed, w, n)] = max(out.get((seed, w, n), 0.0), r["ends"][-1])
    return out


def regret_at(record, problem, t) -> float | None:
    if not reached(record, t):
        return None
    best = best_by(record, t)
    return None if best is None else problem.optimum - best


def ranks(values: dict) -> dict:
    """engine -> rank (1 = lowest regret; ties share the mean rank)."""
    ordered = sorted(values.items(), key=lambda kv: kv[1])
    out, i = {}, 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and math.isclose(ordered[j + 1][1], ordered[i][1], rel_tol=1e-12, abs_tol=1e-12):
            j += 1
        for k in range(i, j + 1):
            out[ordered[k][0]] = (i + j) / 2 + 1
        i = j + 1
    return out


def short(engine: str) -> str:
    """Anchors by name; hyperfleet's engines with their settings (variants sit side by side)."""
    return engine if engine.startswith("hf-") else engine.split(":")[0]


def fmt(x) -> str:
    return "–" if x is None else f"{x:.3g}"


def report(args, runs: dict, fractions) -> str:
    spans = makespans(runs)
    lines = []
    engines = args.engines
    rank_rows = []
    for w, n in args.widths:
        seeds = [s for s in args.seeds if (s, w, n) in spans]
        if not seeds:
            continue
        lines += [f"### {w} workers, {n} evaluations (seeds {', '.join(map(str, seeds))})", "",
                  "Mean regret at 25 % / 50 % / 100 % of the simulated makespan; [min–max over the "
                  "seeds at 100 %]; a dash: not reached within the run's real-time limit.", "",
                  "| problem | " + " | ".join(short(e) for e in engines) + " |",
                  "|---|" + "---|" * len(engines)]
        rank_sum = {f: {e: [] for e in engines} for f in fractions}
        rank_uncut = {f: {e: [] for e in engines} for f in fractions}
        mine = {e: [r for k, r in runs.items() if k[0] == e and k[3:] == (w, n) and k[2] in seeds]
                for e in engines}
        complete_engines = [e for e in engines if mine[e] and all(r["complete"] for r in mine[e])]
        finished = {e: [] for e in engines}
        for p in args.problems:
            problem = find_problem(p)
            cells = []
            for e in engines:
                per_f = []
                for f in fractions:
                    vals = [regret_at(runs[(e, p, s, w, n)], problem, f * spans[(s, w, n)])
                            for s in seeds if (e, p, s, w, n) in runs]
                    ok = [v for v in vals if v is not None]
                    per_f.append(statistics.mean(ok) if ok and len(ok) == len(vals) else None)
                full = [regret_at(runs[(e, p, s, w, n)], problem, spans[(s, w, n)])
                        for s in seeds if (e, p, s, w, n) in runs]
                full = [v for v in full if v is not None]
                spread = f" [{min(full):.3g}–{max(full):.3g}]" if len(full) > 1 else ""
                cells.append(" / ".join(fmt(v) for v in per_f) + spread)
                for s in seeds:
                    if (e, p, s, w, n) in runs:
                        finished[e].append(len(runs[(e, p, s, w, n)]["values"]) / n)
            lines.append(f"| {p} | " + " | ".join(cells) + " |")
            for s in seeds:
                for f in fractions:
                    t = f * spans[(s, w, n)]
                    vals = {e: regret_at(runs[(e, p, s, w, n)], problem, t)
                            for e in engines if (e, p, s, w, n) in runs}
                    if len(vals) == len(engines) and all(v is not None for v in vals.values()):
                        for e, r in ranks(vals).items():
                            rank_sum[f][e].append(r)
                    uncut = {e: v for e, v in vals.items() if e in complete_engines and v is not None}
                    if len(uncut) == len(complete_engines) > 1:
                        for e, r in ranks(uncut).items():
                            rank_uncut[f][e].append(r)
        lines.append("")
        done = " ".join(f"{short(e)} {100 * statistics.mean(v):.0f} %" for e, v in finished.items() if v)
        lines += [f"Evaluations finished within the limits: {done}.", ""]
        for f in fractions:
            count = len(next(iter(rank_sum[f].values())))
            rank_rows.append((w, n, f, count, {e: statistics.mean(v) if v else None
                                               for e, v in rank_sum[f].items()}))
            if len(complete_engines) < len(engines):
                count = len(rank_uncut[f][complete_engines[0]]) if complete_engines else 0
                rank_rows.append((w, n, f, f"{count} (without the engines cut off)",
                                  {e: statistics.mean(v) if v else None for e, v in rank_uncut[f].items()}))
    lines += ["### Mean rank (1 = best) over problems x seeds where every engine reached that time", "",
              "| workers | evaluations | at | cells | " + " | ".join(short(e) for e in engines) + " |",
              "|---|---|---|---|" + "---|" * len(engines)]
    for w, n, f, count, means in rank_rows:
        best = min((v for v in means.values() if v is not None), default=None)
        cells = [("**" + f"{v:.2f}" + "**") if v is not None and v == best else fmt(v) for v in means.values()]
        lines.append(f"| {w} | {n} | {int(100 * f)} % | {count} | " + " | ".join(cells) + " |")
    lines += ["", *equal_time(args, runs, spans)]
    return "\n".join(lines)


def equal_time(args, runs, spans) -> list[str]:
    """Each engine's mean regret at one simulated time reached by every width (the shortest
    makespan): does adding workers help at equal time?"""
    common = {s: min(v for (s2, _w, _n), v in spans.items() if s2 == s) for s in args.seeds
              if any(k[0] == s for k in spans)}
    if not common:
        return []
    out = ["### Equal simulated time: mean regret when the widest run ends (per seed: "
           + ", ".join(f"{t:.0f} s" for t in common.values()) + ")", "",
           "| problem | engine | " + " | ".join(f"{w} workers" for w, _ in args.widths) + " |",
           "|---|---|" + "---|" * len(args.widths)]
    worse = 0
    total = 0
    for p in args.problems:
        problem = find_problem(p)
        for e in args.engines:
            means = []
            for w, n in args.widths:
                vals = [regret_at(runs[(e, p, s, w, n)], problem, common[s])
                        for s in common if (e, p, s, w, n) in runs]
                ok = [v for v in vals if v is not None]
                means.append(statistics.mean(ok) if ok and len(ok) == len(vals) else None)
            known = [m for m in means if m is not None]
            total += len(known) > 1
            worse += any(b > a * 1.0001 + 1e-12 for a, b in zip(known, known[1:]))
            out.append(f"| {p} | {short(e)} | " + " | ".join(fmt(m) for m in means) + " |")
    out += ["", f"More workers worse than fewer at equal time (mean over seeds), in {worse} of "
            f"{total} (problem, engine) pairs."]
    return out
