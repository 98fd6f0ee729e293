"""The Dask clusters hyperfleet starts accept only processes holding their TLS credentials."""

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from hyperfleet.testing import executor_kit as kit

pytest.importorskip("distributed")
pytest.importorskip("cryptography")

# A second process tries to run code on the scheduler's workers; prints RAN or REFUSED.
ATTACK = textwrap.dedent("""
    import os, sys
    import distributed
    address, how = sys.argv[1], sys.argv[2]
    security = None
    if how == "plain":
        address = address.replace("tls://", "tcp://")
    elif how == "other-ca":
        from hyperfleet.execute.tls import make_credentials
        security = make_credentials(sys.argv[3]).security()
    try:
        client = distributed.Client(address, timeout="8s", security=security)
        pids = client.run(os.getpid)
    except Exception as err:
        print("REFUSED", type(err).__name__, str(err)[:200])
    else:
        print("RAN", sorted(pids.values()))
        client.close()
""")


def _attack(address, how, tmp_path, env=None):
    proc = subprocess.run([sys.executable, "-c", ATTACK, address, how, str(tmp_path / f"ca-{how}")],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})
    return proc.stdout.strip() or proc.stderr[-2000:]


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_local_cluster_refuses_clients_without_its_credentials(tmp_path):
    from hyperfleet.execute.dask import DaskExecutor

    search = tmp_path / "search"
    search.mkdir()
    ex = DaskExecutor(2)
    try:
        ex.use_folder(str(search))
        address = ex.client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        files = ex.tls_files
        assert _mode(search / "dask-tls") == 0o700
        assert {_mode(p) for p in (files.ca_file, files.cert, files.key)} == {0o600}
        assert str(search / "dask-tls") in files.key
        # the driver's own evaluations run
        ex.submit(kit.task("quadratic", tmp_path, x=0.3))
        assert kit.collect(ex, 1)[0].objective == 1.0
        # another process: plain TCP, or TLS with a certificate of another CA, is refused
        for how in ("plain", "other-ca", "no-credentials"):
            assert _attack(address, how, tmp_path).startswith("REFUSED"), how
        # with the search's credentials (how a user joins), it works
        out = _attack(address, "joined", tmp_path, env=files.environment())
        assert out.startswith("RAN"), out
    finally:
        ex.shutdown()


def test_without_a_search_folder_the_credentials_live_in_a_private_temp_folder(tmp_path):
    from hyperfleet.execute.dask import DaskExecutor

    ex = DaskExecutor(1)
    try:
        ex.submit(kit.task("quadratic", tmp_path, x=0.3))
        assert kit.collect(ex, 1)[0].objective == 1.0
        scratch = os.path.dirname(os.path.dirname(ex.tls_files.key))
        assert _mode(scratch) == 0o700 and _mode(ex.tls_files.key) == 0o600
        assert _attack(ex.client.scheduler.address, "plain", tmp_path).startswith("REFUSED")
    finally:
        ex.shutdown()
    assert not os.path.exists(scratch)
