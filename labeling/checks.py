"""System checks for what a deployment needs: Tesseract, the default model's data, storage."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

from labeling import ocr


@register(Tags.compatibility)
def check_tesseract(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if ocr.tesseract_version(tesseract_cmd=settings.TESSERACT_CMD) is None:
        return [
            Error(
                f"Tesseract ({settings.TESSERACT_CMD!r}) is not installed or does not run.",
                hint="Install Debian's tesseract-ocr (make run does) or set TESSERACT_CMD.",
                id="labeling.E001",
            )
        ]
    return []


@register(Tags.compatibility)
def check_default_language(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from labeling.models import OcrModel

    language = settings.OCR_DEFAULT_LANGUAGE
    try:
        default = OcrModel.default()
    except DatabaseError:  # before migrate: fall back to the setting
        default = None
    if default is not None:
        if default.traineddata:
            return []  # an uploaded model travels with the database, not the machine
        language = default.language
    tessdata = settings.TESSDATA_DIR or None
    try:
        installed = ocr.installed_languages(
            tessdata_dir=tessdata, tesseract_cmd=settings.TESSERACT_CMD
        )
    except ocr.OcrError:
        return []  # no Tesseract: E001 already says so
    if language not in installed:
        return [
            Error(
                f"Tesseract has no language data for {language!r}, the default OCR model.",
                hint=f"Install tesseract-ocr-{language} or choose another default model.",
                id="labeling.E002",
            )
        ]
    return []


@register(Tags.compatibility)
def check_media_writable(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.AWS_STORAGE_BUCKET_NAME:
        return []
    root = settings.MEDIA_ROOT
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return [Warning(f"MEDIA_ROOT {root} is not writable: {exc}", id="labeling.W001")]
    return []
