"""The person's API tokens on their profile: list, create (the key shown once), revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.views import AuthedRequest
from api.models import ApiToken
from api.tokens import create_token, revoke_token


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Where you use it, e.g. “laptop” or “desktop client”."),
        widget=forms.TextInput(attrs={"dir": "auto"}),
    )


@login_required
def tokens(request: AuthedRequest) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    key = None
    if request.method == "POST" and form.is_valid():
        _token, key = create_token(user=request.user, name=form.cleaned_data["name"])
        form = TokenForm()
    response = render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": ApiToken.objects.filter(user=request.user), "key": key},
    )
    response["Cache-Control"] = "no-store"  # the key is in this page once, never in a cache
    return response


@login_required
@require_POST
def token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    revoke_token(token=token)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("api_tokens")
