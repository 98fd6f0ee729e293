"""Optuna's side of benchmarks/dashboard.py, run with the anchors' interpreter:

    /work/venvs/anchors/bin/python benchmarks/optuna_frame.py N DB_PATH

Creates a study on SQLite with N finished trials (3 parameters like hyperfleet's side: a float,
a log int, a categorical, and one user attribute), then times ``study.trials_dataframe()`` on a
fresh load of the study. Prints one JSON line.

The first 100 trials go through ``study.add_trials``; the others are copies of their rows
inserted straight into Optuna's tables (``add_trials`` took 251 s for 2,000 trials on this
loaded machine, hours for 100,000) -- the same shortcut the hyperfleet side takes.
"""
import datetime
import json
import sqlite3
import sys
import time

import numpy as np
import optuna

SEEDED = 100


def main() -> None:
    n, path = int(sys.argv[1]), sys.argv[2]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{path}"
    study = optuna.create_study(study_name="bench", storage=storage, direction="maximize")
    rng = np.random.default_rng(0)
    dists = {"x": optuna.distributions.FloatDistribution(0.0, 1.0),
             "units": optuna.distributions.IntDistribution(8, 512, log=True),
             "opt": optuna.distributions.CategoricalDistribution(["adam", "sgd", "rmsprop"])}
    now = datetime.datetime.now()
    t0 = time.perf_counter()
    trials = []
    for i in range(min(n, SEEDED)):
        x = float(rng.random())
        trial = optuna.trial.create_trial(
            params={"x": x, "units": int(np.exp(rng.uniform(np.log(8), np.log(512)))), "opt": ["adam", "sgd", "rmsprop"][i % 3]},
            distributions=dists, value=1 - (x - 0.3) ** 2, user_attrs={"epochs": i % 7},
            state=optuna.trial.TrialState.COMPLETE)
        trial.datetime_start = now + datetime.timedelta(seconds=i)
        trial.datetime_complete = trial.datetime_start + datetime.timedelta(seconds=1)
        trials.append(trial)
    study.add_trials(trials)
    if n > SEEDED:
        copy_rows(path, n)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    fresh = optuna.load_study(study_name="bench", storage=storage)
    frame = fresh.trials_dataframe()
    seconds = time.perf_counter() - t0
    print(json.dumps({"optuna": optuna.__version__, "n": n, "rows": len(frame), "columns": len(frame.columns),
                      "build_s": build, "frame_s": seconds}))


def copy_rows(path: str, n: int) -> None:
    """Trials SEEDED..n-1 as copies of the first ones' rows (new ids, numbers, values)."""
    conn = sqlite3.connect(path)
    rng = np.random.default_rng(1)
    study_id, start = conn.execute("SELECT study_id, datetime_start FROM trials WHERE number = 0").fetchone()
    params = conn.execute("SELECT trial_id, param_name, param_value, distribution_json FROM trial_params "
                          "WHERE trial_id <= 3 ORDER BY trial_id, param_id").fetchall()
    dist = {name: d for _, name, _, d in params}
    base = datetime.datetime.fromisoformat(start)
    trials, values, attrs, rows = [], [], [], []
    for number in range(SEEDED, n):
        trial_id = number + 1
        t = base + datetime.timedelta(seconds=number)
        trials.append((trial_id, number, study_id, "COMPLETE", str(t), str(t + datetime.timedelta(seconds=1))))
        x = float(rng.random())
        values.append((trial_id, trial_id, 0, 1 - (x - 0.3) ** 2, "FINITE"))
        attrs.append((trial_id, trial_id, "epochs", json.dumps(number % 7)))
        rows += [(trial_id, "x", x, dist["x"]),
                 (trial_id, "units", float(int(np.exp(rng.uniform(np.log(8), np.log(512))))), dist["units"]),
                 (trial_id, "opt", float(number % 3), dist["opt"])]
    with conn:
        conn.executemany("INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete) "
                         "VALUES (?, ?, ?, ?, ?, ?)", trials)
        conn.executemany("INSERT INTO trial_values (trial_value_id, trial_id, objective, value, value_type) "
                         "VALUES (?, ?, ?, ?, ?)", values)
        conn.executemany("INSERT INTO trial_user_attributes (trial_user_attribute_id, trial_id, key, value_json) "
                         "VALUES (?, ?, ?, ?)", attrs)
        conn.executemany("INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) "
                         "VALUES (?, ?, ?, ?)", rows)
    conn.close()


if __name__ == "__main__":
    main()
