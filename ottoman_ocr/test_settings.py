"""Settings for the test suite: the production settings with test-only conveniences.

The database comes from DATABASE_URL like everywhere else (`make test` points it at
PostgreSQL when one answers, else SQLite).
"""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")
os.environ.setdefault("OTTOMAN_VAR_DIR", tempfile.mkdtemp(prefix="ottoman-ocr-tests-"))

from ottoman_ocr.env import env_bool, env_str
from ottoman_ocr.settings import *  # noqa: F403
from ottoman_ocr.settings import STATIC_ROOT, STORAGES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Behind the outbox; worker processes of the fault tests are given SMTP in their environment.
EMAIL_DELIVERY_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
STORAGES = {
    **STORAGES,
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
