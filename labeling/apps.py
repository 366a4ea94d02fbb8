from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = _("Labeling")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from labeling import checks  # noqa: F401  (registers the system checks)
