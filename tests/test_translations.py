"""Every user-facing string exists in Turkish as well as English.

- The code's messages, collected afresh by `makemessages` from a copy of the sources, are all
  in locale/tr/LC_MESSAGES/django.po, translated and not fuzzy, with the same placeholders.
- Templates hold no English outside the translation tags.
- Pages asked for in Turkish come in Turkish, with `<html lang="tr">`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from accounts.models import User

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "locale" / "tr" / "LC_MESSAGES" / "django.po"
# What makemessages reads: the site's code and templates (not tests, tools or the client).
SOURCES = ("accounts", "api", "labeling", "ottoman_ocr", "templates", "manage.py")
NEEDS_GETTEXT = pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgmerge") and shutil.which("msgfmt")),
    reason="GNU gettext (xgettext, msgmerge, msgfmt) is not installed; make test installs it",
)


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"{self.msgctxt}|{self.msgid}" if self.msgctxt else self.msgid


def _unquote(text: str) -> str:
    """A .po string literal's content, with gettext's C escapes undone."""
    body = text.strip()[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), body)


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file (the header included, obsolete `#~` ones left out)."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        entry = Entry()
        current: str | None = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"') and current is not None:
                if current == "msgstr":
                    entry.msgstr[-1] += _unquote(line)
                else:
                    setattr(entry, current, (getattr(entry, current) or "") + _unquote(line))
            else:
                keyword, _, value = line.partition(" ")
                if keyword.startswith("msgstr"):
                    entry.msgstr.append(_unquote(value))
                    current = "msgstr"
                elif keyword in ("msgid", "msgid_plural", "msgctxt"):
                    setattr(entry, keyword, _unquote(value))
                    current = keyword
        if entry.msgstr:
            entries.append(entry)
    return entries


def untranslated(entries: list[Entry]) -> list[str]:
    """The entries a Turkish reader would see in English (the header aside)."""
    return [
        entry.name
        for entry in entries
        if entry.msgid and ("fuzzy" in entry.flags or not all(s.strip() for s in entry.msgstr))
    ]


PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfrixX]|\{\w*\}")
TAG = re.compile(r"</?([a-z]+)\b")


def mismatched_placeholders(entries: list[Entry]) -> list[str]:
    """Entries whose translation names other placeholders, or other HTML tags, than the
    English (a missing %(name)s loses a value; an extra one raises KeyError)."""
    wrong = []
    for entry in entries:
        if not entry.msgid:
            continue
        english = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        wanted = set().union(*(PLACEHOLDER.findall(text) for text in english))
        tags = sorted(TAG.findall(entry.msgid))
        for translated in entry.msgstr:
            got = set(PLACEHOLDER.findall(translated))
            # A singular may leave the number out ("The work stopped" for one time).
            if not got <= wanted or (wanted - got and len(entry.msgstr) == 1):
                wrong.append(f"{entry.name!r}: {sorted(got)} instead of {sorted(wanted)}")
            elif sorted(TAG.findall(translated)) != tags:
                wrong.append(f"{entry.name!r}: tags {sorted(TAG.findall(translated))}")
    return wrong


def test_it_reads_msgids_msgstrs_plurals_and_fuzzy_flags() -> None:
    entries = parse_po(
        '# comment\nmsgid ""\nmsgstr "Language: tr\\n"\n\n'
        '#, fuzzy, python-format\nmsgctxt "verb"\nmsgid "Label %(n)s"\nmsgstr "Etiket"\n\n'
        'msgid "one"\nmsgid_plural "many \\"%(n)d\\""\nmsgstr[0] "bir"\nmsgstr[1] ""\n\n'
        'msgid ""\n"long "\n"text"\nmsgstr ""\n"uzun "\n"metin"\n'
    )
    assert [e.name for e in entries] == ["", "verb|Label %(n)s", "one", "long text"]
    assert entries[2].msgid_plural == 'many "%(n)d"'
    assert entries[3].msgstr == ["uzun metin"]
    assert untranslated(entries) == ["verb|Label %(n)s", "one"]
    assert mismatched_placeholders(entries) == ["'verb|Label %(n)s': [] instead of ['%(n)s']"]


def test_the_committed_catalogue_is_complete_and_keeps_every_placeholder() -> None:
    if not PO_FILE.exists():
        pytest.fail(f"{PO_FILE.relative_to(ROOT)} is missing: run `make messages` and translate")
    entries = parse_po(PO_FILE.read_text(encoding="utf-8"))
    header = entries[0].msgstr[0]
    assert "Language: tr" in header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header
    missing = untranslated(entries)
    assert not missing, "Untranslated or fuzzy in django.po:\n" + "\n".join(missing)
    wrong = mismatched_placeholders(entries)
    assert not wrong, "Placeholders or tags differ from the English:\n" + "\n".join(wrong)


@NEEDS_GETTEXT
def test_every_string_in_the_code_is_translated_into_turkish(tmp_path: Path) -> None:
    """makemessages on a copy of the sources and the committed .po: a string added or changed
    in the code comes out new (empty) or fuzzy, and is named here."""
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    catalogue = tmp_path / PO_FILE.relative_to(ROOT)
    catalogue.parent.mkdir(parents=True)
    shutil.copy2(PO_FILE, catalogue)
    ran = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "tr", "--no-obsolete", "-v", "0"],
        cwd=tmp_path,
        env={"DJANGO_SETTINGS_MODULE": "ottoman_ocr.test_settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    missing = untranslated(parse_po(catalogue.read_text(encoding="utf-8")))
    assert not missing, (
        "Strings in the code without a Turkish translation (run `make messages` and translate "
        "them in locale/tr/LC_MESSAGES/django.po):\n" + "\n".join(missing)
    )


# --- Templates: no English outside the translation tags ------------------------------------

# Names and keys that are the same in every language; any other Latin word is English.
SAME_IN_EVERY_LANGUAGE = re.compile(
    r"Ottoman OCR|PAGE XML|ALTO|Tesseract|eScriptorium|Transkribus|Enter|Ctrl|Alt|Shift|Esc|"
    r"Delete|Tab"
)
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


def bare_english(template: str) -> list[str]:
    """Text a reader would see that no translation tag covers: text between tags, and the
    alt, title, aria-label and placeholder attributes, and submit buttons' values."""
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", template, flags=re.S)
    text = re.sub(r"{#.*?#}", " ", text, flags=re.S)
    text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", " ", text, flags=re.S)
    text = re.sub(r"{%\s*block bodyclass\s*%}.*?{%\s*endblock\s*%}", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"{%.*?%}|{{.*?}}|&\w+;", " ", text, flags=re.S)
    found = []
    attributes = r'\b(?:title|alt|aria-label|placeholder)="([^"]*)"'
    submits = r'<input[^>]*type="submit"[^>]*value="([^"]*)"'
    for pattern in (attributes, submits):
        found += [m.group(1).strip() for m in re.finditer(pattern, text)]
    found += [chunk.strip() for chunk in re.sub(r"<[^>]*>", "\n", text).splitlines()]
    return [chunk for chunk in found if ENGLISH_WORD.search(SAME_IN_EVERY_LANGUAGE.sub(" ", chunk))]


def test_it_finds_english_outside_the_translation_tags() -> None:
    template = (
        '{% load i18n %}<h1>{% translate "Title" %}</h1><p>Left over</p>'
        '<img alt="A scan"><button title="{% translate \'Undo\' %}">Ctrl+Z</button>'
        "{# a note #}{% blocktranslate %}Kept {{ n }}{% endblocktranslate %} Ottoman OCR"
        '<input type="submit" value="Go on">'
    )
    assert bare_english(template) == ["A scan", "Go on", "Left over"]


def test_no_template_shows_english_outside_the_translation_tags() -> None:
    leftovers = [
        f"{path.relative_to(ROOT)}: {chunk}"
        for path in sorted((ROOT / "templates").rglob("*"))
        if path.suffix in (".html", ".txt")
        for chunk in bare_english(path.read_text(encoding="utf-8"))
    ]
    assert not leftovers, "English outside {% translate %}:\n" + "\n".join(leftovers)


# --- Pages in Turkish ------------------------------------------------------------------------


@pytest.fixture
def turkish_catalogue() -> Iterator[None]:
    """The Turkish catalogue compiled from the committed .po (as `make test` does), loaded
    afresh: a catalogue cached earlier in the session may predate it."""
    if not shutil.which("msgfmt"):
        pytest.skip("msgfmt (Debian's gettext) is not installed; make test installs it")
    compiled = PO_FILE.with_suffix(".mo")
    if not compiled.exists() or compiled.stat().st_mtime < PO_FILE.stat().st_mtime:
        subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(PO_FILE)], check=True)
    trans_real._translations = {}
    trans_real._default = None
    yield
    translation.activate("en")
    translation.deactivate()


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', page)
    assert match, page[:200]
    return match.group(1)


@pytest.mark.django_db
@pytest.mark.usefixtures("turkish_catalogue")
def test_the_home_page_is_in_turkish_for_a_turkish_browser() -> None:
    response = Client(headers={"accept-language": "tr-TR,tr;q=0.9,en;q=0.5"}).get("/")
    page = response.content.decode()
    assert html_lang(page) == "tr"
    assert response["Content-Language"] == "tr"
    assert "Tesseract'a Osmanlı Türkçesi okumayı öğretin" in page
    assert "Teach Tesseract" not in page
    # The Ottoman sample stays right to left, marked as Ottoman, inside the Turkish page.
    assert '<p lang="ota" dir="rtl" class="sample">' in page


@pytest.mark.django_db
@pytest.mark.usefixtures("turkish_catalogue")
def test_the_home_page_stays_in_english_for_an_english_browser() -> None:
    page = Client(headers={"accept-language": "en-GB,en;q=0.8"}).get("/").content.decode()
    assert html_lang(page) == "en"
    assert "Teach Tesseract to read Ottoman Turkish" in page


@pytest.mark.django_db
@pytest.mark.usefixtures("turkish_catalogue")
def test_signed_in_pages_and_form_errors_are_in_turkish(user: User) -> None:
    client = Client(headers={"accept-language": "tr"})
    client.force_login(user)
    documents = client.get(reverse("labeling:documents")).content.decode()
    assert html_lang(documents) == "tr"
    assert "Belgelerim" in documents and "Çıkış yap" in documents
    upload = client.post(reverse("labeling:upload"), {"title": "", "visibility": "private"})
    errors = upload.content.decode()
    assert "Yüklemek için en az bir tarama seçin." in errors
    assert "Choose at least one scan" not in errors
    # Django's own messages come in Turkish too (its catalogue ships with Django).
    assert "Bu alan zorunlu" in errors  # "This field is required." for the title


@pytest.mark.django_db
@pytest.mark.usefixtures("turkish_catalogue")
def test_the_sign_in_page_is_in_turkish() -> None:
    page = Client(headers={"accept-language": "tr"}).get(reverse("account_login")).content
    text = page.decode()
    assert html_lang(text) == "tr"
    assert "Giriş yap" in text


@pytest.mark.usefixtures("turkish_catalogue")
def test_every_model_and_field_name_the_admin_shows_is_translatable() -> None:
    """A field without its own verbose name shows its attribute name ("consensus text") in the
    Turkish admin: every model and field of ours names itself through gettext_lazy."""
    from django.apps import apps
    from django.utils.functional import Promise

    untranslated = []
    for app in ("labeling", "accounts"):
        for model in apps.get_app_config(app).get_models():
            meta = model._meta
            if not isinstance(meta.verbose_name, Promise):
                untranslated.append(f"{meta.label} (the model)")
            for own in [*meta.local_fields, *meta.local_many_to_many]:
                if own.name == "id" or own.name.endswith("_ptr"):
                    continue
                if not isinstance(own.verbose_name, Promise):
                    untranslated.append(f"{meta.label}.{own.name}")
    assert not untranslated, untranslated
    with translation.override("tr"):
        from labeling.models import Line

        assert str(Line._meta.get_field("consensus_text").verbose_name) == "uzlaşılan metin"
