"""The store kit's concurrency check: two writer processes and a polling reader, as a running
driver and ``hyperfleet ls`` do (see :mod:`hyperfleet.testing.store_kit`)."""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
import uuid
from typing import Callable

from hyperfleet.store import EvaluationState, SearchState, Store

MakeStore = Callable[[], Store]
DONE, RUNNING = EvaluationState.DONE, EvaluationState.RUNNING


def check_concurrent_writers_and_reader(make_store: MakeStore, evaluations: int = 500, limit: float = 60,
                                        poll_interval: float = 0.0, writer_pause: float = 0.0) -> None:
    """Two drivers fill their own searches in small transactions while a third process polls.

    Every process opens the (new) store at the same moment. Nothing may raise, the reader may
    never see a count go down or a gap in the numbers, and every row must be there at the end.
    ``poll_interval``: the reader's pause between polls (none: as hard as it can).
    ``writer_pause``: each writer's pause after each evaluation, as a driver's own work between
    results; without it a SQLite rollback journal (which queues readers behind writers) lets the
    reader in only rarely.
    """
    ctx = multiprocessing.get_context("spawn")
    search_ids = [str(uuid.uuid4()) for _ in range(2)]
    reports = ctx.Queue()
    stop = ctx.Event()
    writers = [ctx.Process(target=_writer, args=(make_store, sid, evaluations, writer_pause, reports),
                           daemon=True)
               for sid in search_ids]
    reader = ctx.Process(target=_reader, daemon=True,
                         args=(make_store, search_ids, evaluations, poll_interval, stop, reports))
    processes = [*writers, reader]
    for process in processes:
        process.start()
    deadline = time.time() + limit
    try:
        for process in writers:
            process.join(max(0.1, deadline - time.time()))
        stop.set()
        reader.join(max(5.0, deadline - time.time()))
        messages = []
        while len(messages) < len(processes):
            messages.append(reports.get(timeout=max(0.1, deadline - time.time() + 5)))
    except queue.Empty:
        pass
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    errors = [text for kind, text in messages if kind == "error"]
    assert not errors, "\n".join(errors)
    codes = [p.exitcode for p in processes]
    assert codes == [0, 0, 0] and len(messages) == 3, f"exit codes {codes} (None: still running at {limit} s)"
    overlaps = [int(text) for kind, text in messages if kind == "reader"][0]
    assert overlaps >= 3, f"only {overlaps} of the reader's polls saw the writers half done"

    store = make_store()
    try:
        for sid in search_ids:
            summary = store.summary(sid)
            assert summary.counts == {"DONE": evaluations}, summary.counts
            assert summary.best == float(evaluations - 1) and summary.search.state == SearchState.FINISHED
            rows = store.list_evaluations(sid)
            assert [e.number for e in rows] == list(range(evaluations))
            assert all(e.objective == e.number and e.metadata == {"n": e.number, "sid": sid} for e in rows)
    finally:
        store.close()


def _writer(make_store: MakeStore, search_id: str, evaluations: int, pause: float, reports) -> None:
    """As a driver does: one insert per launched evaluation, results in small batches."""
    try:
        store = make_store()
        store.create_search(f"writer-{search_id[:8]}", "/tmp", {}, {"max_evals": evaluations},
                            search_id=search_id)
        store.update_search(search_id, state=SearchState.RUNNING, start_time=time.time())
        pending: list[tuple[int, str]] = []
        for n in range(evaluations):
            record = store.create_evaluation(search_id, n, {"n": n}, state=RUNNING, worker="w", start_time=n)
            pending.append((n, record.id))
            if len(pending) >= 1 + n % 4:
                store.update_evaluations([_result(m, eid, search_id) for m, eid in pending])
                pending = []
            time.sleep(pause)
        store.update_evaluations([_result(m, eid, search_id) for m, eid in pending])
        store.update_search(search_id, state=SearchState.FINISHED, end_time=time.time())
        store.close()
        reports.put(("writer", search_id))
    except BaseException:
        reports.put(("error", f"writer {search_id[:8]}:\n{traceback.format_exc()}"))
        raise SystemExit(1) from None


def _result(number: int, eval_id: str, search_id: str) -> tuple[str, dict]:
    return eval_id, {"state": DONE, "objective": float(number), "end_time": time.time(),
                     "metadata": {"n": number, "sid": search_id}}


def _reader(make_store: MakeStore, search_ids: list[str], evaluations: int, poll_interval: float, stop,
            reports) -> None:
    """As ``hyperfleet ls`` in a loop: summaries and evaluation lists, checked for consistency."""
    polls = overlaps = 0
    try:
        store = make_store()
        last = {sid: (0, 0) for sid in search_ids}
        while not stop.is_set():
            by_id = {s.search.id: s for s in store.summaries()}
            for sid in search_ids:
                if sid not in by_id:
                    continue
                summary = by_id[sid]
                seen = (summary.total, summary.done)
                before = last[sid]
                assert seen[0] >= before[0] and seen[1] >= before[1], f"counts went down: {before} -> {seen}"
                assert summary.done <= summary.total <= evaluations, summary.counts
                last[sid] = seen
                rows = store.list_evaluations(sid)
                assert [e.number for e in rows] == list(range(len(rows))), "a gap in the evaluation numbers"
                assert len(rows) >= seen[0], "the list is behind the summary read before it"
                assert all(e.objective == e.number for e in rows if e.state == DONE)
                assert all(e.state in (RUNNING, DONE) for e in rows)
                overlaps += 0 < summary.done < evaluations
            polls += 1
            stop.wait(poll_interval)
        store.close()
        reports.put(("reader", str(overlaps)))
    except BaseException:
        reports.put(("error", f"reader (after {polls} polls):\n{traceback.format_exc()}"))
        raise SystemExit(1) from None
