"""The driver's side of starting evaluations: rows reserved in the store, then handed to the executor.

Starting is two steps, so that the store's part can share a transaction: :meth:`Launching._reserve`
writes the new rows (RUNNING) together with the ends of the evaluations that freed their workers,
inside :func:`~hyperfleet.store.critical.critical`; :meth:`Launching._start` then submits them. A
driver whose evaluations are short pays one store transaction per cycle, not one per evaluation
started and one per evaluation ended.
"""

from __future__ import annotations

import logging
from typing import Sequence

from hyperfleet.driver_types import Launch
from hyperfleet.execute import EvalTask
from hyperfleet.files import make_folder
from hyperfleet.store import EvaluationRecord, EvaluationState

logger = logging.getLogger("hyperfleet")


class Launching:
    """Methods of :class:`~hyperfleet.driver.Driver` (a mixin: it uses the driver's attributes)."""

    def _take_buffered(self, n: int, ends: Sequence[tuple[str, dict]] = ()) -> list[Launch]:
        """Reserve up to ``n`` of the configurations asked ahead (and record ``ends`` in the same
        transaction); the caller starts them. Inside :func:`critical`."""
        configs, self._buffer = self._buffer[:n], self._buffer[n:]
        return self._reserve(configs, ends=ends)

    def _forget(self, configs: list[dict]) -> None:
        """Configurations asked but never to be run (the budget is used up by other drivers; those
        the store refused as full are forgotten by :meth:`SharedCycle.reserve` already)."""
        for config in configs:
            self.search.pending.pop(self.problem.key(config), None)

    def _reserve(self, configs: list[dict], unique: bool = True,
                 ends: Sequence[tuple[str, dict]] = ()) -> list[Launch]:
        """Record ``ends``, and create the evaluations of ``configs`` as RUNNING: with other drivers
        possible, a slot of the budget reserved in the store for each (``"full"``: none left;
        ``"duplicate"``: another driver has it); one transaction for all. Call it inside
        :func:`critical`, so that what it writes is known as running before a signal is raised."""
        prepared = []
        for _ in configs:
            env, metadata, held = {}, {}, []
            for pool in self.pools:
                ids = pool.acquire()
                held.append((pool, ids))
                env.update(pool.env(ids))
                metadata[pool.key] = ",".join(ids)
            prepared.append((env, metadata, held))
        if self.shared is not None:  # the worker makes the folder, off this path
            results = self.shared.reserve(configs, unique, [metadata for _, metadata, _ in prepared], ends) \
                if configs or ends else []
        else:
            if ends:
                self.store.update_evaluations(ends)
            results = [(self._create(config, metadata), "ok") for config, (_, metadata, _) in zip(configs, prepared)]
        launches = []
        for config, (env, _, held), (record, outcome) in zip(configs, prepared, results):
            if record is None:
                for pool, ids in held:
                    pool.release(ids)
            else:
                if held:
                    self._held[record.id] = held
                # known as running from now on: a signal while the executor starts still has it cancelled
                self._running[record.id] = record
            launches.append(Launch(config, outcome, record, env))
        return launches

    def _create(self, config: dict, metadata: dict) -> EvaluationRecord:
        """The only driver, numbering its evaluations itself."""
        number = self._next_number
        self._next_number += 1
        folder = self.folder / "evals" / f"{number:05d}"
        make_folder(folder, exist_ok=False)
        return self.store.create_evaluation(self.record.id, number, config, folder=str(folder),
                                            state=EvaluationState.RUNNING, metadata=metadata)

    def _start(self, launches: list[Launch]) -> int:
        """Hand the reserved evaluations to the executor; returns how many started."""
        started = 0
        for launch in launches:
            record = launch.record
            if record is None:
                continue
            self.stats.submitted += 1
            self.stats.running += 1
            self.reports.launched(record.id, protect=self._is_starting_point(launch.config))
            self.executor.submit(EvalTask(record.id, self.run_ref.path, self.run_ref.attr, launch.config,
                                          str(record.folder), timeout=self.eval_timeout, isolate=self.isolate,
                                          env=launch.env, function_bytes=self.run_ref.function_bytes,
                                          live_reports=self.reports.live, memory_limit=self.eval_memory))
            logger.info("launched evaluation %d (%s): %s", record.number, record.id, launch.config)
            self._call("on_launch", record)
            started += 1
        return started
