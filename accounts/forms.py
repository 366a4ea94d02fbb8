"""The profile's forms: e-mail preferences and the account deletion's confirmation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.deletion import is_confirmation
from accounts.models import User


class EmailPreferencesForm(forms.ModelForm):  # type: ignore[type-arg]
    """The digests a person gets; the moderators' digest only for those who moderate."""

    class Meta:
        model = User
        fields = ("digest_emails", "moderation_emails")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
