"""The tutorial's MNIST example, shrunk: 3 evaluations, 1 epoch, 500 training images."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hyperfleet.store import EvaluationState, SqlStore

EXAMPLE = Path(__file__).parents[2] / "examples" / "mnist_mlp"


def test_mnist_example_runs_offline_and_returns_accuracies(tmp_path):
    # One epoch on 500 images leaves a configuration with dropout near 0.9 at chance level (0.1);
    # seed 2's three configurations (the tutorial's starting point first) all learn something.
    import importlib.util

    missing = [m for m in ("keras", "torch", "mlxtend") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the example needs {missing}: pip install -e '.[examples]' (.ci/run does)")
    env = {**os.environ, "MNIST_EPOCHS": "1", "MNIST_TRAIN_SIZE": "500", "MNIST_VAL_SIZE": "500"}
    env.pop("HYPERFLEET_STORE", None)
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "search", "-p", str(EXAMPLE / "problem.py"),
                           "-r", str(EXAMPLE / "mnist_mlp_run.py"), "--max-evals", "3", "--workers", "2",
                           "--name", "mnist", "--seed", "2", "--quiet"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    db = SqlStore(tmp_path / "hyperfleet.db")
    records = db.list_evaluations(db.resolve_search("mnist").id)
    assert len(records) == 3
    for r in records:
        assert r.state == EvaluationState.DONE, r.error
        assert 0.1 < r.objective <= 1.0
        assert r.metadata["epochs"] == 1 and "val_loss" in r.metadata
        stdout = (Path(r.folder) / "stdout.txt").read_text()
        assert "500 train samples" in stdout and "Test accuracy:" in stdout
    assert records[0].config == {"log2_batch_size": 7, "nunits_1": 100, "nunits_2": 20, "dropout_1": 0.2,
                                 "dropout_2": 0.2, "optimizer_type": "RMSprop"}


def test_mnist_example_reports_each_epoch_and_stops_when_told(tmp_path):
    """The Keras callback reports val_accuracy per epoch; `--stopper fixed` ends the trainings
    after epoch 1 (the starting point, protected, trains both epochs)."""
    import importlib.util

    missing = [m for m in ("keras", "torch", "mlxtend") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the example needs {missing}: pip install -e '.[examples]' (.ci/run does)")
    env = {**os.environ, "MNIST_EPOCHS": "2", "MNIST_TRAIN_SIZE": "500", "MNIST_VAL_SIZE": "500"}
    env.pop("HYPERFLEET_STORE", None)
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", "search", "-p", str(EXAMPLE / "problem.py"),
                           "-r", str(EXAMPLE / "mnist_mlp_run.py"), "--max-evals", "3", "--workers", "2",
                           "--name", "mnist", "--seed", "2", "--quiet", "--stopper", "fixed",
                           "--stopper-setting", "step=1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    db = SqlStore(tmp_path / "hyperfleet.db")
    search = db.resolve_search("mnist")
    records = db.list_evaluations(search.id)
    curves = {}
    for r in db.list_reports(search.id):
        curves.setdefault(r.evaluation_id, []).append((r.step, r.value))
    first, *others = records
    assert first.state == EvaluationState.DONE and first.last_step == 2 and first.metadata["epochs"] == 2
    assert [s for s, _ in curves[first.id]] == [1, 2] and first.objective == pytest.approx(curves[first.id][-1][1])
    for r in others:
        assert r.state == EvaluationState.STOPPED and r.last_step == 1, (r.state, r.error)
        assert [s for s, _ in curves[r.id]] == [1] and r.objective == curves[r.id][0][1]
        assert 0.0 <= r.objective <= 1.0
