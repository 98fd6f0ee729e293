"""Simulated time (hyperfleet.simulate): the virtual clock's accounting, budgets, durations, CLI."""

import json
import math
import time

import numpy as np
import pytest
from click.testing import CliRunner

from hyperfleet import HpProblem, RandomSearch
from hyperfleet.search import Search
from hyperfleet.simulate import parse_duration, simulate


def objective(config):
    return 1.0 - (config["x"] - 0.3) ** 2


@pytest.fixture
def problem() -> HpProblem:
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    return p


class SlowAsk(RandomSearch):
    """Random search whose every ask call sleeps (a stand-in for an expensive model)."""

    def __init__(self, problem, seed=None, sleep=0.05):
        super().__init__(problem, seed=seed)
        self.sleep = sleep

    def _ask(self, n):
        time.sleep(self.sleep)
        return super()._ask(n)


class Barren(Search):
    """Proposes nothing at all."""

    def _ask(self, n):
        return []


class Greedy(RandomSearch):
    """Returns one configuration too many."""

    def _ask(self, n):
        return super()._ask(n + 1)


def check_invariants(r, workers, max_evals):
    """What must hold for any simulation."""
    assert r.n_evals == len(r.evaluations) <= max_evals
    assert sum(c.told for c in r.cycles) == r.n_evals
    assert sum(c.launched for c in r.cycles) == r.n_evals
    assert all(c.launched <= c.asked <= c.free for c in r.cycles)
    # an evaluation starts when a driver cycle ends; no worker runs two evaluations at once
    cycle_ends = {c.start + c.charged for c in r.cycles}
    assert all(e.start in cycle_ends for e in r.evaluations)
    by_worker = {}
    for e in sorted(r.evaluations, key=lambda e: e.start):
        assert 0 <= e.worker < workers
        assert e.start >= by_worker.get(e.worker, 0.0)
        by_worker[e.worker] = e.end
    assert r.makespan == pytest.approx(max(e.end for e in r.evaluations))
    total = workers * r.makespan
    assert r.busy_time + r.idle_driver + r.idle_no_work == pytest.approx(total, rel=1e-9)
    assert r.idle_driver >= 0 and r.idle_no_work >= -1e-9
    assert r.utilization == pytest.approx(r.busy_time / total)
    assert r.busy_workers(np.linspace(0, r.makespan, 200)).max() <= workers


# ----------------------------------------------------------------------------- accounting

def test_constant_durations_makespan_is_two_durations_plus_the_charged_overhead(problem):
    r = simulate(problem, objective, search="random", workers=4, max_evals=8,
                 duration="constant:10", seed=0)
    check_invariants(r, 4, 8)
    # cycle 0 at t=0 asks 4; cycle 1 at 10 + c0 tells 4, asks 4; cycle 2 only tells the last 4
    assert [(c.told, c.asked, c.launched) for c in r.cycles] == [(0, 4, 4), (4, 4, 4), (4, 0, 0)]
    c0, c1, c2 = (c.charged for c in r.cycles)
    assert c0 == r.cycles[0].tell_s + r.cycles[0].ask_s > 0
    assert r.cycles[1].start == pytest.approx(10 + c0, abs=1e-12)
    assert r.makespan == pytest.approx(20 + c0 + c1, abs=1e-12)
    assert r.cycles[2].start == pytest.approx(r.makespan, abs=1e-12)  # the last tell is not in makespan
    assert r.busy_time == pytest.approx(80)
    assert r.utilization == pytest.approx(80 / (4 * (20 + c0 + c1)))
    assert r.idle_driver == pytest.approx(4 * (c0 + c1), abs=1e-12)
    assert r.idle_no_work == pytest.approx(0, abs=1e-9)
    assert r.launch_wait.calls == 8
    assert r.ask.calls == 2 and r.tell.calls == 2 and r.cycle.calls == 2  # cycles that asked
    assert r.cycle.total == pytest.approx(sum(c.tell_s + c.ask_s for c in r.cycles[:2]))
    assert r.driver_busy == pytest.approx(c0 + c1 + c2)


def test_free_driver_gives_exact_waves_and_full_utilization(problem):
    r = simulate(problem, objective, search="random", workers=8, max_evals=800,
                 duration="constant:60", seed=1, overhead_scale=0)
    check_invariants(r, 8, 800)
    assert r.makespan == 100 * 60
    assert r.utilization == 1.0 and r.steady_utilization == 1.0
    assert r.idle_driver == 0 and r.evals_per_hour == pytest.approx(8 * 60)


def test_random_search_with_its_real_overhead_keeps_workers_busy(problem):
    r = simulate(problem, objective, search="random", workers=4, max_evals=2000,
                 duration="lognormal:60:0.5", seed=2)
    check_invariants(r, 4, 2000)
    assert r.steady_utilization > 0.999
    assert r.utilization > 0.98  # only the drain at the end of the budget is lost
    assert r.idle_driver / (4 * r.makespan) < 1e-4
    assert r.mean_duration == pytest.approx(60, rel=0.05)


def test_a_slow_ask_is_charged_to_the_virtual_clock_exactly(problem):
    r = simulate(problem, objective, search=SlowAsk(problem, seed=0, sleep=0.05), workers=2,
                 max_evals=6, duration="constant:1")
    check_invariants(r, 2, 6)
    asks = [c for c in r.cycles if c.asked]
    assert len(asks) == 3 and all(c.ask_s >= 0.05 and c.charged >= 0.05 for c in asks)
    charged = sum(c.charged for c in asks)
    assert r.makespan == pytest.approx(3 + charged, abs=1e-12)
    assert r.utilization == pytest.approx(6 / (2 * (3 + charged)))
    assert r.utilization < 1 / 1.05 + 1e-9  # each 1 s wave costs at least 0.05 s of driver time
    assert r.idle_driver == pytest.approx(2 * charged, abs=1e-12)
    assert r.ask.calls == 3 and r.ask.median >= 0.05 and r.ask.total == pytest.approx(
        sum(c.ask_s for c in asks))
    free = simulate(problem, objective, search=SlowAsk(problem, seed=0, sleep=0.05), workers=2,
                    max_evals=6, duration="constant:1", overhead_scale=0)
    assert free.makespan == 3 and free.utilization == 1.0
    assert free.ask.median >= 0.05  # still measured, just not charged


def test_latency_and_overhead_scale(problem):
    r = simulate(problem, objective, search="random", workers=2, max_evals=6, duration="constant:1",
                 overhead_scale=0, latency=0.5)
    assert r.makespan == pytest.approx(3 + 3 * 0.5)
    assert all(c.charged == 0.5 for c in r.cycles)
    double = simulate(problem, objective, search=SlowAsk(problem, sleep=0.02), workers=2, max_evals=4,
                      duration="constant:1", overhead_scale=2)
    assert all(c.charged == pytest.approx(2 * (c.tell_s + c.ask_s)) for c in double.cycles)
    cpu = simulate(problem, objective, search=SlowAsk(problem, sleep=0.05), workers=2, max_evals=4,
                   duration="constant:1", charge="cpu")
    assert all(c.charged == c.cpu_s for c in cpu.cycles)
    assert all(c.cpu_s < 0.04 for c in cpu.cycles)  # sleeping costs no CPU time


def test_completions_while_the_driver_is_busy_queue_for_the_next_cycle(problem):
    # durations shorter than an ask: evaluations finish while the driver is busy and are told
    # in batches; workers wait for the driver, which is what lowers utilization
    r = simulate(problem, objective, search=SlowAsk(problem, seed=0, sleep=0.05), workers=6,
                 max_evals=48, duration="exponential:0.02", seed=0)
    check_invariants(r, 6, 48)
    assert max(c.told for c in r.cycles) > 1
    assert r.idle_driver > r.busy_time  # the driver, not the durations, sets the pace
    assert r.utilization < 0.5
    for c in r.cycles:  # everything told in a cycle had finished by its start
        told_by = c.start
        assert sum(e.end <= told_by + 1e-12 for e in r.evaluations) >= sum(
            d.told for d in r.cycles if d.start <= c.start)


def test_drain_at_the_end_of_the_budget_is_idle_without_work(problem):
    r = simulate(problem, objective, search="random", workers=16, max_evals=32,
                 duration="uniform:10:100", seed=4, overhead_scale=0)
    check_invariants(r, 16, 32)
    assert r.idle_driver == 0 and r.idle_no_work > 0
    assert r.steady_utilization == pytest.approx(1.0) and r.utilization < 0.9


# ----------------------------------------------------------------------------- budgets and searches

@pytest.mark.parametrize("workers,max_evals", [(1, 5), (3, 10), (10, 3), (7, 7), (64, 100)])
def test_max_evals_is_never_exceeded(problem, workers, max_evals):
    r = simulate(problem, objective, search="random", workers=workers, max_evals=max_evals,
                 duration="exponential:30", seed=5)
    check_invariants(r, workers, max_evals)
    assert r.n_evals == max_evals == len(r.search.history)
    assert not r.search.pending
    assert all(c.asked <= max_evals - sum(d.launched for d in r.cycles if d.start < c.start)
               for c in r.cycles)
    assert r.stop_reason == "max_evals reached"


def test_same_seed_same_simulation_for_random_search(problem):
    kwargs = dict(search="random", workers=5, max_evals=50, duration="lognormal:60:0.5", seed=7)
    a = simulate(problem, objective, overhead_scale=0, **kwargs)
    b = simulate(problem, objective, overhead_scale=0, **kwargs)
    assert [(e.config, e.start, e.end, e.worker) for e in a.evaluations] == \
        [(e.config, e.start, e.end, e.worker) for e in b.evaluations]
    assert (a.makespan, a.utilization, a.best_objective, a.trace) == \
        (b.makespan, b.utilization, b.best_objective, b.trace)
    # with the real overhead charged the times shift slightly, the configurations do not
    c = simulate(problem, objective, **kwargs)
    assert [e.config for e in c.evaluations] == [e.config for e in a.evaluations]
    assert [e.duration for e in c.evaluations] == pytest.approx([e.duration for e in a.evaluations])
    d = simulate(problem, objective, overhead_scale=0, **{**kwargs, "seed": 8})
    assert [e.config for e in d.evaluations] != [e.config for e in a.evaluations]


def test_best_trace_and_failures(problem):
    def flaky(config):
        if config["x"] > 0.5:
            raise RuntimeError("diverged")
        return config["x"]

    r = simulate(problem, flaky, search="random", workers=4, max_evals=40, duration="constant:5",
                 seed=3, overhead_scale=0)
    ok = [e.objective for e in r.evaluations if e.objective is not None]
    assert r.n_failed == sum(e.objective is None for e in r.evaluations) > 0
    assert "RuntimeError: diverged" in r.first_error
    assert r.best_objective == max(ok)
    times, _, values = zip(*r.trace)
    assert list(values) == sorted(values) and list(times) == sorted(times)
    assert values[-1] == r.best_objective and r.best_time == times[-1]
    assert sum(y is None for _, y in r.search.history) == r.n_failed
    assert "failed evaluations" in r.summary()


def test_dict_objectives_and_non_finite_values_are_judged_like_run_functions(problem):
    r = simulate(problem, lambda c: {"objective": c["x"], "epochs": 3}, search="random", workers=2,
                 max_evals=4, duration="constant:1", seed=0, overhead_scale=0)
    assert r.n_failed == 0 and r.best_objective == max(e.objective for e in r.evaluations)
    r = simulate(problem, lambda c: math.nan, search="random", workers=2, max_evals=4,
                 duration="constant:1", seed=0)
    assert r.n_failed == 4 and r.best_objective is None and "non-finite" in r.first_error
    assert "no evaluation succeeded" in r.summary()


def test_a_search_that_proposes_nothing_stops_the_simulation(problem):
    r = simulate(problem, objective, search=Barren(problem), workers=4, max_evals=10,
                 duration="constant:1")
    assert r.n_evals == 0 and "proposed no configuration" in r.stop_reason
    with pytest.raises(RuntimeError, match="returned 3 configurations"):
        simulate(problem, objective, search=Greedy(problem), workers=2, max_evals=10,
                 duration="constant:1")


def test_starting_points_run_first_and_the_search_waits_for_them_when_asked():
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    p.add_starting_point(x=0.3)
    r = simulate(p, objective, search="random", workers=4, max_evals=9, duration="constant:10", seed=0,
                 search_settings={"wait_for_starting_points": True})
    check_invariants(r, 4, 9)
    assert r.evaluations[0].config == {"x": 0.3} and r.cycles[0].launched == 1
    assert r.idle_no_work > 0  # three workers had nothing while the starting point ran


@pytest.mark.parametrize("search", ["random", "ambs"])
def test_starting_points_do_not_idle_the_other_workers(tutorial_problem, search):
    """8 workers, 40 evaluations of 60 s: 5 full rounds (0.0833 h), not 6 (0.1 h) as when the
    other 7 workers waited for the starting point."""
    kwargs = dict(workers=8, max_evals=40, duration="constant:60", seed=0, overhead_scale=0)
    assert tutorial_problem.starting_points  # the tutorial's problem has one
    free = simulate(tutorial_problem, objective_of_tutorial, search, **kwargs)
    check_invariants(free, 8, 40)
    assert free.evaluations[0].config == tutorial_problem.starting_points[0]
    assert free.cycles[0].launched == 8
    assert free.makespan == pytest.approx(300.0)
    assert free.idle_no_work == pytest.approx(0.0, abs=1e-9)
    waiting = simulate(tutorial_problem, objective_of_tutorial, search, **kwargs,
                       search_settings={"wait_for_starting_points": True})
    assert waiting.cycles[0].launched == 1
    assert waiting.makespan == pytest.approx(360.0)
    assert waiting.idle_no_work == pytest.approx(7 * 60 + 60, rel=1e-6)  # 7 wait, 1 slot of the last round


def objective_of_tutorial(config):
    return config["dropout_1"] + config["nunits_1"] / 100


def test_progress_callback(problem):
    seen = []
    simulate(problem, objective, search="random", workers=3, max_evals=12, duration="constant:1",
             seed=0, progress=seen.append)
    assert [p.launched for p in seen] == sorted(p.launched for p in seen)
    assert seen[-1].finished == 12 and seen[-1].launched == 12 and seen[-1].running == 0
    assert all(p.max_evals == 12 and p.running <= 3 for p in seen)


def test_real_ambs_on_a_small_case():
    p = HpProblem()
    p.add_dim("x", (0.0, 1.0))
    p.add_dim("k", ["a", "b"])
    r = simulate(p, lambda c: -(c["x"] - 0.3) ** 2 + (c["k"] == "b"), search="ambs", workers=4,
                 max_evals=14, duration="lognormal:60:0.5", seed=0,
                 search_settings={"n_candidates": 64, "n_local": 1})
    check_invariants(r, 4, 14)
    assert r.search_name == "ambs" and type(r.search).__name__ == "AMBS"
    assert len(r.search.history) == 14 and not r.search.pending
    assert r.best_objective > 0.8
    assert r.ask.calls >= 4 and r.ask.max > 0
    assert 0.5 < r.utilization <= 1
    json.dumps(r.to_dict())


# ----------------------------------------------------------------------------- arguments

@pytest.mark.parametrize("spec,message", [
    ("gamma:2:3", "unknown duration distribution 'gamma'"),
    ("lognormal:60", "lognormal takes 2 parameters"),
    ("lognormal:60:0.5:1", "lognormal takes 2 parameters"),
    ("lognormal:-1:0.5", "mean must be > 0"),
    ("lognormal:60:-0.5", "sigma must be >= 0"),
    ("uniform:5:1", "0 <= LOW <= HIGH"),
    ("constant:abc", "parameters must be numbers"),
    ("constant:0", "must be > 0"),
    ("exponential:inf", "finite"),
    ("", "unknown duration distribution"),
    (42, "spec like 'lognormal:60:0.5'"),
])
def test_bad_duration_specs_are_clear_errors(problem, spec, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(spec)
    with pytest.raises(ValueError, match=message):
        simulate(problem, objective, search="random", workers=2, max_evals=2, duration=spec)


def test_duration_distributions_have_the_stated_means():
    rng = np.random.default_rng(0)
    for spec, mean in [("lognormal:60:0.5", 60), ("lognormal:60:0", 60), ("uniform:10:30", 20),
                       ("exponential:45", 45), ("constant:7", 7), (" LogNormal : 60 : 1 ", 60)]:
        draw = parse_duration(spec)
        values = np.array([draw(rng, {}) for _ in range(40000)])
        assert values.mean() == pytest.approx(mean, rel=0.03), spec
        assert draw.mean == pytest.approx(mean)
    assert np.std(np.log([parse_duration("lognormal:60:0.5")(rng, {}) for _ in range(20000)])) == \
        pytest.approx(0.5, rel=0.03)


def test_a_duration_function_of_the_configuration(problem):
    r = simulate(problem, objective, search="random", workers=3, max_evals=12,
                 duration=lambda rng, config: 100 * config["x"], seed=0)
    assert all(e.duration == pytest.approx(100 * e.config["x"]) for e in r.evaluations)
    with pytest.raises(ValueError, match="must be finite and >= 0"):
        simulate(problem, objective, search="random", workers=2, max_evals=2,
                 duration=lambda rng, config: -1)
    with pytest.raises(ValueError, match="not a number of seconds"):
        simulate(problem, objective, search="random", workers=2, max_evals=2,
                 duration=lambda rng, config: "long")


@pytest.mark.parametrize("kwargs,message", [
    ({"workers": 0}, "workers must be an integer >= 1"),
    ({"max_evals": 0}, "max_evals must be an integer >= 1"),
    ({"workers": 2.5}, "workers must be an integer"),
    ({"overhead_scale": -1}, "overhead_scale must be >= 0"),
    ({"latency": -1}, "latency must be >= 0"),
    ({"charge": "gpu"}, "charge must be 'wall' or 'cpu'"),
    ({"search": "annealing"}, "unknown search 'annealing'"),
])
def test_bad_arguments(problem, kwargs, message):
    args = {**dict(search="random", workers=2, max_evals=2, duration="constant:1"), **kwargs}
    with pytest.raises(ValueError, match=message):
        simulate(problem, objective, **args)


def test_search_instances(problem):
    with pytest.raises(ValueError, match="search_settings apply to a search given by name"):
        simulate(problem, objective, search=RandomSearch(problem), workers=2, max_evals=2,
                 search_settings={"kappa": 1})
    used = RandomSearch(problem)
    used.ask(2)
    with pytest.raises(ValueError, match="2 pending configurations"):
        simulate(problem, objective, search=used, workers=2, max_evals=2)


# ----------------------------------------------------------------------------- CLI

@pytest.fixture
def user_files(tmp_path):
    (tmp_path / "problem.py").write_text(
        "from hyperfleet import HpProblem\n"
        "Problem = HpProblem()\n"
        "Problem.add_dim('x', (0.0, 1.0))\n"
        "Problem.add_dim('k', ['a', 'b'])\n")
    (tmp_path / "run.py").write_text(
        "def run(config):\n"
        "    return -(config['x'] - 0.3) ** 2 + (config['k'] == 'b')\n")
    (tmp_path / "durations.py").write_text(
        "def by_x(rng, config):\n"
        "    return 10 + 100 * config['x']\n")
    return tmp_path


def hf(*args):
    from hyperfleet.cli.main import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_prints_the_report(user_files):
    out = user_files / "sim.json"
    res = hf("simulate", "-p", str(user_files / "problem.py"), "-r", str(user_files / "run.py"),
             "--workers", "16", "--max-evals", "64", "--duration", "lognormal:60:0.5",
             "--search", "random", "--seed", "0", "--json", str(out), "--quiet")
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert "simulated 64 evaluations (random) on 16 virtual workers" in text
    for needle in ("utilization", "makespan", " h virtual", "evaluations/hour", "best objective",
                   "tell+ask per cycle", "median", "p95", "best configuration:", "x = "):
        assert needle in text, needle
    data = json.loads(out.read_text())
    assert data["n_evals"] == 64 and data["workers"] == 16 and len(data["evaluations"]) == 64
    assert 0 < data["utilization"] <= 1
    asked = data["cycle_columns"].index("asked")
    assert data["cycle"]["calls"] == sum(c[asked] > 0 for c in data["cycles"])


def test_cli_no_drain(user_files):
    res = hf("simulate", "-p", str(user_files / "problem.py"), "-r", str(user_files / "run.py"),
             "--workers", "16", "--max-evals", "64", "--duration", "lognormal:60:0.5",
             "--search", "random", "--seed", "0", "--no-drain", "--quiet")
    assert res.exit_code == 0, res.output
    assert "evaluations cancelled at the end; counting only finished work:" in res.stdout


def test_cli_with_ambs_settings_and_a_duration_function(user_files):
    res = hf("simulate", "-p", str(user_files / "problem.py"), "-r", str(user_files / "run.py"),
             "--workers", "4", "--max-evals", "8", "--duration", f"{user_files / 'durations.py'}:by_x",
             "--seed", "1", "--setting", "n_candidates=64", "--setting", "n_local=1", "--quiet")
    assert res.exit_code == 0, res.output
    assert "simulated 8 evaluations (ambs) on 4 virtual workers, durations by_x(rng, config)" in res.stdout


@pytest.mark.parametrize("args,message", [
    (["--duration", "lognormal:60"], "error: duration 'lognormal:60': lognormal takes 2 parameters"),
    (["--duration", "weibull:3"], "error: unknown duration distribution 'weibull'"),
    (["--duration", "constant:5", "--setting", "bogus=1"], "error: unknown AMBS setting(s) ['bogus']"),
])
def test_cli_user_errors_are_one_line(user_files, args, message):
    res = hf("simulate", "-p", str(user_files / "problem.py"), "-r", str(user_files / "run.py"),
             "--workers", "4", "--max-evals", "8", *args)
    assert res.exit_code == 2
    assert res.stderr.strip().startswith(message) and len(res.stderr.strip().splitlines()) == 1


def test_no_drain_keeps_every_worker_busy_and_cancels_at_the_budget(problem):
    kw = dict(search="random", workers=16, max_evals=200, duration="lognormal:60:0.5", seed=4,
              overhead_scale=0)
    drained = simulate(problem, objective, **kw)
    busy = simulate(problem, objective, drain=False, **kw)
    assert drained.drain and drained.n_cancelled == 0 and len(drained.evaluations) == 200
    assert drained.useful_utilization == drained.utilization < 0.95  # the drain's idle tail
    assert busy.n_evals >= 200 and busy.n_failed == 0
    cancelled = [e for e in busy.evaluations if e.cancelled]
    assert 0 < busy.n_cancelled == len(cancelled) < 16
    # cancelled at the moment the 200th evaluation finished, which ends the makespan
    assert all(e.end == busy.makespan and e.objective is None for e in cancelled)
    assert busy.makespan == sorted(e.end for e in busy.evaluations if not e.cancelled)[199]
    # the same first 200 durations (seeded), so the budget is reached no later without a drain
    assert busy.makespan <= drained.makespan
    assert busy.utilization == pytest.approx(1.0)  # a free driver: never a worker without work
    assert drained.utilization < busy.useful_utilization < busy.utilization
    assert "no drain" in busy.summary() and busy.to_dict()["n_cancelled"] == busy.n_cancelled
