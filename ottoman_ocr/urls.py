from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from api import views_tokens

# The admin login goes through allauth (rate limits, e-mail verification).
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = _("Ottoman OCR administration")
admin.site.site_title = _("Ottoman OCR administration")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Django's set_language, which also keeps a signed-in person's choice on their account.
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("api/v1/", include("api.urls")),
    path("me/tokens/", views_tokens.tokens, name="api_tokens"),
    path("me/tokens/<int:pk>/revoke/", views_tokens.token_revoke, name="api_token_revoke"),
    path("me/", include("accounts.urls")),
    path("", include("labeling.urls")),
]
