"""The Celery application: queues `ocr` (Tesseract, splitting uploads), `default` (e-mail, the
sweep) and `exports`; beat runs the sweep (labeling/recovery.py)."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ottoman_ocr.settings")

app = Celery("ottoman_ocr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _sweep_on_start(sender: object = None, **kwargs: object) -> None:
    """A worker that starts looks for lost work at once, not only at the next beat."""
    app.send_task("labeling.tasks.sweep")
