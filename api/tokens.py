"""Making, finding and revoking API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from api.models import ApiToken

# Noting every use would write a row per request; once a minute says enough.
LAST_USED_STEP = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the person and its key, which is never stored nor shown again."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100], prefix=key[:8], key_hash=hash_key(key)
    )
    return token, key


def find_token(key: str) -> ApiToken | None:
    """The live token with this key, its user active; notes when it was used."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_key(key), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_STEP:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke_token(*, token: ApiToken) -> None:
    """The key stops working at once: the row goes."""
    ApiToken.objects.filter(pk=token.pk).delete()
