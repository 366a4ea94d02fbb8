"""A signed-in person's own language and time zone, chosen on their profile or the switcher:
for their requests (the middleware) and for what is written to them elsewhere (mail)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

if TYPE_CHECKING:
    from accounts.models import User


def account_time_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone a profile names, or None when it names none (or one this system lacks)."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class PersonalLocaleMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: the account's language, when set,
    wins over the browser's; its time zone, when set, over the site's (for this request only).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        language = str(getattr(user, "language", ""))
        if language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        zone = account_time_zone(str(getattr(user, "timezone", "")))
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


@contextmanager
def personal_locale(user: User) -> Iterator[None]:
    """Text made for a person outside their own request (a digest, a notice): in their
    language, else the one active now (the site's default in a worker); dates in their time
    zone, else the active one."""
    zone = account_time_zone(user.timezone)
    with (
        translation.override(user.language or translation.get_language()),
        timezone.override(zone) if zone is not None else nullcontext(),
    ):
        yield
