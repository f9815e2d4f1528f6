from celery import shared_task

from ..exceptions import DATABASE_UNAVAILABLE_ERRORS
from .jobs import import_job_run


# The database restarting before the job started: retried after 10, 20, 40 s (a job that already
# started is not run twice: ``import_job_run`` only starts a pending job).
@shared_task(autoretry_for=DATABASE_UNAVAILABLE_ERRORS, max_retries=3, retry_backoff=10, retry_jitter=False)
def import_job_run_task(job_id: int) -> str:
    return import_job_run(job_id=job_id).status
