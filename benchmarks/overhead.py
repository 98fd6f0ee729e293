"""The search's own time (ask + tell) on hartmann6, threads pinned to 1; prints markdown.

    python benchmarks/overhead.py [--engine hf-ambs] [--sizes 1000,10000] [--cycles 20]
                                  [--compare dh-cbo] [--anchor-python /work/venvs/anchors/bin/python]

(a) history size: the history is filled with N uniformly random points told in one bulk
    tell, then ``--cycles`` ask(1) -> evaluate -> tell cycles are timed (ask + tell, median).
(b) pending: ~100 random points told, ask(64) left pending (not told), then ask(64) timed
    again; also counts how many of the second batch repeat a pending or told point.
(c) a normal run: one 100-evaluation protocol run of --engine and of each --compare engine
    (anchors in the anchor venv, one after the other), median ask + tell and the ratio
    against --engine; compare ratios, not absolute times, across machines.

(a) and (b) drive --engine in this process (a hyperfleet engine by default, so this script
runs with the project's interpreter).
"""
import pin_threads  # noqa: F401  (must come before numpy)

# isort: split

import argparse
import statistics
import sys
import time

import engines
import numpy as np
import problems
import report
import run as orchestrator

PROBLEM = problems.ALL["hartmann6"]


def random_history(count: int, seed: int) -> list[tuple[dict, float]]:
    """``count`` uniformly random hartmann6 configurations with their objective values."""
    rng = np.random.default_rng(seed)
    configs = [report.random_config(PROBLEM.space, rng) for _ in range(count)]
    return [(c, PROBLEM(c)) for c in configs]


def timed_cycles(engine, cycles: int) -> list[float]:
    """ask(1) -> evaluate -> tell, ``cycles`` times; the ask + tell ms of each cycle."""
    own_ms = []
    for _ in range(cycles):
        t0 = time.perf_counter()
        [config] = engine.ask(1)
        t1 = time.perf_counter()
        value = PROBLEM(config)
        t2 = time.perf_counter()
        engine.tell([(config, value)])
        own_ms.append(1000 * ((time.perf_counter() - t2) + (t1 - t0)))
    return own_ms


def history_overhead(spec: str, size: int, cycles: int, seed: int) -> dict:
    """(a): bulk-tell ``size`` random points, then time ``cycles`` ask + tell cycles."""
    engine = engines.make_engine(spec, PROBLEM.space, seed, size + cycles)
    t0 = time.perf_counter()
    engine.tell(random_history(size, seed))
    bulk_s = time.perf_counter() - t0
    own_ms = timed_cycles(engine, cycles)
    return {"size": size, "bulk_tell_s": bulk_s, "median_ms": statistics.median(own_ms),
            "max_ms": max(own_ms)}


def _key(config: dict) -> tuple:
    return tuple(sorted(config.items()))


def pending_overhead(spec: str, told: int, batch: int, seed: int) -> dict:
    """(b): tell ``told`` points, ask ``batch`` (left pending), then time a second ask(batch)."""
    engine = engines.make_engine(spec, PROBLEM.space, seed, told + 2 * batch)
    history = random_history(told, seed)
    engine.tell(history)
    t0 = time.perf_counter()
    pending = engine.ask(batch)
    first_ms = 1000 * (time.perf_counter() - t0)
    t0 = time.perf_counter()
    second = engine.ask(batch)
    second_ms = 1000 * (time.perf_counter() - t0)
    seen = {_key(c) for c, _ in history} | {_key(c) for c in pending}
    repeats = sum(_key(c) in seen for c in second) + len(second) - len({_key(c) for c in second})
    return {"told": told, "batch": batch, "first_ms": first_ms, "second_ms": second_ms,
            "repeats": repeats}


def run_medians(specs: list[str], anchor_python: str, seed: int) -> dict:
    """(c): one protocol run per engine, sequentially; engine -> median ask + tell ms."""
    medians = {}
    for spec in specs:
        if not orchestrator.available(spec, anchor_python):
            continue
        record = orchestrator.run_one((spec, PROBLEM.name, seed, PROBLEM.budget), anchor_python, 3600)
        if record is not None:
            medians[spec] = statistics.median(record["ask_tell_ms"])
    return medians


# ---------------------------------------------------------------- printing

def print_history(spec, rows):
    print(f"### (a) {spec}: ask + tell against history size (hartmann6, 1 thread)\n")
    print("| history | bulk tell, s | ask + tell, median ms | max ms |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['size']:,} | {r['bulk_tell_s']:.2f} | {r['median_ms']:.1f} | {r['max_ms']:.1f} |")
    print()


def print_pending(spec, r):
    print(f"### (b) {spec}: batch ask with pending evaluations\n")
    print("| told | ask({0}), none pending, ms | ask({0}), {0} pending, ms | repeats in 2nd batch |\n"
          "|---|---|---|---|".format(r["batch"]))
    print(f"| {r['told']} | {r['first_ms']:.1f} | {r['second_ms']:.1f} | {r['repeats']} |\n")


def print_runs(reference, medians):
    print(f"### (c) ask + tell over a {PROBLEM.budget}-evaluation hartmann6 run (same invocation)\n")
    print(f"| engine | median ms | ratio to {reference} |\n|---|---|---|")
    base = medians.get(reference)
    for spec, ms in medians.items():
        ratio = f"{ms / base:.3g}" if base else "n/a"
        print(f"| {spec} | {ms:.1f} | {ratio} |")
    if base is None:
        print(f"\n({reference} did not run: no ratios)")
    print()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="hf-ambs", help="engine spec measured in (a)-(c)")
    parser.add_argument("--sizes", default="1000,10000", help="history sizes for (a)")
    parser.add_argument("--cycles", type=int, default=20, help="timed cycles per size in (a)")
    parser.add_argument("--told", type=int, default=100, help="told points for (b)")
    parser.add_argument("--batch", type=int, default=64, help="batch size and pending count for (b)")
    parser.add_argument("--compare", default="dh-cbo", help="comma-separated engines for (c)")
    parser.add_argument("--anchor-python", default=orchestrator.DEFAULT_ANCHOR_PYTHON)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", default="", help="parts to skip, e.g. a,b")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    skip = set(args.skip.split(","))
    try:
        if "a" not in skip:
            sizes = [int(s) for s in args.sizes.split(",")]
            print_history(args.engine, [history_overhead(args.engine, n, args.cycles, args.seed)
                                        for n in sizes])
        if "b" not in skip:
            print_pending(args.engine, pending_overhead(args.engine, args.told, args.batch, args.seed))
    except engines.EngineUnavailable as exc:
        print(f"SKIPPING (a) and (b): {args.engine} unavailable: {exc}\n", file=sys.stderr)
    if "c" not in skip:
        specs = [args.engine] + [s for s in args.compare.split(",") if s]
        print_runs(args.engine, run_medians(specs, args.anchor_python, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
