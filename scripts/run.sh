#!/usr/bin/env bash
# Web server and Celery worker together; Ctrl+C (or either one exiting) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'trap - EXIT INT TERM; kill 0 2>/dev/null' EXIT INT TERM
# --beat: the sweep that recovers lost work runs every minute inside this worker.
.venv/bin/celery -A ottoman_ocr worker --queues ocr,default,exports --concurrency 2 \
    --beat --loglevel INFO --hostname "worker@%h" &
# Training runs one at a time, in a worker of its own: lstmtraining takes minutes to hours
# and would otherwise hold one of the two OCR slots.
.venv/bin/celery -A ottoman_ocr worker --queues training --concurrency 1 \
    --loglevel INFO --hostname "training@%h" &
.venv/bin/python manage.py runserver 127.0.0.1:8000 &
echo "Ottoman OCR is at http://127.0.0.1:8000/  (Ctrl+C stops the web server and the worker)"
wait -n
