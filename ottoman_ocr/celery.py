"""The Celery application: queues `ocr` (Tesseract), `default` (e-mail) and `exports`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ottoman_ocr.settings")

app = Celery("ottoman_ocr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
