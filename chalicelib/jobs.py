"""Handoff jobs: queued on SQS on AWS, run in-process in the background with `make dev`.

The same `run_job` does the work in both cases (the SQS worker Lambda calls it per message).
Modes (MSO_JOBS): "sqs" (AWS), "inline" (a background thread: API routes never wait on an LLM),
"sync" (run before returning; only for tests that want determinism).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable
from chalicelib.logs import event, get_logger

log = get_logger("jobs")
_threads: list[threading.Thread] = []


def enqueue(job: dict[str, Any], runner: Callable[[dict[str, Any]], Any]) -> None:
    mode = settings().jobs_mode
    if mode == "sqs":
        from chalicelib import aws

        url = settings().queue_url
        if not url:
            raise ServiceUnavailable("handoff queue is not configured (MSO_QUEUE_URL)", code="queue_unavailable")
        try:
            aws.sqs().send_message(QueueUrl=url, MessageBody=json.dumps(job))
        except Exception as e:  # noqa: BLE001 - any SQS failure means the job is not queued
            event(log, "enqueue_failed", 40, job_id=job.get("job_id"), error=type(e).__name__)
            raise ServiceUnavailable("the handoff queue did not accept the job; retry POST .../handoff",
                                     code="queue_unavailable") from None
        event(log, "job_queued", job_id=job.get("job_id"), mode="sqs")
        return
    if mode == "sync":
        runner(job)
        return
    t = threading.Thread(target=_run_safely, args=(runner, job), name=f"handoff-{job.get('job_id')}", daemon=True)
    _threads[:] = [x for x in _threads if x.is_alive()]
    _threads.append(t)
    t.start()
    event(log, "job_started", job_id=job.get("job_id"), mode="inline")


def retry_later(receipt_handle: str, receive_count: int) -> int | None:
    """Make a failed job's message visible again soon, and back off: 30 s, 60 s, ... 15 min.

    Otherwise SQS would wait out the queue's visibility timeout (30 min, six times the worker's
    timeout) before a transient fault (DynamoDB throttled, a deploy) could heal. A poison message
    still reaches the dead-letter queue after the redrive policy's maxReceiveCount. Returns the
    delay set, or None when there is no queue (make dev) or SQS refused (it then keeps its timeout).
    """
    url = settings().queue_url
    if not url:
        return None
    delay = int(min(settings().retry_base_s * 2 ** max(0, receive_count - 1), 900))
    from chalicelib import aws

    try:
        aws.sqs().change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay)
    except Exception as e:  # noqa: BLE001 - best effort: the message is retried after its timeout anyway
        event(log, "retry_later_failed", 30, error=type(e).__name__)
        return None
    event(log, "job_retry_scheduled", delay_s=delay, receive_count=receive_count)
    return delay


def is_transient(exc: BaseException) -> bool:
    """True when a job failed because of the infrastructure (the database out of reach or throttled,
    a connection dropped), not because of what it was making: such a job is run again."""
    from chalicelib.storage.health import is_outage

    return is_outage(exc) or isinstance(exc, ConnectionError | TimeoutError)


def runs_synchronously() -> bool:
    return settings().jobs_mode == "sync"


# Delays before the inline runner tries a job again after a failure of the infrastructure (the
# database out of reach): about 10 minutes in all, as SQS's redeliveries on AWS. `make dev` also
# re-runs, when it starts, the jobs still failed for that reason (devtools/dev.py).
INLINE_RETRY_DELAYS_S = (1, 2, 5, 10, 20, 30, 60, 60, 120, 120, 180)


def _run_safely(runner: Callable[[dict[str, Any]], Any], job: dict[str, Any]) -> None:
    """Run a job in the background; when it fails because the database is out of reach (the
    runner raises only then: a failure of content ends the job `failed`), wait and run it again."""
    for attempt, delay in enumerate((*INLINE_RETRY_DELAYS_S, None)):
        try:
            runner(job)
            return
        except Exception as e:  # noqa: BLE001 - a background thread has nobody to raise to; the item says failed
            if delay is None or not is_transient(e):
                log.exception("job_crashed", extra={"fields": {"job_id": job.get("job_id")}})
                return
            event(log, "job_retry_scheduled", 30, job_id=job.get("job_id"), attempt=attempt + 1, delay_s=delay,
                  error=type(e).__name__)
        time.sleep(delay)


def wait_idle(timeout: float = 30) -> bool:
    """Wait up to `timeout` seconds in all for the background jobs started so far; True when none
    still runs. Tests use it: `make dev` does not wait when it stops (jobs are daemon threads), it
    resumes the jobs left pending or running when it starts again (devtools/dev.py)."""
    deadline = time.monotonic() + timeout
    while True:  # a job may start another (a handoff queues its search index job): wait for those too
        pending = [t for t in list(_threads) if t.is_alive()]
        if not pending:
            return True
        for t in pending:
            t.join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            return not any(t.is_alive() for t in list(_threads))
