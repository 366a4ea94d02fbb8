from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.http import HttpRequest

from accounts.groups import make_contributor


class AccountAdapter(DefaultAccountAdapter):
    """Our one customisation of allauth: a verified address makes the person a contributor."""

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        confirmed: bool = super().confirm_email(request, email_address)
        if confirmed:
            make_contributor(user=email_address.user)
        return confirmed
