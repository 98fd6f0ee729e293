"""A Keras callback that reports a monitored metric each epoch and stops the training when told.

Keras is imported when :class:`ReportCallback` is first used, not when hyperfleet is::

    from hyperfleet.integrations.keras import ReportCallback
    model.fit(..., validation_data=(x_val, y_val), callbacks=[ReportCallback(monitor="val_accuracy")])

Each epoch end calls ``hyperfleet.report(logs[monitor], step=epoch + 1)``; when the driver's
stopper says stop, ``model.stop_training`` is set and ``fit`` returns after this epoch. The
metric must be one to maximize (accuracy); for a loss give ``mode="min"`` and the negated loss
is reported.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReportCallback"]  # noqa: F822 - built on first use (see __getattr__)

_CLASS: list = []


def _callback_class() -> type:
    if _CLASS:
        return _CLASS[0]
    try:
        import keras
    except ImportError:
        raise ImportError("ReportCallback needs Keras: pip install keras") from None
    import hyperfleet

    class ReportCallback(keras.callbacks.Callback):
        """Report ``logs[monitor]`` to hyperfleet at each epoch end; stop the training when told.

        Args:
            monitor: the metric in Keras' logs (``val_accuracy``, ``accuracy``, ``val_loss`` ...).
            mode: ``"max"`` (reported as it is) or ``"min"`` (reported negated: values are maximized).
        """

        def __init__(self, monitor: str = "val_accuracy", mode: str = "max") -> None:
            super().__init__()
            if mode not in ("max", "min"):
                raise ValueError(f"ReportCallback mode must be 'max' or 'min', got {mode!r}")
            self.monitor, self.mode = monitor, mode
            self.stopped_epoch: int | None = None

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = logs or {}
            if self.monitor not in logs:
                raise ValueError(f"ReportCallback: no metric {self.monitor!r} in the epoch's logs (there are: "
                                 f"{', '.join(sorted(logs)) or 'none'}); pass validation_data or choose another")
            value = float(logs[self.monitor])
            if not hyperfleet.report(value if self.mode == "max" else -value, step=epoch + 1):
                self.stopped_epoch = epoch + 1
                self.model.stop_training = True

    _CLASS.append(ReportCallback)
    return ReportCallback


def __getattr__(name: str):
    if name == "ReportCallback":
        return _callback_class()
    raise AttributeError(f"module 'hyperfleet.integrations.keras' has no attribute {name!r}")
