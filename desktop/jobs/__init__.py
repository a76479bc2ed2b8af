"""Work that runs off the GUI thread: inference, saliency, export, thumbnails, training.

`desktop.jobs.core` (no Qt): the job context, run loop and time-left estimate.
`desktop.jobs.ledger` (no Qt): which images a model already finished (resuming long runs).
`desktop.jobs.runner` (Qt): QThreadPool runner, one heavy job per device, queued signals.
"""

from desktop.jobs.core import JobCancelled, JobContext, Outcome, Progress, run_job

__all__ = ["JobCancelled", "JobContext", "Outcome", "Progress", "run_job"]
