"""`hyperfleet submit` against a real single-node Slurm (.ci/slurm-up.sh starts it)."""

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hyperfleet.store import EvaluationState, SearchState, SqlStore
from tests.conftest import TUTORIAL

pytestmark = pytest.mark.skipif(shutil.which("sbatch") is None,
                                reason="Slurm is not installed here (.ci/run installs and starts it)")


@pytest.fixture(scope="module", autouse=True)
def slurm_up():
    proc = subprocess.run(["bash", str(Path(__file__).parents[2] / ".ci" / "slurm-up.sh")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def project(tmp_path):
    for name in ("problem.py", "synthetic_run.py"):
        shutil.copy(TUTORIAL / name, tmp_path / name)
    return tmp_path


def hf(args, cwd, sleep="0.05", check=True, path=None):
    env = {k: v for k, v in os.environ.items() if k != "HYPERFLEET_STORE"}
    env["SYNTHETIC_SLEEP"] = sleep
    if path is not None:
        env["PATH"] = path
    proc = subprocess.run([sys.executable, "-m", "hyperfleet", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def wait_for(predicate, limit=120, what="condition", project=None):
    deadline = time.time() + limit
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    details = ""
    if project is not None:  # what the job said, and the scheduler's view, to see why
        outs = sorted(Path(project).glob("searches/*/batch-*.out"))
        details = "\n".join(p.read_text()[-2000:] for p in outs)
        details += "".join(p.read_text()[-1500:] for p in sorted(Path(project).glob("searches/*/hyperfleet.log")))
        details += subprocess.run(["squeue"], capture_output=True, text=True).stdout
        import sqlite3

        with sqlite3.connect(Path(project) / "hyperfleet.db") as conn:
            details += repr(conn.execute("SELECT state, job_id, message FROM searches").fetchall())
            details += repr(conn.execute("SELECT number, state FROM evaluations").fetchall())
            details += repr(conn.execute("PRAGMA journal_mode").fetchall())
    raise AssertionError(f"timed out waiting for {what}\n{details}")


def search_state(project, label):
    db = SqlStore(project / "hyperfleet.db")
    try:
        return db.resolve_search(label)
    finally:
        db.close()


def test_tutorial_submit_command_runs_the_search_in_a_job(project):
    out = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-q", "debug", "-n", "1",
              "-A", "datascience", "-j", "serial", "--search", "random", "--max-evals", "20", "hps",
              "test-mnist"], project).stdout
    assert "QUEUED as slurm job" in out
    job_id = out.split("slurm job ")[1].split()[0]
    record = search_state(project, "test-mnist")
    assert record.scheduler == "slurm" and record.job_id == job_id
    assert record.state in (SearchState.QUEUED, SearchState.RUNNING, SearchState.FINISHED)
    listing = hf(["ls"], project).stdout
    assert f"slurm {job_id}" in listing
    wait_for(lambda: search_state(project, "test-mnist").state == SearchState.FINISHED, what="the job to finish")
    folder = Path(hf(["path", "test-mnist"], project).stdout.strip())
    with open(folder / "results.csv") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 21 and rows[0][-2:] == ["objective", "elapsed_sec"]
    assert rows[1][:6] == ["7", "100", "20", "0.2", "0.2", "RMSprop"]
    assert (folder / "batch-1.slurm.sh").read_text().count("#SBATCH --account=datascience") == 1
    assert "hyperfleet search" in (folder / "batch-1.out").read_text()
    evaluations = hf(["ls", "test-mnist"], project).stdout
    assert evaluations.count(" DONE ") == 20 and f"FINISHED — slurm {job_id}" in evaluations


def test_cancel_a_running_search(project):
    hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-n", "1", "--search", "random",
        "--max-evals", "50", "slow"], project, sleep="3")
    wait_for(lambda: any(e.state == EvaluationState.RUNNING for e in _evaluations(project, "slow")),
             what="an evaluation to run", project=project)
    record = search_state(project, "slow")
    out = hf(["cancel", "slow"], project).stdout
    assert f"slurm job {record.job_id} cancelled" in out
    record = search_state(project, "slow")
    assert record.state == SearchState.CANCELLED
    wait_for(lambda: subprocess.run(["squeue", "-h", "-j", record.job_id], capture_output=True,
                                    text=True).stdout.strip() == "", what="the job to leave the queue")
    time.sleep(1)
    states = {e.state for e in _evaluations(project, "slow")}
    assert EvaluationState.RUNNING not in states and EvaluationState.CANCELLED in states
    assert search_state(project, "slow").state == SearchState.CANCELLED
    # submitting again with the same label continues the search in a new job
    out = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-n", "1", "--search", "random",
              "--max-evals", "6", "slow"], project).stdout
    assert search_state(project, "slow").id == record.id and "QUEUED" in out
    wait_for(lambda: search_state(project, "slow").state == SearchState.FINISHED, what="the continued search")
    done = [e for e in _evaluations(project, "slow") if e.state == EvaluationState.DONE]
    assert len(done) == 6


def _evaluations(project, label):
    db = SqlStore(project / "hyperfleet.db")
    try:
        return db.list_evaluations(db.resolve_search(label).id)
    finally:
        db.close()


def _slurm_room(cpus: int, mem_mb: int) -> tuple[int, int]:
    """(worker jobs of ``cpus`` CPUs and ``mem_mb`` MB that fit now, that fit on an idle cluster),
    from ``scontrol show node``: CPUs and memory configured, allocated, per node."""
    out = subprocess.run(["scontrol", "-o", "show", "node"], capture_output=True, text=True, timeout=30).stdout
    now = ever = 0
    for line in out.splitlines():
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        if not any(state in fields.get("State", "") for state in ("IDLE", "MIXED", "ALLOCATED")):
            continue
        total_cpu, total_mem = int(fields.get("CPUTot", 0)), int(fields.get("RealMemory", 0))
        free_cpu = total_cpu - int(fields.get("CPUAlloc", 0))
        free_mem = total_mem - int(fields.get("AllocMem", 0))
        now += min(free_cpu // cpus, free_mem // mem_mb)
        ever += min(total_cpu // cpus, total_mem // mem_mb)
    return now, ever


def test_elastic_mode_with_two_worker_jobs(project):
    pytest.importorskip("dask_jobqueue")
    # each worker job asks for 1 CPU and 1 GB (954 MiB); two must run at once
    ever = 0
    for _ in range(60):  # other jobs may hold the node for a while
        now, ever = _slurm_room(cpus=1, mem_mb=1000)
        if now >= 2 or ever < 2:
            break
        time.sleep(2)
    if ever < 2:
        pytest.skip(f"this Slurm can run only {ever} worker job(s) of 1 CPU and 1 GB at a time; the test "
                    f"needs 2 (see scontrol show node)")
    if now < 2:
        pytest.skip(f"this Slurm has room for only {now} worker job(s) of 1 CPU and 1 GB now (other jobs "
                    f"hold the rest for over 2 min); the test needs 2")
    out = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-q", "debug", "-n", "2",
              "--elastic", "--search", "random", "--max-evals", "16", "hps", "elastic"], project, sleep="0.3").stdout
    assert "up to 2 slurm worker job(s)" in out and "16 done, 0 failed" in out
    workers = {e.worker for e in _evaluations(project, "elastic")}
    assert len(workers) == 2 and all(w.startswith("dask-") for w in workers)
    assert subprocess.run(["squeue", "-h"], capture_output=True, text=True).stdout.strip() == ""


def test_scheduler_errors_are_clear(project):
    proc = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-q", "nosuchqueue",
               "--search", "random", "bad-queue"], project, check=False)
    assert proc.returncode == 2 and "refused to accept the job" in proc.stderr
    assert "partition" in proc.stderr.lower()
    assert search_state(project, "bad-queue").state == SearchState.FAILED
    proc = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "1", "--search", "random", "short"],
              project, check=False)
    assert proc.returncode == 2 and "walltime of 1 min" in proc.stderr
    proc = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "--search", "random", "x"],
              project, check=False, path="/nonexistent")
    assert proc.returncode == 2 and "no batch scheduler found" in proc.stderr
    hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "--search", "random",
        "--max-evals", "200", "twice"], project, sleep="1")
    proc = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "--search", "random", "twice"],
              project, check=False)
    assert proc.returncode == 2 and "search twice is already" in proc.stderr
    hf(["cancel", "twice"], project)
    proc = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "one", "two", "three"],
              project, check=False)
    assert proc.returncode == 2 and "label last" in proc.stderr


def test_mpi_job_mode_hands_each_evaluation_its_nodes(project):
    (project / "mpi_run.py").write_text(
        "import os, shlex, subprocess\n"
        "def run(c):\n"
        "    out = subprocess.run(shlex.split(os.environ['HYPERFLEET_LAUNCH']) + ['hostname'],\n"
        "                         capture_output=True, text=True, check=True).stdout.split()\n"
        "    return {'objective': c['dropout_1'], 'ranks_ran_on': out}\n")
    hf(["submit", "-p", "problem.py", "-r", "mpi_run.py", "-t", "5", "-n", "1", "-j", "mpi", "--search", "random",
        "--max-evals", "3", "mpi-mode"], project)
    wait_for(lambda: search_state(project, "mpi-mode").state in (SearchState.FINISHED, SearchState.FAILED),
             what="the mpi-mode job")
    evaluations = _evaluations(project, "mpi-mode")
    node = subprocess.run(["hostname", "-s"], capture_output=True, text=True).stdout.strip()
    assert len(evaluations) == 3
    for e in evaluations:
        assert e.state == EvaluationState.DONE, e.error
        assert e.metadata["nodes"] == node and e.metadata["ranks_ran_on"] == [node]


def test_submit_no_drain_reaches_its_budget_in_the_job(project):
    hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-n", "1", "--search", "random",
        "--max-evals", "8", "--no-drain", "hps", "busy-job"], project)
    assert search_state(project, "busy-job").settings["drain"] is False
    wait_for(lambda: search_state(project, "busy-job").state == SearchState.FINISHED, what="the job to finish",
             project=project)
    record = search_state(project, "busy-job")
    assert "max_evals reached" in record.message and "no drain" in record.message
    db = SqlStore(project / "hyperfleet.db")
    try:
        states = [e.state for e in db.list_evaluations(record.id)]
    finally:
        db.close()
    assert states.count(EvaluationState.DONE) >= 8
    assert set(states) <= {EvaluationState.DONE, EvaluationState.CANCELLED}


def _argvs_with(text):
    """The command lines of every process on this machine that contain ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in argv:
            found.append(argv)
    return found


@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_a_store_password_stays_out_of_the_job_script_and_argv(project, postgres_schema_url, form):
    """Schedulers keep copies of job scripts and `ps` shows every command line to every user: a
    PostgreSQL password, as user:pw@ or ?password=, goes to the job through a 0600 file, and the
    job still reaches the store (the search finishes)."""
    from sqlalchemy.engine import make_url

    url = make_url(postgres_schema_url)
    password = url.password
    assert password
    if form == "query":
        url = url.set(password=None).update_query_dict({"password": password})
    url_text = url.render_as_string(hide_password=False)
    assert password in url_text
    proc = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-n", "1", "--search", "random",
               "--max-evals", "6", "--store", url_text, "hps", "pg-job"], project, sleep="1.5")
    assert password not in proc.stdout + proc.stderr
    db = SqlStore(postgres_schema_url)
    try:
        record = db.resolve_search("pg-job")
        seen_resume = []

        def finished():
            # while the job runs, no process shows the password; the job's resume process is there
            assert _argvs_with(password) == []
            seen_resume.extend(a for a in _argvs_with(record.id) if " resume " in a)
            return db.resolve_search("pg-job").state == SearchState.FINISHED

        wait_for(finished, what="the job to finish", project=project)
        assert len(db.list_evaluations(record.id)) == 6
    finally:
        db.close()
    assert seen_resume and all("--store-file" in a for a in seen_resume), seen_resume
    folder = Path(record.folder)
    script = next(folder.glob("batch-1.*.sh")).read_text()
    assert password not in script and "--store-file" in script
    url_file = folder / "store-url"
    assert url_file.read_text() == url_text and (url_file.stat().st_mode & 0o777) == 0o600
    listing = hf(["ls", "--store", url_text], project).stdout + hf(["ls", "pg-job", "--store", url_text],
                                                                    project).stdout
    assert password not in listing and password not in (folder / "hyperfleet.log").read_text()
    assert password not in (folder / "batch-1.out").read_text()



def test_ls_shows_why_a_job_waits_and_why_a_submission_was_refused(project):
    """A job the partition's time limit can never admit pends forever: ls says so in the scheduler's
    words; a refused submission leaves a FAILED search whose reason ls shows."""
    if "short" not in subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True).stdout:
        pytest.skip("no partition 'short' with a 5 min limit (.ci/slurm-up.sh creates it)")
    out = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "10", "-q", "short", "--search",
              "random", "--max-evals", "2", "never"], project).stdout
    job_id = out.split("slurm job ")[1].split()[0]
    try:
        def listing():
            text = hf(["ls"], project).stdout
            return text if "PartitionTimeLimit" in text else None

        text = wait_for(listing, limit=60, what="squeue to give the pending reason", project=project)
        line = next(line for line in text.splitlines() if "never" in line)
        assert f"QUEUED — slurm {job_id} PENDING (PartitionTimeLimit)" in line
        assert f"slurm {job_id} PENDING (PartitionTimeLimit)" in hf(["ls", "never"], project).stdout
    finally:
        hf(["cancel", "never"], project)
    proc = hf(["submit", "-p", "problem.py", "-r", "synthetic_run.py", "-t", "5", "-q", "nosuchqueue", "--search",
               "random", "refused"], project, check=False)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    record = search_state(project, "refused")
    assert record.state == SearchState.FAILED and "invalid partition" in record.message.lower()
    listing = hf(["ls"], project).stdout
    assert f"refused ({record.id[:8]}) FAILED: the scheduler refused to accept the job" in listing
    assert "invalid partition" in hf(["ls", "refused"], project).stdout.lower()


def test_a_multi_node_job_runs_a_tls_dask_cluster(project):
    """The several-nodes script, on this one node: a TLS Dask scheduler and workers started with
    srun, the driver joining with the search's credentials; a client without them is refused."""
    pytest.importorskip("distributed")
    import json

    from hyperfleet.api import create_search_record
    from hyperfleet.batch import BatchJob, Slurm
    from hyperfleet.batch.submit import job_body
    from hyperfleet.execute.tls import cluster_credentials
    from hyperfleet.user_code import load_problem

    class OneNodeSlurm(Slurm):
        def per_node(self, nodes):  # the script's one-worker-per-node line, on the one node there is
            return "srun --nodes=1 --ntasks-per-node=1"

    problem, _ = load_problem(str(project / "problem.py"))
    db = SqlStore(project / "hyperfleet.db")
    try:
        from hyperfleet.user_code import CodeRef

        settings = {"search": "random", "search_settings": {}, "seed": 1, "evaluator": "dask", "workers": None,
                    "max_evals": 8, "timeout": None, "eval_timeout": None, "isolate": False, "gpus_per_eval": 0,
                    "gpus": None, "prefetch": None, "drain": True}
        record = create_search_record(db, problem, CodeRef(str(project / "synthetic_run.py"), "run"), "tls-job",
                                      settings)
        db.update_search(record.id, state=SearchState.QUEUED)
        store_url = db.url
    finally:
        db.close()
    folder = Path(record.folder)
    cluster_credentials(folder)
    body = job_body(record, store_url, 5, 2, "serial", 2, OneNodeSlurm())
    job = BatchJob(name="hf-tls-job", minutes=5, nodes=1, output=str(folder / "batch-1.out"), workdir=str(project),
                   body=["export SYNTHETIC_SLEEP=1", *body])
    script = folder / "batch-1.slurm.sh"
    script.write_text(Slurm().render(job))
    Slurm().submit(str(script))
    scheduler_file = wait_for(lambda: next(folder.glob("dask-scheduler-*.json"), None), what="the scheduler",
                              project=project)
    address = wait_for(lambda: json.loads(scheduler_file.read_text() or "{}").get("address"), what="its address")
    assert address.startswith("tls://")
    attack = ("import distributed, os, sys\n"
              "try:\n    c = distributed.Client(sys.argv[1], timeout='8s'); print('RAN', c.run(os.getpid))\n"
              "except Exception as e:\n    print('REFUSED', type(e).__name__)\n")
    out = subprocess.run([sys.executable, "-c", attack, address.replace("tls://", "tcp://")], capture_output=True,
                         text=True, timeout=120).stdout
    assert out.startswith("REFUSED"), out
    wait_for(lambda: search_state(project, "tls-job").state in (SearchState.FINISHED, SearchState.FAILED),
             limit=240, what="the job to finish", project=project)
    evaluations = _evaluations(project, "tls-job")
    assert len(evaluations) == 8 and all(e.state == EvaluationState.DONE for e in evaluations)
    assert all(e.worker.startswith("dask-") for e in evaluations)
