#!/bin/bash
# throughput of 1 vs 4 drivers on one search, no-op run function, thread evaluator 2 workers each
set -e
STORE=$1; N=$2; K=$3; D=$(mktemp -d); cd $D
printf "from hyperfleet import HpProblem\nProblem = HpProblem()\nProblem.add_dim(\"x\", (0.0, 1.0))\nProblem.add_dim(\"k\", (0, 50))\n" > problem.py; printf 'def run(c):\n    return c["x"]\n' > run.py
L=b$RANDOM$K
T0=$(date +%s.%N)
python -m hyperfleet search -p problem.py -r run.py --search random --max-evals $N --evaluator thread --workers 2 --name $L --quiet --store "$STORE" >/dev/null 2>&1 &
for i in $(seq 2 $K); do python -m hyperfleet search --join $L --evaluator thread --workers 2 --quiet --store "$STORE" >/dev/null 2>&1 & done
wait
T1=$(date +%s.%N)
python - "$STORE" $L <<'PY'
import sys
from hyperfleet.store import SqlStore
s=SqlStore(sys.argv[1]); r=s.resolve_search(sys.argv[2]); ev=[e for e in s.list_evaluations(r.id) if e.state.value=="DONE"]
t0=min(e.created_time for e in ev); t1=max(e.end_time for e in ev)
print(f"{len(ev)} done, {len({e.driver_id for e in ev})} drivers ran, {len(ev)/(t1-t0):.0f} evals/s between first and last evaluation")
PY
