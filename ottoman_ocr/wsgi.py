import os

from django.core.wsgi import get_wsgi_application

from ottoman_ocr.env import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ottoman_ocr.settings")
application = get_wsgi_application()

# Fail at start-up, not at the first request, when DJANGO_SECRET_KEY is missing.
require_secret_key()
