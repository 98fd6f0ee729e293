"""AMBS at scale in simulated time: utilization of many virtual workers with the search's real
ask/tell time charged to the virtual clock (hyperfleet.simulate).

    python benchmarks/simulate_scale.py                       # the target: 1,024 workers, 20,000 evals
    python benchmarks/simulate_scale.py --workers 256 --max-evals 2000   # a smaller size first

Objective: hartmann6 from problems.py (maximized, evaluated for real); durations lognormal with
mean 60 s; numpy/BLAS threads pinned to 1. Prints the report and a progress line every 30 s of
wall time on stderr, and writes to --out (default benchmarks/results/simulate/):

    <name>.json              the summary, every driver cycle and the best-so-far trace
    <name>_busy.svg          busy workers against virtual time
    <name>_driver.svg        real tell+ask time per driver cycle (and per proposed point) against
                             the number of results told
    <name>_batch.svg         evaluations told / asked per driver cycle against the results told
    <name>_best.svg          best objective so far against virtual time
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import pin_threads  # noqa: F401  (before numpy)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import numpy as np  # noqa: E402
import problems  # noqa: E402

from hyperfleet import HpProblem  # noqa: E402
from hyperfleet.simulate import simulate  # noqa: E402


def bench_problem(name: str) -> tuple[HpProblem, object]:
    bench = problems.ALL[name]
    problem = HpProblem()
    for dim in bench.space:
        if dim[1] == "cat":
            problem.add_dim(dim[0], list(dim[2]))
        else:
            problem.add_dim(dim[0], (dim[2], dim[3]))
    return problem, bench


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1024)
    parser.add_argument("--max-evals", type=int, default=20000)
    parser.add_argument("--duration", default="lognormal:60:0.5")
    parser.add_argument("--search", default="ambs")
    parser.add_argument("--problem", default="hartmann6", choices=sorted(problems.ALL))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting of the search (repeatable)")
    parser.add_argument("--overhead-scale", type=float, default=1.0)
    parser.add_argument("--charge", choices=["wall", "cpu"], default="wall",
                        help="charge tell+ask wall time (default) or CPU time (on a busy machine)")
    parser.add_argument("--no-drain", action="store_true",
                        help="keep every worker busy until --max-evals evaluations have finished, then "
                             "cancel the rest (hyperfleet search --no-drain)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "simulate")
    parser.add_argument("--name", default=None, help="file name stem [default: from the settings]")
    parser.add_argument("--progress-every", type=float, default=30.0, help="wall seconds")
    parser.add_argument("--figures-from", type=Path, default=None, metavar="JSON",
                        help="only redraw the figures of an earlier run from its JSON file")
    return parser.parse_args(argv)


def parse_settings(items) -> dict:
    from hyperfleet.cli.search import parse_settings as parse

    return parse(tuple(items))


class Progress:
    def __init__(self, every: float) -> None:
        self.every, self.next = every, time.perf_counter() + every

    def __call__(self, p) -> None:
        if time.perf_counter() < self.next:
            return
        self.next = time.perf_counter() + self.every
        rate = p.finished / p.wall_s if p.wall_s else 0
        print(f"[{p.wall_s:7.0f} s wall] {p.finished:,}/{p.max_evals:,} finished, {p.running:,} running, "
              f"virtual {p.clock:,.0f} s, cycles {p.cycles:,}, last tell+ask {p.last_cycle_s * 1e3:.0f} ms, "
              f"{rate:.1f} finished/s wall, best {p.best}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- SVG figures

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")


def svg_plot(path: Path, series, title: str, xlabel: str, ylabel: str, hlines=(), logy=False,
             width=720, height=360) -> None:
    """A small line/point plot: series = [(xs, ys, label, style)] with style 'line' or 'dots';
    the legend goes above the plot, log scales get a tick per power of ten."""
    left, right, top, bottom = 70, 20, 34 + 16 * len(series), 50
    height += 16 * len(series)
    xs_all = np.concatenate([np.asarray(s[0], float) for s in series])
    ys_all = np.concatenate([np.asarray(s[1], float) for s in series] + [np.asarray([h[0] for h in hlines])])
    if logy:
        ys_all = ys_all[ys_all > 0]
    x0, x1 = float(xs_all.min()), float(xs_all.max())
    y0, y1 = float(ys_all.min()), float(ys_all.max())
    if logy:
        y0, y1 = math.floor(math.log10(y0)), math.ceil(math.log10(y1))
        y1 = y1 if y1 > y0 else y0 + 1
    else:
        y0 = min(0.0, y0) if y0 >= 0 else y0
        pad = (y1 - y0) * 0.05 or 1
        y0, y1 = y0 - (0 if y0 == 0 else pad), y1 + pad
    x1 = x1 if x1 > x0 else x0 + 1
    W, H = width - left - right, height - top - bottom

    def px(x):
        return left + (x - x0) / (x1 - x0) * W

    def py(y):
        if logy:
            y = math.log10(max(y, 10 ** y0))
        return top + H - (y - y0) / (y1 - y0) * H

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">{title}</text>',
           f'<rect x="{left}" y="{top}" width="{W}" height="{H}" fill="none" stroke="#444"/>']
    for i in range(6):
        xv = x0 + (x1 - x0) * i / 5
        out.append(f'<text x="{px(xv):.1f}" y="{top + H + 16}" text-anchor="middle">{_fmt(xv)}</text>')
    y_ticks = ([(10.0 ** e, top + H - H * (e - y0) / (y1 - y0)) for e in range(int(y0), int(y1) + 1)]
               if logy else [(y0 + (y1 - y0) * i / 5, top + H - H * i / 5) for i in range(6)])
    for yv, ypos in y_ticks:
        out.append(f'<text x="{left - 6}" y="{ypos + 4:.1f}" text-anchor="end">{_fmt(yv)}</text>')
        out.append(f'<line x1="{left}" x2="{left + W}" y1="{ypos:.1f}" y2="{ypos:.1f}" stroke="#eee"/>')
    out.append(f'<text x="{left + W / 2}" y="{height - 10}" text-anchor="middle">{xlabel}</text>')
    out.append(f'<text x="16" y="{top + H / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + H / 2})">{ylabel}</text>')
    for value, label in hlines:
        out.append(f'<line x1="{left}" x2="{left + W}" y1="{py(value):.1f}" y2="{py(value):.1f}" '
                   f'stroke="#888" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{left + W - 4}" y="{py(value) - 4:.1f}" text-anchor="end" fill="#666">'
                   f'{label}</text>')
    for k, (xs, ys, label, style) in enumerate(series):
        color = COLORS[k % len(COLORS)]
        pts = [(px(x), py(y)) for x, y in zip(xs, ys) if not logy or y > 0]
        if style == "dots":
            out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="1.5" fill="{color}" fill-opacity="0.5"/>'
                    for a, b in pts]
        else:
            d = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="1.5"/>')
        ly = 28 + 16 * k
        out.append(f'<line x1="{left}" x2="{left + 24}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" '
                   f'stroke-width="2"/>')
        out.append(f'<text x="{left + 30}" y="{ly}" fill="{color}">{label}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out))


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-2:
        return f"{v:.0e}" if math.log10(abs(v)).is_integer() else f"{v:.2g}"
    return f"{v:.4g}"


def _binned(x, y, bins: int = 300):
    """Per-bin (x centre, median, max) of y over x: keeps the figures small for any run length."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) <= bins:
        return x, y, y
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    keep = [i for i in range(len(edges) - 1) if np.any(idx == i)]
    centre = np.array([x[idx == i].mean() for i in keep])
    return (centre, np.array([np.median(y[idx == i]) for i in keep]),
            np.array([y[idx == i].max() for i in keep]))


def write_figures(data: dict, out: Path, name: str) -> list[Path]:
    """The figures of a run, from its JSON summary (see main)."""
    paths = []
    workers = data["workers"]
    t, busy = np.array(data["timeline_busy"]["t"]), np.array(data["timeline_busy"]["busy"])
    p = out / f"{name}_busy.svg"
    svg_plot(p, [(t / 60, busy, "busy workers", "line")],
             f"busy workers of {workers} (utilization {data['utilization']:.3f}, "
             f"steady {data['steady_utilization']:.3f})",
             "virtual time (min)", "busy workers", hlines=[(workers, f"{workers} workers")])
    paths.append(p)
    cols = data["cycle_columns"]
    cyc = np.array(data["cycles"], float).reshape(-1, len(cols))
    col = {k: cyc[:, i] for i, k in enumerate(cols)}
    asked = col["asked"] > 0
    if asked.any():
        hist = col["history"][asked]
        x, med, top = _binned(hist, (col["tell_s"] + col["ask_s"])[asked])
        per_point = _binned(hist, (col["ask_s"] / np.maximum(col["asked"], 1))[asked])
        binned = len(x) < int(asked.sum())
        lines = ([(x, top, "tell + ask per cycle, max per bin", "line"),
                  (x, med, "tell + ask per cycle, median per bin", "line")] if binned
                 else [(x, med, "tell + ask per cycle", "line")])
        lines.append((per_point[0], per_point[1],
                      "ask time per proposed point" + (", median per bin" if binned else ""), "line"))
        p = out / f"{name}_driver.svg"
        svg_plot(p, lines,
                 "driver cycles that asked: real (wall) time vs results told",
                 "results told before the cycle", "seconds (log scale)", logy=True)
        paths.append(p)
        x, _, told = _binned(hist, col["told"][asked])
        _, _, asks = _binned(hist, col["asked"][asked])
        p = out / f"{name}_batch.svg"
        svg_plot(p, [(x, told, "told per cycle (max per bin)", "line"),
                     (x, asks, "asked per cycle (max per bin)", "line")],
                 "batch sizes of the driver cycles that asked", "results told before the cycle",
                 "evaluations")
        paths.append(p)
    if data["trace"]:
        tr = np.array([(tt, y) for tt, _, y in data["trace"]] + [(data["makespan"], data["trace"][-1][2])])
        p = out / f"{name}_best.svg"
        svg_plot(p, [(tr[:, 0] / 60, tr[:, 1], "best objective so far", "line")],
                 "best objective vs virtual time", "virtual time (min)", "objective",
                 hlines=[(data["optimum"], "optimum")] if data.get("optimum") is not None else ())
        paths.append(p)
    return paths


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.figures_from is not None:  # redraw the figures of an earlier run
        data = json.loads(args.figures_from.read_text())
        name = args.figures_from.stem
        paths = write_figures(data, args.figures_from.parent, name)
        print("wrote", *paths, sep="\n  ")
        return 0
    settings = parse_settings(args.setting)
    problem, bench = bench_problem(args.problem)
    tag = "".join(f"_{k}-{v}" for k, v in sorted(settings.items()))
    tag += "" if args.charge == "wall" else f"_charge-{args.charge}"
    tag += "_no-drain" if args.no_drain else ""
    name = args.name or (f"{args.search}_{args.problem}_{args.workers}w_{args.max_evals}e_"
                         f"{args.duration.replace(':', '-')}_s{args.seed}{tag}")
    print(f"simulating {args.search} {settings or ''} on {args.problem}: {args.workers} workers, "
          f"{args.max_evals} evaluations, durations {args.duration}, seed {args.seed}", flush=True)
    result = simulate(problem, bench, search=args.search, workers=args.workers,
                      max_evals=args.max_evals, duration=args.duration, seed=args.seed,
                      search_settings=settings, overhead_scale=args.overhead_scale, charge=args.charge,
                      progress=Progress(args.progress_every), drain=not args.no_drain)
    print(result.summary())
    if result.best_objective is not None:
        regret = bench.optimum - result.best_objective
        print(f"best objective {result.best_objective:.6g} (optimum {bench.optimum:g}, regret {regret:.3g})")
    args.out.mkdir(parents=True, exist_ok=True)
    data = result.to_dict(evaluations=False)
    data.update(problem=args.problem, settings=settings, optimum=bench.optimum,
                threads_pinned=True, load_average=os.getloadavg())
    t = np.linspace(0, result.makespan, 600)
    data["timeline_busy"] = {"t": t.tolist(), "busy": result.busy_workers(t).tolist()}
    (args.out / f"{name}.json").write_text(json.dumps(data))
    paths = write_figures(data, args.out, name)
    print("wrote", args.out / f"{name}.json", *paths, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
