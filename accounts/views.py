"""The profile: language, time zone and e-mail preferences, "My data", deleting the account,
the language switcher, and the digests' one-click unsubscribe link (no login: the signed token
is the permission)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.deletion import delete_account as delete_account_for_good
from accounts.exports import request_export
from accounts.forms import DeleteAccountForm, ProfileForm
from accounts.models import DataExport, User
from labeling import notifications


class AuthedRequest(HttpRequest):
    """A request behind @login_required: its user is a real User."""

    user: User  # type: ignore[assignment]


def remember_language(response: HttpResponse, language: str) -> None:
    """The language cookie follows the account's choice, so it outlives signing out."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]  # "Lax" by default
        )


@login_required
def profile(request: AuthedRequest) -> HttpResponse:
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # The message is read on the next page, which is already in the chosen language.
        with translation.override(user.language or translation.get_language()):
            messages.success(request, _("Your settings are saved."))
        response = redirect("accounts:profile")
        remember_language(response, user.language)
        return response
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's `set_language` (a cookie, back to `next`); signed in, also the account's."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if (
        request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and isinstance(request.user, User)
    ):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return response


@login_required
def data(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        request_export(user=request.user)
        messages.success(
            request,
            _("We are preparing your data and will e-mail you a link when it is ready."),
        )
        return redirect("accounts:data")
    exports = DataExport.objects.filter(user=request.user)[:10]
    return render(request, "accounts/data.html", {"exports": exports, "now": timezone.now()})


@login_required
def data_download(request: AuthedRequest, pk: int) -> FileResponse:
    export = get_object_or_404(DataExport.objects.filter(user=request.user), pk=pk)
    if not export.is_available():
        raise Http404(_("This download has expired or is not ready."))
    stamp = export.created_at.strftime("%Y-%m-%d")
    return FileResponse(
        default_storage.open(str(export.file.name), "rb"),
        as_attachment=True,
        filename=f"ottoman-ocr-my-data-{stamp}.zip",
        content_type="application/zip",
    )


@login_required
def delete_account(request: AuthedRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        delete_account_for_good(user=request.user)
        logout(request)
        messages.success(
            request,
            _("Your account is deleted. Your labels stay, anonymous, in the shared ground truth."),
        )
        return redirect("labeling:home")
    return render(request, "accounts/delete.html", {"form": form})


@csrf_exempt  # RFC 8058: mail clients POST without a session; the signed token is the check
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (a link scanner must not unsubscribe anyone); POST turns it off."""
    try:
        if request.method == "POST":
            person, kind = notifications.unsubscribe(token=token)
        else:
            person, kind = notifications.read_unsubscribe_token(token)
    except notifications.UnsubscribeRefused as exc:
        return render(
            request, "accounts/unsubscribe_refused.html", {"reason": str(exc)}, status=400
        )
    return render(
        request,
        "accounts/unsubscribe.html",
        {"person": person, "kind": kind, "done": request.method == "POST", "token": token},
    )
