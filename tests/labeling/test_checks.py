"""System checks name what a deployment lacks: Tesseract, the default model's data."""

import pytest

from labeling import checks
from labeling.models import OcrModel


def test_it_reports_a_missing_tesseract(settings: pytest.FixtureRequest) -> None:
    settings.TESSERACT_CMD = "/nonexistent/tesseract"  # type: ignore[attr-defined]
    assert [m.id for m in checks.check_tesseract()] == ["labeling.E001"]


@pytest.mark.django_db
def test_it_reports_missing_language_data_for_the_default_model(needs_tesseract: None) -> None:
    assert checks.check_default_language() == []
    OcrModel.objects.update(is_default=False)
    OcrModel.objects.create(name="Ottoman", language="ota_missing", is_default=True)
    messages = checks.check_default_language()
    assert [m.id for m in messages] == ["labeling.E002"]
    assert "ota_missing" in messages[0].msg


def test_it_reports_an_unwritable_media_folder(settings: pytest.FixtureRequest, tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings.MEDIA_ROOT = blocker / "media"  # type: ignore[attr-defined]
    assert [m.id for m in checks.check_media_writable()] == ["labeling.W001"]


@pytest.mark.django_db
def test_a_missing_tesseract_is_reported_once(settings: pytest.FixtureRequest) -> None:
    settings.TESSERACT_CMD = "/nonexistent/tesseract"  # type: ignore[attr-defined]
    assert checks.check_default_language() == []
