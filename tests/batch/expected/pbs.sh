#!/bin/bash
#PBS -N hf-test-mnist
#PBS -l walltime=00:20:00
#PBS -l select=2:ngpus=1
#PBS -o /work/searches/test-mnist-0123abcd/batch-1.out
#PBS -j oe
#PBS -q debug
#PBS -A datascience

cd /work

set -u
umask 077
export PYTHONUNBUFFERED=1
echo "hyperfleet search 0123abcd-0000-0000-0000-000000000000 on $(hostname)"
SCHEDULER_FILE=/work/searches/test-mnist-0123abcd/dask-scheduler-${PBS_JOBID:-$$}.json
/opt/py/bin/python -m distributed.cli.dask_scheduler --scheduler-file "$SCHEDULER_FILE" --protocol tls --no-dashboard --dashboard-address 127.0.0.1:0 --tls-ca-file /work/searches/test-mnist-0123abcd/dask-tls/ca.pem --tls-cert /work/searches/test-mnist-0123abcd/dask-tls/cert.pem --tls-key /work/searches/test-mnist-0123abcd/dask-tls/key.pem &
mpiexec -n 2 --map-by ppr:1:node /opt/py/bin/python -m distributed.cli.dask_worker --scheduler-file "$SCHEDULER_FILE" --nworkers 4 --nthreads 1 --no-dashboard --dashboard-address 127.0.0.1:0 --tls-ca-file /work/searches/test-mnist-0123abcd/dask-tls/ca.pem --tls-cert /work/searches/test-mnist-0123abcd/dask-tls/cert.pem --tls-key /work/searches/test-mnist-0123abcd/dask-tls/key.pem &
sleep 5
DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION=True DASK_DISTRIBUTED__COMM__TLS__CA_FILE=/work/searches/test-mnist-0123abcd/dask-tls/ca.pem DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT=/work/searches/test-mnist-0123abcd/dask-tls/cert.pem DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY=/work/searches/test-mnist-0123abcd/dask-tls/key.pem /opt/py/bin/python -m hyperfleet resume 0123abcd-0000-0000-0000-000000000000 --store sqlite:////work/hyperfleet.db --queued-only --timeout 1110 --evaluator dask --dask-address "$SCHEDULER_FILE"
kill %1 %2 2>/dev/null || true
