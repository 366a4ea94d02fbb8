"""Strict readers for settings taken from the environment.

A value that is present but malformed is an error at start-up, never a silent default:
`DEBUG=False` must not turn debugging on, and `DEBUG=flase` must not be ignored.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str) -> str:
    """The variable's value without surrounding blanks, or `default` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value if value != "" else default


def env_bool(name: str, default: bool) -> bool:
    """A boolean: one of true/false/1/0/yes/no/on/off (any case); anything else is an error."""
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number, optionally at least `minimum`."""
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    raw = os.environ.get(name, "")
    if raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """A decimal number, optionally within [minimum, maximum]."""
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name}={value} must be between {minimum} and {maximum}.")
    return value


def require_secret_key() -> None:
    """Refuse to start a server without DJANGO_SECRET_KEY (called by wsgi.py and asgi.py)."""
    from django.conf import settings

    try:
        settings.SECRET_KEY  # noqa: B018  (Django refuses an empty key on access)
    except ImproperlyConfigured:
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=true on a developer machine)."
        ) from None
