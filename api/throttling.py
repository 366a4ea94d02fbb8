"""Per-user throttling with rates read from settings at each request (env-driven, and
changeable in tests), not frozen at import as DRF's own classes do."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class PerUserThrottle(UserRateThrottle):
    scope = "user"

    def get_rate(self) -> str | None:
        return str(settings.API_THROTTLE_USER_RATE) or None


class PerAddressThrottle(AnonRateThrottle):
    scope = "anon"

    def get_rate(self) -> str | None:
        return str(settings.API_THROTTLE_ANON_RATE) or None
