"""Two drivers write while a reader polls, in separate processes, on every database."""

import time

from hyperfleet.testing import store_kit as kit

# The rollback journal syncs the disk about twice per commit (~10 ms each on CI's disks): fewer
# evaluations keep that case under ~20 s; WAL and PostgreSQL take the full 500 in ~5 s. It also
# queues readers behind writers, so its writers pause as a driver does between results.
EVALUATIONS = {"sqlite-wal": 500, "sqlite-delete": 150, "postgresql": 500}
WRITER_PAUSE = {"sqlite-wal": 0.0, "sqlite-delete": 0.005, "postgresql": 0.0}


def test_two_writers_and_a_polling_reader(make_store, request):
    backend = request.node.callspec.params["make_store"]
    start = time.time()
    kit.check_concurrent_writers_and_reader(make_store, evaluations=EVALUATIONS[backend], limit=90,
                                            writer_pause=WRITER_PAUSE[backend])
    print(f"{backend}: {EVALUATIONS[backend]} evaluations per writer in {time.time() - start:.1f} s")
