from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from labeling.documents import Upload
from labeling.models import License, SkipReason, Visibility
from labeling.ottoman import clean_input
from labeling.transcribing import MAX_LINE_CHARS
from labeling.uploads import UploadRejected


def too_many_files_message() -> str:
    return ngettext(
        "Upload at most %(n)d file at a time.",
        "Upload at most %(n)d files at a time.",
        settings.UPLOAD_MAX_FILES,
    ) % {"n": settings.UPLOAD_MAX_FILES}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": ".png,.jpg,.jpeg,.tif,.tiff,.pdf,image/*,application/pdf"}
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f]
        if not files:
            raise forms.ValidationError(_("Choose at least one scan to upload."), code="required")
        if len(files) > settings.UPLOAD_MAX_FILES:
            raise forms.ValidationError(too_many_files_message(), code="too_many")
        # The contents are checked by Upload.check (with the file's name in every message).
        return files


class UploadForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=200, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    scans = MultipleFileField(label=_("Scans"))
    visibility = forms.ChoiceField(
        label=_("Who may see it"),
        choices=Visibility.choices,
        initial=Visibility.PRIVATE,
        widget=forms.RadioSelect,
    )
    license = forms.ChoiceField(
        label=_("Licence"),
        choices=[c for c in License.choices if c[0]],
        required=False,
        help_text=_("Needed for the pool: under which licence others may use the line images."),
    )
    consent = forms.BooleanField(
        required=False,
        label=_(
            "I have the right to share these scans, and agree that other contributors "
            "transcribe them and that the line images and texts are published under the "
            "licence above."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scans"].help_text = _(
            "PNG, JPEG, TIFF (every frame is a page) or PDF (every page, read at 300 dpi). "
            "Up to %(mb)d MB a file, %(mp)d megapixels a page, %(pages)d pages a file, "
            "%(files)d files at a time."
        ) % {
            "mb": settings.UPLOAD_MAX_FILE_MB,
            "mp": settings.UPLOAD_MAX_PAGE_MEGAPIXELS,
            "pages": settings.UPLOAD_MAX_PDF_PAGES,
            "files": settings.UPLOAD_MAX_FILES,
        }

    def clean_scans(self) -> list[Upload]:
        # Cheap checks only (kind, size, pages, page sizes); pages are made by a worker.
        uploads: list[Upload] = []
        errors: list[str] = []
        for file in self.cleaned_data["scans"]:
            try:
                uploads.append(Upload.check(file, name=file.name or "upload"))
            except UploadRejected as exc:
                errors.append(str(exc))
        if errors:
            raise forms.ValidationError(errors)
        return uploads

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("visibility") == Visibility.POOL:
            if not data.get("license"):
                self.add_error("license", _("Choose a licence to share the document in the pool."))
            if not data.get("consent"):
                self.add_error("consent", _("The pool needs your consent to share these scans."))
        return data


class KeepsTheEdit(forms.Form):
    """A line form whose Confirm never throws an edit away silently.

    Confirm (keep Tesseract's reading) with a text that differs from that reading is refused
    with the error code "edited", nothing saved: the page shows the person's text again and
    asks whether to save it or to discard it ("discard", which confirms). An empty box holds
    no edit to lose. `prediction` is None where no reading was shown (a blind line).
    """

    def __init__(self, *args: Any, prediction: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prediction = prediction

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = clean_input(data.get("text") or "")
        if (
            self.prediction is not None
            and data.get("action") == "confirm"
            and text
            and text != clean_input(self.prediction)
        ):
            raise forms.ValidationError(
                _(
                    "You changed Tesseract's reading, and confirming it would throw your edit "
                    "away. Nothing is saved yet: save your text, or discard your edit and "
                    "confirm Tesseract's reading."
                ),
                code="edited",
            )
        return data

    @property
    def edit_pending(self) -> bool:
        """Confirm was pressed after an edit: the page asks which of the two is meant."""
        return self.is_bound and self.has_error(NON_FIELD_ERRORS, "edited")

    @property
    def confirms(self) -> bool:
        """The valid form keeps Tesseract's reading (Confirm, or Discard my edit)."""
        return self.cleaned_data["action"] in ("confirm", "discard")


class TranscriptionForm(KeepsTheEdit):
    text = forms.CharField(
        required=False,
        max_length=MAX_LINE_CHARS * 2,  # generous here; the domain function gives the clear limit
        strip=False,
        widget=forms.Textarea(attrs={"dir": "rtl", "lang": "ota", "rows": 2}),
    )
    seconds = forms.FloatField(required=False, min_value=0, widget=forms.HiddenInput)
    action = forms.ChoiceField(
        choices=[
            ("save", _("Save")),
            ("confirm", _("Confirm")),
            ("discard", _("Discard my edit and confirm Tesseract's reading")),
        ]
    )


class LabelForm(KeepsTheEdit):
    text = forms.CharField(required=False, strip=False, max_length=MAX_LINE_CHARS * 2)
    seconds = forms.FloatField(required=False, min_value=0, widget=forms.HiddenInput)
    action = forms.ChoiceField(
        choices=[
            ("submit", _("Send")),
            ("confirm", _("Confirm")),
            ("discard", _("Discard my edit and confirm Tesseract's reading")),
            ("skip", _("Skip")),
        ]
    )
    allow_latin = forms.BooleanField(required=False, label=_("Send it anyway"))
    skip_reason = forms.ChoiceField(choices=[("", "—"), *SkipReason.choices], required=False)
