"""Send work to the Celery workers after the transaction commits: the one way to enqueue.

Services name the task (``"risk_registry.documents.tasks.export_job_run"``) instead of importing
it, so a service never imports the tasks that call it back. The database holds the truth (a
pending job, a cycle without its tasks, an unsent e-mail): when the broker is down the message is
not sent, the request still succeeds, and the periodic scans and the stranded-job sweep send the
work again, so a lost message costs a delay, not data. ``retry=False``: a web request must not
hang on an unreachable broker.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from celery import Task, current_app
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


def _task(name: str) -> Task:
    """The registered task of that name. A web process has not imported every tasks module (Celery
    autodiscovers them in workers), and a task's name is its module's path and its function's name."""
    if name not in current_app.tasks:
        importlib.import_module(name.rpartition(".")[0])
    return current_app.tasks[name]


def enqueue_on_commit(task: str | Task, *args, on_unsent: Callable[[], object] | None = None) -> None:
    """Send ``task`` (a task or its name) with ``args`` once the current transaction commits.

    ``on_unsent`` is called when the broker refused the message (it may record that the work waits
    for the sweep). The broker's settings make a refusal quick (config/services.broker_settings).
    """
    name = task if isinstance(task, str) else task.name

    def send() -> None:
        try:
            _task(name).apply_async(args=args, retry=False)
        except (BrokerError, OSError) as error:
            logger.warning("broker unavailable, %s%s left for the next sweep: %s", name, args, error)
            if on_unsent is not None:
                on_unsent()

    transaction.on_commit(send)
