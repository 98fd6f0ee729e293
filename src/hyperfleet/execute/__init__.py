"""Executors: where evaluations run (serial, a process pool; more behind the same interface)."""

from hyperfleet.execute.base import Executor
from hyperfleet.execute.process import ProcessExecutor
from hyperfleet.execute.serial import SerialExecutor
from hyperfleet.execute.task import EvalOutcome, EvalTask

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "EvalTask", "EvalOutcome",
           "make_executor", "EXECUTORS"]

EXECUTORS = ("serial", "process")


def make_executor(name: str, workers: int | None = None) -> Executor:
    """Build an executor by name."""
    if name == "serial":
        if workers not in (None, 1):
            raise ValueError(f"the serial evaluator runs one evaluation at a time; drop --workers {workers} "
                             f"or use --evaluator process")
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(workers)
    raise ValueError(f"unknown evaluator {name!r}; choose one of {', '.join(EXECUTORS)}")
