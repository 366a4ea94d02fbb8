"""Settings, all read from the environment (see .env.example for every variable and its default).

Defaults are safe for production (DEBUG off, secure cookies, HSTS); `make run` turns on what a
developer's machine needs (DJANGO_DEBUG=true) and nothing else.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from ottoman_ocr.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OTTOMAN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)

# Without DJANGO_SECRET_KEY (and without debug) the key is empty: Django refuses to use an
# empty key, and wsgi.py/asgi.py read it at start-up, so a server never runs without one,
# while commands that need no key (makemigrations, check) still work on a fresh checkout.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-only-for-DJANGO_DEBUG-true-" + "x" * 20

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "labeling",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (or the one chosen on the switcher, kept in a cookie) ...
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # ... unless the signed-in person chose one on their profile; and their time zone.
    "accounts.middleware.PersonalLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "ottoman_ocr.urls"
WSGI_APPLICATION = "ottoman_ocr.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite on one machine with zero set-up; DATABASE_URL (PostgreSQL) in production.
_SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{_SQLITE_PATH}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The web server and the worker write at the same time: WAL lets readers go on, and
    # IMMEDIATE transactions take the write lock up front instead of failing half-way.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds allauth's rate-limit counters; when Redis does not answer, each process
# counts in its own memory for a while instead of failing requests (ottoman_ocr/cache.py).
REDIS_URL = env_str("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "ottoman_ocr.cache.ResilientRedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "labeling:documents"

# django-allauth: e-mail is the login, verification is mandatory, rate limits stay at
# allauth's defaults (they are on unless ACCOUNT_RATE_LIMITS is set to False).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Ottoman OCR] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"

LANGUAGE_CODE = "en"
# Every page, form error, e-mail and admin label exists in both (tests/test_translations.py).
LANGUAGES = [("en", "English"), ("tr", "Türkçe")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The default time zone; a signed-in person's own (their profile) replaces it per request.
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Uploaded scans are never served as public files: every image goes through a view that
# fetches it with a queryset scoped to the user. MEDIA_ROOT is storage, not a URL.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# E-mail. Every message goes to the outbox (labeling/mail.py) and a worker delivers it, with
# EMAIL_TIMEOUT on every SMTP call, retrying with growing pauses for EMAIL_GIVE_UP_HOURS.
# The environment's EMAIL_BACKEND names how the worker delivers: the console by default,
# SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = "labeling.mail.OutboxBackend"
EMAIL_DELIVERY_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
EMAIL_RETRY_FIRST_SECONDS = env_int("EMAIL_RETRY_FIRST_SECONDS", 60, minimum=1)
EMAIL_RETRY_MAX_SECONDS = env_int("EMAIL_RETRY_MAX_SECONDS", 3600, minimum=1)
EMAIL_GIVE_UP_HOURS = env_int("EMAIL_GIVE_UP_HOURS", 72, minimum=1)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Ottoman OCR <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery. The default broker is kombu's filesystem transport under var/, so one machine
# needs no broker service; production points CELERY_BROKER_URL at Redis or RabbitMQ.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_DIR = VAR_DIR / "broker"
_FILESYSTEM_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _FILESYSTEM_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True  # job status lives on the rows, never in a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "labeling.tasks.ocr_page": {"queue": "ocr"},
    "labeling.tasks.split_source": {"queue": "ocr"},
    "labeling.tasks.build_release": {"queue": "exports"},
    "labeling.tasks.build_data_export": {"queue": "exports"},
    "labeling.tasks.train_model": {"queue": "training"},
    "labeling.tasks.*": {"queue": "default"},
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# OCR and uploads (some Celery limits below depend on them).
TESSERACT_CMD = env_str("TESSERACT_CMD", "tesseract")
TESSDATA_DIR = env_str("TESSDATA_DIR", "")  # empty: Tesseract's own default
OCR_DEFAULT_LANGUAGE = env_str("OCR_DEFAULT_LANGUAGE", "ara")
OCR_TIMEOUT_SECONDS = env_int("OCR_TIMEOUT_SECONDS", 600, minimum=1)
# Line crops are cut once and kept in the cache this long (labeling/crop_cache.py); the first
# request for a line of a page cuts every line of that page from one decoding of the scan.
CROP_CACHE_SECONDS = env_int("CROP_CACHE_SECONDS", 86400, minimum=0)
CROP_CACHE_WHOLE_PAGE = env_bool("CROP_CACHE_WHOLE_PAGE", True)
OCR_MODEL_CACHE_DIR = VAR_DIR / "models"
UPLOAD_MAX_FILE_MB = env_int("UPLOAD_MAX_FILE_MB", 50, minimum=1)
UPLOAD_MAX_PAGE_MEGAPIXELS = env_int("UPLOAD_MAX_PAGE_MEGAPIXELS", 60, minimum=1)
UPLOAD_MAX_PDF_PAGES = env_int("UPLOAD_MAX_PDF_PAGES", 200, minimum=1)
UPLOAD_MAX_FILES = env_int("UPLOAD_MAX_FILES", 20, minimum=1)
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_MAX_FILES
SPLIT_BATCH_SECONDS = env_int("SPLIT_BATCH_SECONDS", 60, minimum=1)

# Work that waits for a task is recovered by the database, not the broker (labeling/jobs.py):
# a run beats every JOB_HEARTBEAT_SECONDS; one silent for JOB_STALE_SECONDS lost its worker
# and is taken over; a row never handed to the broker for JOB_SEND_GRACE_SECONDS is handed
# over by the sweep (every SWEEP_INTERVAL_SECONDS, on Celery beat); one handed over
# JOB_RESEND_SECONDS ago while its queue is empty is handed over again (the broker lost it).
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 15.0, minimum=0.1)
JOB_STALE_SECONDS = env_float("JOB_STALE_SECONDS", 60.0, minimum=0.3)
JOB_SEND_GRACE_SECONDS = env_float("JOB_SEND_GRACE_SECONDS", 60.0, minimum=0.0)
JOB_RESEND_SECONDS = env_float("JOB_RESEND_SECONDS", 120.0, minimum=1.0)
JOB_RETRY_AFTER_SECONDS = env_float("JOB_RETRY_AFTER_SECONDS", 600.0, minimum=1.0)
JOB_RETRY_DELAY_SECONDS = env_float("JOB_RETRY_DELAY_SECONDS", 60.0, minimum=0.0)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3, minimum=1)
SWEEP_INTERVAL_SECONDS = env_float("SWEEP_INTERVAL_SECONDS", 60.0, minimum=0.5)
ORPHAN_FILE_GRACE_SECONDS = env_float("ORPHAN_FILE_GRACE_SECONDS", 900.0, minimum=0.0)
# A broker that is down must cost a request a second or two, not a hang: few, quick retries.
JOB_PUBLISH_OPTIONS = {
    "retry": True,
    "retry_policy": {
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    },
}
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0, minimum=0.1)

# Dataset releases (queue `exports`) and training (queue `training`, one run at a time).
RELEASE_TIME_LIMIT_SECONDS = env_int("RELEASE_TIME_LIMIT_SECONDS", 3600, minimum=60)
TRAINING_MAX_MINUTES = env_int("TRAINING_MAX_MINUTES", 120, minimum=1)
TRAINING_DIR = Path(env_str("TRAINING_DIR", str(VAR_DIR / "training")))

# Every task has a hard time limit, and the Redis transport redelivers an unacknowledged
# message only after the longest of them (its default, one hour, would keep a page whose
# worker died waiting that long; the sweep recovers it sooner anyway).
CELERY_TASK_TIME_LIMIT = max(OCR_TIMEOUT_SECONDS, SPLIT_BATCH_SECONDS * 3, EMAIL_TIMEOUT * 6) + 60
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
_TRAINING_TIME_LIMIT = TRAINING_MAX_MINUTES * 60 + 1800  # + preparing and evaluating
CELERY_TASK_ANNOTATIONS = {
    "labeling.tasks.build_release": {
        "time_limit": RELEASE_TIME_LIMIT_SECONDS,
        "soft_time_limit": RELEASE_TIME_LIMIT_SECONDS - 30,
    },
    # A person's data: every document's pairs, like a release of their own.
    "labeling.tasks.build_data_export": {
        "time_limit": RELEASE_TIME_LIMIT_SECONDS,
        "soft_time_limit": RELEASE_TIME_LIMIT_SECONDS - 30,
    },
    "labeling.tasks.train_model": {
        "time_limit": _TRAINING_TIME_LIMIT,
        "soft_time_limit": _TRAINING_TIME_LIMIT - 60,
    },
}
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "visibility_timeout": max(
        CELERY_TASK_TIME_LIMIT, RELEASE_TIME_LIMIT_SECONDS, _TRAINING_TIME_LIMIT
    )
    + 60,
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    **_FILESYSTEM_OPTIONS,
}
# E-mail to people about their work (labeling/notifications.py, digests.py). The digests go
# once a day from DIGEST_HOUR (local time); beat asks every hour, so a lost run is made up
# within the hour and a repeated one sends nothing twice.
DIGEST_HOUR = env_int("DIGEST_HOUR", 7, minimum=0)
if DIGEST_HOUR > 23:
    raise ImproperlyConfigured(f"DIGEST_HOUR={DIGEST_HOUR} must be between 0 and 23.")
UNSUBSCRIBE_LINK_DAYS = env_int("UNSUBSCRIBE_LINK_DAYS", 60, minimum=1)
DATA_EXPORT_KEEP_DAYS = env_int("DATA_EXPORT_KEEP_DAYS", 7, minimum=1)
READ_NOTICE_WINDOW_HOURS = env_int("READ_NOTICE_WINDOW_HOURS", 48, minimum=1)

REPORT_REFRESH_SECONDS = env_int("REPORT_REFRESH_SECONDS", 300, minimum=10)

CELERY_BEAT_SCHEDULE = {
    "sweep": {
        "task": "labeling.tasks.sweep",
        "schedule": SWEEP_INTERVAL_SECONDS,
        "options": {"expires": SWEEP_INTERVAL_SECONDS},
    },
    "digests": {
        "task": "labeling.tasks.send_digests",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    # Today's lines by status for the staff dashboard's history: every hour, each run replacing
    # the day's counts, so a day keeps its last (a lost run costs an hour, not the day).
    "status-counts": {
        "task": "labeling.tasks.record_status_counts",
        "schedule": crontab(minute=55),
        "options": {"expires": 3000},
    },
    # The staff dashboard and the anchoring report read every pool line or label: computed
    # here, read by the pages as a snapshot (labeling/reports.py).
    "reports": {
        "task": "labeling.tasks.refresh_reports",
        "schedule": REPORT_REFRESH_SECONDS,
        "options": {"expires": REPORT_REFRESH_SECONDS},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


# Review: agreement between labelers (per-document values start from these).
REVIEW_LABELS_NEEDED = env_int("REVIEW_LABELS_NEEDED", 2, minimum=1)
REVIEW_MAX_LABELS = env_int("REVIEW_MAX_LABELS", 4, minimum=1)
REVIEW_AGREEMENT_THRESHOLD = env_float("REVIEW_AGREEMENT_THRESHOLD", 0.0, minimum=0.0)
REVIEW_BLIND_SHARE = env_float("REVIEW_BLIND_SHARE", 0.2, minimum=0.0, maximum=1.0)
REVIEW_GOLD_SHARE = env_float("REVIEW_GOLD_SHARE", 0.05, minimum=0.0, maximum=1.0)
REVIEW_GOLD_MIN_SEEN = env_int("REVIEW_GOLD_MIN_SEEN", 10, minimum=1)
REVIEW_GOLD_MIN_ACCURACY = env_float("REVIEW_GOLD_MIN_ACCURACY", 0.9, minimum=0.0, maximum=1.0)
REVIEW_LEASE_MINUTES = env_int("REVIEW_LEASE_MINUTES", 10, minimum=1)
REVIEW_FLAG_AFTER_SKIPS = env_int("REVIEW_FLAG_AFTER_SKIPS", 2, minimum=1)

# The REST API (api/): token or session authentication, cursor pages, JSON only, throttled
# per person (and per address before sign-in) at rates like "1000/hour" (empty: no limit).
API_THROTTLE_USER_RATE = env_str("API_THROTTLE_USER_RATE", "2000/hour")
API_THROTTLE_ANON_RATE = env_str("API_THROTTLE_ANON_RATE", "100/hour")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its header makes a request without credentials a 401, not a 403.
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.PerUserThrottle",
        "api.throttling.PerAddressThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Cursor",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.JsonAlways",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ottoman OCR API",
    "DESCRIPTION": (
        "Documents, pages, lines, transcriptions and the labelling queue of the Ottoman OCR "
        "ground-truth platform. Authenticate with `Authorization: Token <key>` (tokens are "
        "made on the profile page, or with POST /api/v1/auth/token/)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from our own static files (drf-spectacular-sidecar), no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.positive_ids",
    ],
}

# Security: safe unless the environment says otherwise.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Behind the proxy every request comes from the proxy's address: allauth's rate limits (sign-in,
# sign-up, password reset) count per client only with the address the proxy appends to
# X-Forwarded-For (its last entry; the ones before it are whatever the client sent).
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if BEHIND_PROXY else 0
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The switcher's choice for visitors (signed in, it is kept on the account too).
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
