from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from labeling.documents import UploadedPage, upload_limits
from labeling.models import License, SkipReason, Visibility
from labeling.transcribing import MAX_LINE_CHARS
from labeling.uploads import UploadRejected, split_upload


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
            raise forms.ValidationError("Choose at least one scan to upload.", code="required")
        if len(files) > settings.UPLOAD_MAX_FILES:
            raise forms.ValidationError(
                f"Upload at most {settings.UPLOAD_MAX_FILES} files at a time.", code="too_many"
            )
        # The contents are checked by split_upload (with the file's name in every message).
        return files


class UploadForm(forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"dir": "auto"}))
    scans = MultipleFileField(
        label="Scans",
        help_text=(
            "PNG, JPEG, TIFF (every frame is a page) or PDF (every page, read at 300 dpi). "
            f"Up to {settings.UPLOAD_MAX_FILE_MB} MB a file, "
            f"{settings.UPLOAD_MAX_PAGE_MEGAPIXELS} megapixels a page, "
            f"{settings.UPLOAD_MAX_PDF_PAGES} pages a PDF."
        ),
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.PRIVATE, widget=forms.RadioSelect
    )
    license = forms.ChoiceField(
        choices=[c for c in License.choices if c[0]],
        required=False,
        help_text="Needed for the pool: under which licence others may use the line images.",
    )
    consent = forms.BooleanField(
        required=False,
        label="I have the right to share these scans, and agree that other contributors "
        "transcribe them and that the line images and texts are published under the licence above.",
    )

    def clean_scans(self) -> list[UploadedPage]:
        limits = upload_limits()
        pages: list[UploadedPage] = []
        errors: list[str] = []
        for upload in self.cleaned_data["scans"]:
            try:
                images = split_upload(upload, filename=upload.name or "upload", limits=limits)
            except UploadRejected as exc:
                errors.append(str(exc))
                continue
            pages.extend(UploadedPage(source_name=upload.name or "upload", image=i) for i in images)
        if errors:
            raise forms.ValidationError(errors)
        return pages

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("visibility") == Visibility.POOL:
            if not data.get("license"):
                self.add_error("license", "Choose a licence to share the document in the pool.")
            if not data.get("consent"):
                self.add_error("consent", "The pool needs your consent to share these scans.")
        return data


class TranscriptionForm(forms.Form):
    text = forms.CharField(
        required=False,
        max_length=MAX_LINE_CHARS * 2,  # generous here; the domain function gives the clear limit
        strip=False,
        widget=forms.Textarea(attrs={"dir": "rtl", "lang": "ota", "rows": 2}),
    )
    seconds = forms.FloatField(required=False, min_value=0, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[("save", "Save"), ("confirm", "Confirm")])


class LabelForm(forms.Form):
    text = forms.CharField(required=False, strip=False, max_length=MAX_LINE_CHARS * 2)
    seconds = forms.FloatField(required=False, min_value=0, widget=forms.HiddenInput)
    action = forms.ChoiceField(
        choices=[("submit", "Send"), ("confirm", "Confirm"), ("skip", "Skip")]
    )
    allow_latin = forms.BooleanField(required=False, label="Send it anyway")
    skip_reason = forms.ChoiceField(choices=[("", "—"), *SkipReason.choices], required=False)
