"""Batch submission: a search as a job of Slurm, PBS Pro or LSF (``hyperfleet submit``)."""

from hyperfleet.batch.schedulers import (
           LSF,
           PBS,
           SCHEDULERS,
           BatchJob,
           Scheduler,
           SchedulerError,
           Slurm,
           get_scheduler,
)
from hyperfleet.batch.submit import cancel_search, search_time, submit_search

__all__ = ["Scheduler", "Slurm", "PBS", "LSF", "SCHEDULERS", "BatchJob", "SchedulerError", "get_scheduler",
           "submit_search", "cancel_search", "search_time"]
