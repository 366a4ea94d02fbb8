"""The three roles and what each may do; the data migration and sign-up both use these names."""

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group

if TYPE_CHECKING:
    from accounts.models import User

CONTRIBUTOR = "contributor"
MODERATOR = "moderator"
STAFF = "staff"

# (app_label, codename) pairs as they stand after all migrations (each data migration freezes
# its own copy); staff and moderators also need Django's is_staff for the admin.
PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    CONTRIBUTOR: [
        ("labeling", "add_document"),
        ("labeling", "add_transcription"),
        ("labeling", "change_transcription"),
    ],
    MODERATOR: [
        ("labeling", "moderate_line"),
        ("labeling", "view_document"),
        ("labeling", "view_page"),
        ("labeling", "view_line"),
        ("labeling", "change_line"),
        ("labeling", "view_transcription"),
        ("labeling", "view_goldscore"),
        ("labeling", "change_goldscore"),
        ("labeling", "view_moderationdecision"),
        ("labeling", "view_assignment"),
    ],
    STAFF: [
        ("labeling", "moderate_line"),
        ("labeling", "view_document"),
        ("labeling", "view_page"),
        ("labeling", "view_line"),
        ("labeling", "change_line"),
        ("labeling", "view_transcription"),
        ("labeling", "view_ocrmodel"),
        ("labeling", "add_ocrmodel"),
        ("labeling", "change_ocrmodel"),
        ("labeling", "view_goldscore"),
        ("labeling", "change_goldscore"),
        ("labeling", "view_moderationdecision"),
        ("labeling", "view_assignment"),
    ],
}


def make_contributor(*, user: "User") -> None:
    """Put a verified person in the contributor group (idempotent)."""
    group, _ = Group.objects.get_or_create(name=CONTRIBUTOR)
    user.groups.add(group)
