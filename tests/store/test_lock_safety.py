"""A running search's writes stay visible, and stay, while other processes open and close the store.

Regression: a reader used to read the journal mode from the file's header, which is stale while
a new store's first pages still sit in its WAL; it then switched the store out of WAL under the
writer, whose later commits went to a deleted WAL file and were lost.
"""

import subprocess
import sys
import textwrap
import time

from hyperfleet.store import SqlStore

WRITER = textwrap.dedent("""
    import sys, time
    from hyperfleet.store import SqlStore, EvaluationState
    first = SqlStore(sys.argv[1])
    search = first.create_search("w", "/tmp", {"dims": []}, {})
    second = SqlStore(sys.argv[1])          # a second store on the same file, in the same process
    first.list_searches()
    for i in range(60):
        second.create_evaluation(search.id, i, {"i": i}, state=EvaluationState.DONE)
        time.sleep(0.05)
    print(search.id, flush=True)
""")


def test_writes_stay_visible_while_readers_come_and_go(tmp_path):
    path = tmp_path / "hf.db"  # created by the writer, which keeps it open (nothing checkpointed yet)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    seen = []
    while not path.exists():
        time.sleep(0.01)
    while writer.poll() is None:
        reader = SqlStore(path)
        searches = reader.list_searches()
        if searches:
            seen.append(len(reader.list_evaluations(searches[0].id)))
        reader.close()
        time.sleep(0.1)
    search_id = writer.communicate()[0].strip()
    assert writer.returncode == 0
    assert seen and seen == sorted(seen) and max(seen) > 10, seen
    final = SqlStore(path)
    assert len(final.list_evaluations(search_id)) == 60
