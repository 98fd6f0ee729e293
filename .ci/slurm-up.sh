#!/usr/bin/env bash
# Start a single-node Slurm on this machine (loopback only) for the scheduler tests.
# Idempotent: does nothing when a controller already answers. Needs root.
set -euo pipefail

# A second partition whose time limit (5 min) jobs asking for more can never meet: they stay
# PENDING (PartitionTimeLimit), which tests/batch/test_slurm.py shows through `hyperfleet ls`.
short_partition() {
  scontrol show partition short >/dev/null 2>&1 || \
    scontrol create PartitionName=short Nodes=ALL Default=NO MaxTime=5 State=UP
}

if scontrol ping 2>/dev/null | grep -q "UP"; then
  short_partition
  exit 0
fi
if ! command -v slurmctld >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

host=$(hostname -s)
cpus=$(nproc)
mkdir -p /etc/munge /var/run/munge /var/log/munge /var/lib/munge /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown -R munge:munge /etc/munge /var/run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
[ -f /etc/munge/munge.key ] || mungekey --create --keyfile /etc/munge/munge.key
chown munge:munge /etc/munge/munge.key
chmod 600 /etc/munge/munge.key
pgrep -x munged >/dev/null || su -s /bin/sh munge -c "munged"

cat > /etc/slurm/slurm.conf <<CONF
ClusterName=hyperfleet-ci
SlurmctldHost=${host}(127.0.0.1)
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerParameters=sched_interval=5
ReturnToService=2
MinJobAge=600
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/var/run/slurmctld.pid
SlurmdPidFile=/var/run/slurmd.pid
SlurmUser=root
MpiDefault=none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=ALL Default=NO MaxTime=5 State=UP
CONF

slurmctld
slurmd
for _ in $(seq 1 30); do
  if sinfo -h -o %T 2>/dev/null | grep -qE "idle|mixed|allocated"; then
    exit 0
  fi
  sleep 1
done
echo "slurm did not come up; logs:" >&2
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
