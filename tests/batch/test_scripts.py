"""PBS and LSF scripts against expected files, and the schedulers' answers parsed.

No PBS or LSF server can run here: these tests check the scripts and the parsing of recorded
answers (test doubles of the servers' output), not a live submission. Slurm is tested live in
test_slurm.py.
"""

from pathlib import Path

import pytest

from hyperfleet.batch import LSF, PBS, BatchJob, SchedulerError, Slurm, get_scheduler, search_time
from hyperfleet.batch.submit import job_body
from hyperfleet.store import SearchRecord, SearchState

EXPECTED = Path(__file__).parent / "expected"


def _job(nodes=2, scheduler=None):
    record = SearchRecord(id="0123abcd-0000-0000-0000-000000000000", label="test-mnist", state=SearchState.CREATED,
                          folder="/work/searches/test-mnist-0123abcd")
    body = job_body(record, "sqlite:////work/hyperfleet.db", 20, nodes, "serial", 4, scheduler or Slurm(),
                    python="/opt/py/bin/python")
    return BatchJob(name="hf-test-mnist", minutes=20, nodes=nodes, queue="debug", account="datascience",
                    output="/work/searches/test-mnist-0123abcd/batch-1.out", workdir="/work", gpus_per_node=1,
                    body=body)


@pytest.mark.parametrize("scheduler", [Slurm(), PBS(), LSF()], ids=lambda s: s.name)
def test_scripts_match_expected_files(scheduler):
    expected = (EXPECTED / f"{scheduler.name}.sh").read_text()
    assert scheduler.render(_job(scheduler=scheduler)) == expected


def test_single_node_runs_the_process_evaluator():
    body = "\n".join(_job(nodes=1).body)
    assert "--evaluator process --workers 4" in body and "dask" not in body


def test_pbs_states():
    pbs = PBS()
    assert pbs.parse_state("Job Id: 1.server\n    job_state = Q\n") == "QUEUED"
    assert pbs.parse_state("    job_state = R\n") == "RUNNING"
    assert pbs.parse_state("    job_state = F\n    Exit_status = 0\n") == "FINISHED"
    assert pbs.parse_state("    job_state = F\n    Exit_status = 271\n") == "FAILED"
    assert pbs.parse_state("") == "UNKNOWN"


def test_lsf_job_id():
    assert LSF.parse_job_id("Job <4242> is submitted to queue <debug>.\n") == "4242"
    with pytest.raises(SchedulerError, match="could not read the job id"):
        LSF.parse_job_id("Request aborted by esub.")


def test_walltime_budget():
    assert search_time(20) == 20 * 60 - 30 - 60
    with pytest.raises(ValueError, match="walltime of 1 min"):
        search_time(1)


def test_unknown_scheduler():
    with pytest.raises(SchedulerError, match="unknown scheduler 'sge'"):
        get_scheduler("sge")


@pytest.mark.parametrize("url", ["postgresql+psycopg://me:s3cret@db:5432/hf",
                                 "postgresql+psycopg://me@db:5432/hf?password=s3cret",
                                 "postgresql://me@db/hf?sslmode=require&sslpassword=s3cret",
                                 "postgresql://me@db/hf?passfile=/home/me/s3cret"])
def test_a_store_secret_is_read_from_a_file_not_written_in_the_script(url):
    record = SearchRecord(id="0123abcd-0000-0000-0000-000000000000", label="pg", state=SearchState.CREATED,
                          folder="/work/searches/pg-0123abcd")
    for nodes in (1, 2):
        body = "\n".join(job_body(record, url, 20, nodes, "serial", 4, Slurm(), python="/opt/py/bin/python"))
        assert "s3cret" not in body
        assert "--store-file /work/searches/pg-0123abcd/store-url" in body and "--store " not in body


def test_a_store_url_without_secrets_stays_inline():
    record = SearchRecord(id="0123abcd-0000-0000-0000-000000000000", label="pg", state=SearchState.CREATED,
                          folder="/work/searches/pg-0123abcd")
    plain = "\n".join(job_body(record, "postgresql+psycopg://me@db:5432/hf", 20, 1, "serial", 4, Slurm()))
    assert "--store postgresql+psycopg://me@db:5432/hf" in plain and "store-file" not in plain


def test_several_nodes_run_a_tls_dask_cluster():
    body = "\n".join(_job(nodes=2).body)
    tls = "/work/searches/test-mnist-0123abcd/dask-tls"
    for line in body.splitlines():
        if "dask_scheduler" in line or "dask_worker" in line:
            assert f"--tls-ca-file {tls}/ca.pem --tls-cert {tls}/cert.pem --tls-key {tls}/key.pem" in line
    assert "--protocol tls" in body and f"DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY={tls}/key.pem" in body
