"""The profile's forms: language, time zone and e-mail preferences, and the account
deletion's confirmation."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from accounts.deletion import is_confirmation
from accounts.models import User


def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone this system knows, by name; empty first: the site's own."""
    site_zone = str(settings.TIME_ZONE)
    names = sorted(name for name in available_timezones() if "/" in name or name == "UTC")
    return [("", _("The site's time zone (%(zone)s)") % {"zone": site_zone})] + [
        (name, name.replace("_", " ")) for name in names
    ]


class ProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    """Language, time zone and the digests a person gets; the moderators' digest only for
    those who moderate."""

    timezone = forms.ChoiceField(label=_("Time zone"), required=False)

    class Meta:
        model = User
        fields = ("language", "timezone", "digest_emails", "moderation_emails")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each language named in itself: a person who cannot read this page can find theirs.
        self.fields["language"].choices = [("", _("The one my browser asks for"))] + [  # type: ignore[attr-defined]
            (code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES
        ]
        self.fields["language"].label = _("Language")
        timezone_field = self.fields["timezone"]
        timezone_field.choices = time_zone_choices()  # type: ignore[attr-defined]
        timezone_field.help_text = User._meta.get_field("timezone").help_text
        if not self.instance.has_perm("labeling.moderate_line"):
            del self.fields["moderation_emails"]


class DeleteAccountForm(forms.Form):
    """Deleting is for good: the person types their own address to say they mean it."""

    email = forms.CharField(
        label=_("Type your e-mail address to confirm"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "ltr"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        typed = str(self.cleaned_data["email"])
        if not is_confirmation(user=self.user, typed=typed):
            raise forms.ValidationError(_("That is not your account's e-mail address."))
        return typed
