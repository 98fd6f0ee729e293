"""Batch schedulers driven through their own commands: Slurm, PBS Pro, LSF.

Each scheduler renders a batch script from a :class:`BatchJob`, submits it, reads a job's state
and cancels it. Only Slurm can run on a test machine; the PBS and LSF scripts are checked
against expected files.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Optional


class SchedulerError(ValueError):
    """The scheduler is missing or refused what was asked (its own message included)."""


@dataclass
class BatchJob:
    """What a batch job asks for and runs."""

    name: str
    minutes: int
    nodes: int
    queue: Optional[str] = None
    account: Optional[str] = None
    output: str = "batch.out"
    workdir: str = "."
    gpus_per_node: int = 0
    body: list[str] = field(default_factory=list)


def _run(cmd: list[str], what: str) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise SchedulerError(f"{cmd[0]} not found; is the scheduler's client installed and on PATH?") from None
    except subprocess.TimeoutExpired:
        raise SchedulerError(f"{' '.join(cmd)} did not answer in 60 s") from None
    if proc.returncode != 0:
        message = "; ".join(line.strip() for line in (proc.stderr or proc.stdout).strip().splitlines() if line.strip())
        raise SchedulerError(f"the scheduler refused to {what}: {message}")
    return proc.stdout


class Scheduler:
    """Base of the schedulers: render, submit, state, cancel."""

    name = "base"
    submit_command = ""
    #: environment variables the job sees: its id, and the CPUs of a node
    job_id_var = "JOB_ID"
    cpus_var = "NCPUS"

    def per_node(self, nodes: int) -> str:
        """The command prefix that starts one process on each of the job's nodes."""
        return f"mpiexec -n {nodes} --map-by ppr:1:node"

    def render(self, job: BatchJob) -> str:
        lines = ["#!/bin/bash", *self.directives(job), "", *job.body, ""]
        return "\n".join(lines)

    def directives(self, job: BatchJob) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def submit(self, script_path: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def state(self, job_id: str) -> str:  # pragma: no cover - abstract
        """One of QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, UNKNOWN."""
        raise NotImplementedError

    def cancel(self, job_id: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, job_id: str) -> str:
        """The scheduler's own view of the job, for people: its state and, when it waits, why
        (``PENDING (PartitionConfig)`` on Slurm). Default: :meth:`state`."""
        return self.state(job_id)

    def available(self) -> bool:
        return shutil.which(self.submit_command) is not None


def _hhmmss(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


class Slurm(Scheduler):
    name = "slurm"
    submit_command = "sbatch"
    job_id_var = "SLURM_JOB_ID"
    cpus_var = "SLURM_CPUS_ON_NODE"

    def per_node(self, nodes: int) -> str:
        return f"srun --nodes={nodes} --ntasks-per-node=1"

    _STATES = {"PENDING": "QUEUED", "CONFIGURING": "QUEUED", "REQUEUED": "QUEUED", "RUNNING": "RUNNING",
               "COMPLETING": "RUNNING", "COMPLETED": "FINISHED", "CANCELLED": "CANCELLED",
               "FAILED": "FAILED", "TIMEOUT": "FAILED", "NODE_FAIL": "FAILED", "OUT_OF_MEMORY": "FAILED",
               "PREEMPTED": "FAILED", "BOOT_FAIL": "FAILED", "DEADLINE": "FAILED"}

    def directives(self, job: BatchJob) -> list[str]:
        out = [f"#SBATCH --job-name={job.name}", f"#SBATCH --time={_hhmmss(job.minutes)}",
               f"#SBATCH --nodes={job.nodes}", f"#SBATCH --output={job.output}",
               f"#SBATCH --chdir={job.workdir}"]
        if job.queue:
            out.append(f"#SBATCH --partition={job.queue}")
        if job.account:
            out.append(f"#SBATCH --account={job.account}")
        if job.gpus_per_node:
            out.append(f"#SBATCH --gpus-per-node={job.gpus_per_node}")
        return out

    def submit(self, script_path: str) -> str:
        out = _run(["sbatch", "--parsable", script_path], "accept the job")
        return out.strip().split(";")[0]

    def state(self, job_id: str) -> str:
        try:
            out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True,
                                 timeout=30).stdout.strip()
            if not out:
                out = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True,
                                     timeout=30).stdout
                match = re.search(r"JobState=(\w+)", out)
                out = match.group(1) if match else ""
        except (OSError, subprocess.SubprocessError):
            return "UNKNOWN"
        return self._STATES.get(out.split()[0] if out else "", "UNKNOWN")

    def describe(self, job_id: str) -> str:
        """``PENDING (PartitionConfig)``, ``RUNNING``: squeue's state and reason (``%T``, ``%r``)."""
        try:
            out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T|%r"], capture_output=True, text=True,
                                 timeout=30).stdout.strip()
            if not out:
                text = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True,
                                      timeout=30).stdout
                state, reason = re.search(r"JobState=(\w+)", text), re.search(r"Reason=(\S+)", text)
                out = f"{state.group(1) if state else 'UNKNOWN'}|{reason.group(1) if reason else ''}"
        except (OSError, subprocess.SubprocessError):
            return "UNKNOWN"
        return self.parse_view(out)

    @staticmethod
    def parse_view(line: str) -> str:
        """``PENDING|PartitionConfig`` -> ``PENDING (PartitionConfig)``; no reason for ``None``."""
        state, _, reason = line.strip().splitlines()[0].partition("|") if line.strip() else ("UNKNOWN", "", "")
        reason = reason.strip()
        return f"{state} ({reason})" if reason and reason not in ("None", "(null)") else state

    def cancel(self, job_id: str) -> None:
        _run(["scancel", job_id], "cancel the job")


class PBS(Scheduler):
    """PBS Pro / OpenPBS."""

    name = "pbs"
    submit_command = "qsub"
    job_id_var = "PBS_JOBID"
    cpus_var = "NCPUS"

    _STATES = {"Q": "QUEUED", "H": "QUEUED", "W": "QUEUED", "R": "RUNNING", "E": "RUNNING", "B": "RUNNING",
               "F": "FINISHED", "X": "FINISHED"}

    def directives(self, job: BatchJob) -> list[str]:
        select = f"select={job.nodes}" + (f":ngpus={job.gpus_per_node}" if job.gpus_per_node else "")
        out = [f"#PBS -N {job.name}", f"#PBS -l walltime={_hhmmss(job.minutes)}", f"#PBS -l {select}",
               f"#PBS -o {job.output}", "#PBS -j oe"]
        if job.queue:
            out.append(f"#PBS -q {job.queue}")
        if job.account:
            out.append(f"#PBS -A {job.account}")
        return out + ["", f"cd {shlex.quote(job.workdir)}"]

    def submit(self, script_path: str) -> str:
        return _run(["qsub", script_path], "accept the job").strip()

    def state(self, job_id: str) -> str:
        try:
            out = subprocess.run(["qstat", "-x", "-f", job_id], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return "UNKNOWN"
        return self.parse_state(out)

    def parse_state(self, qstat_output: str) -> str:
        match = re.search(r"job_state = (\w)", qstat_output)
        state = self._STATES.get(match.group(1), "UNKNOWN") if match else "UNKNOWN"
        exit_match = re.search(r"Exit_status = (-?\d+)", qstat_output)
        if state == "FINISHED" and exit_match and int(exit_match.group(1)) != 0:
            return "FAILED"
        return state

    def cancel(self, job_id: str) -> None:
        _run(["qdel", job_id], "cancel the job")


class LSF(Scheduler):
    name = "lsf"
    submit_command = "bsub"
    job_id_var = "LSB_JOBID"
    cpus_var = "LSB_MAX_NUM_PROCESSORS"

    _STATES = {"PEND": "QUEUED", "PSUSP": "QUEUED", "RUN": "RUNNING", "USUSP": "RUNNING", "SSUSP": "RUNNING",
               "DONE": "FINISHED", "EXIT": "FAILED"}

    def directives(self, job: BatchJob) -> list[str]:
        out = [f"#BSUB -J {job.name}", f"#BSUB -W {job.minutes}", f"#BSUB -nnodes {job.nodes}",
               f"#BSUB -o {job.output}", f"#BSUB -cwd {job.workdir}"]
        if job.queue:
            out.append(f"#BSUB -q {job.queue}")
        if job.account:
            out.append(f"#BSUB -P {job.account}")
        if job.gpus_per_node:
            out.append(f'#BSUB -gpu "num={job.gpus_per_node}"')
        return out

    def submit(self, script_path: str) -> str:
        with open(script_path) as script:
            try:
                proc = subprocess.run(["bsub"], stdin=script, capture_output=True, text=True, timeout=60)
            except FileNotFoundError:
                raise SchedulerError("bsub not found; is LSF's client on PATH?") from None
        if proc.returncode != 0:
            raise SchedulerError(f"the scheduler refused to accept the job: {(proc.stderr or proc.stdout).strip()}")
        return self.parse_job_id(proc.stdout)

    @staticmethod
    def parse_job_id(bsub_output: str) -> str:
        match = re.search(r"Job <(\d+)>", bsub_output)
        if not match:
            raise SchedulerError(f"could not read the job id from bsub's answer: {bsub_output.strip()}")
        return match.group(1)

    def state(self, job_id: str) -> str:
        try:
            out = subprocess.run(["bjobs", "-noheader", "-o", "stat", job_id], capture_output=True, text=True,
                                 timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "UNKNOWN"
        return self._STATES.get(out.split()[0] if out else "", "UNKNOWN")

    def cancel(self, job_id: str) -> None:
        _run(["bkill", job_id], "cancel the job")


SCHEDULERS = {cls.name: cls for cls in (Slurm, PBS, LSF)}


def get_scheduler(name: Optional[str] = None) -> Scheduler:
    """The scheduler named, or the first whose submit command is on PATH (Slurm, PBS, LSF)."""
    if name is not None:
        if name not in SCHEDULERS:
            raise SchedulerError(f"unknown scheduler {name!r}; choose one of {', '.join(SCHEDULERS)}")
        return SCHEDULERS[name]()
    for cls in SCHEDULERS.values():
        scheduler = cls()
        if scheduler.available():
            return scheduler
    raise SchedulerError("no batch scheduler found: none of sbatch (Slurm), qsub (PBS), bsub (LSF) is on PATH; "
                         "run on a cluster's login node, or use `hyperfleet search` to run here")
