"""A release's README.md and htr-united.yml, from what went into it."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.utils.translation import gettext as _

from labeling import charset, guidelines
from labeling.models import License, LineProvenance, ModerationAction, OcrModel
from labeling.releases.layout import Stats

logger = logging.getLogger(__name__)

PROJECT = "Ottoman OCR ground-truth platform"
LICENSE_URLS = {
    "cc0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-sa-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "public-domain": "https://creativecommons.org/publicdomain/mark/1.0/",
}


def default_model_characters() -> tuple[str, set[str] | None]:
    """The default model's name and the characters it can write (None: could not be read)."""
    model = OcrModel.default()
    if model is None:
        return "", None
    from labeling.reading import model_file

    try:
        return model.name, charset.model_characters(model_file(model))
    except (charset.UnicharsetError, OSError) as exc:
        logger.warning("The default model's characters could not be read: %s", exc)
        return model.name, None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme(
    *,
    title: str,
    stats: Stats,
    notes: str = "",
    normalized: bool = False,
    seed: int | None = None,
    eval_share: float | None = None,
    statuses: tuple[str, ...] = (),
) -> str:
    """The README: counts, documents, characters, rules in force, how the lines were made."""
    summary = stats.summary()
    model_name, known = default_model_characters()
    out = [f"# {title}", ""]
    if notes:
        out += [notes, ""]
    out += [
        _(
            "Line images and their transcriptions of printed Ottoman Turkish (Arabic script), in "
            "tesstrain's layout: `lines/NAME.png` with `lines/NAME.gt.txt` (one line, logical "
            "order, Unicode NFC). `manifest.jsonl` describes every line; `list.train` and "
            "`list.eval` split them by document, never by line; `SHA256SUMS` holds the checksum "
            "of every other file (`sha256sum -c SHA256SUMS`)."
        ),
        "",
        "## " + _("Counts"),
        "",
        f"- {_('Documents')}: {summary['documents']}",
        f"- {_('Lines')}: {summary['lines']} ({_('train')} {summary['train_lines']}, "
        f"{_('eval')} {summary['eval_lines']})",
        f"- {_('Characters')}: {summary['characters']} "
        f"({_('%(n)d distinct') % {'n': len(stats.characters)}})",
    ]
    if statuses:
        out.append(f"- {_('Line statuses exported')}: {', '.join(statuses)}")
    if seed is not None:
        out.append(f"- {_('Split')}: {_('eval share')} {eval_share}, {_('seed')} {seed}")
    out.append(
        f"- {_('Text')}: "
        + (_("after the Ottoman normalization") if normalized else _("as typed (raw, NFC)"))
    )
    out += ["", "## " + _("Documents"), ""]
    out += [
        f"| {_('id')} | {_('title')} | {_('split')} | {_('lines')} | {_('characters')} | "
        f"{_('licence')} |",
        "|---:|---|---|---:|---:|---|",
    ]
    for doc in stats.documents.values():
        out.append(
            f"| {doc.id} | {_cell(doc.title)} | {doc.split} | {doc.lines} | {doc.characters} | "
            f"{doc.license} |"
        )
    out += ["", "## " + _("Character inventory"), ""]
    if known is None:
        out.append(_("The default model's character set could not be read; nothing is marked."))
    else:
        out.append(
            _("Characters marked ✗ are missing from the default model (%(model)s).")
            % {"model": model_name}
        )
    out += [
        "",
        f"| {_('character')} | {_('code point')} | {_('Unicode name')} | {_('count')} | "
        f"{_('in model')} |",
        "|---|---|---|---:|---|",
    ]
    for item in charset.inventory(stats.characters):
        mark = "" if known is None else ("✓" if item.char in known or item.char == " " else "✗")
        out.append(
            f"| {_cell(item.shown)} | {item.codepoint} | {item.name} | {item.count} | {mark} |"
        )
    out += [
        "",
        "## " + _("Transcription rules"),
        "",
        _("Version %(n)d of the rules, as on the site's guidelines page:")
        % {"n": guidelines.VERSION},
        "",
        guidelines.as_markdown(),
        "",
        "## " + _("How the lines were made"),
        "",
    ]
    provenance = dict(LineProvenance.choices)
    for value, count in stats.provenance.most_common():
        out.append(f"- {provenance.get(value, value)}: {count}")
    out.append(
        _("- Read by: %(models)s")
        % {
            "models": ", ".join(
                f"{name or _('no model (imported)')} ({count})"
                for name, count in stats.models.most_common()
            )
        }
    )
    mean = stats.labels / stats.lines if stats.lines else 0
    out.append(
        _("- People's labels: %(labels)d (%(mean).2f per line) by %(people)d labelers")
        % {"labels": stats.labels, "mean": mean, "people": len(stats.labelers)}
    )
    actions = dict(ModerationAction.choices)
    out.append(
        _("- Latest decision on each line: %(decisions)s")
        % {
            "decisions": ", ".join(
                f"{actions.get(action, _('none (agreement only)'))} ({count})"
                for action, count in stats.decisions.most_common()
            )
        }
    )
    out += [
        "",
        _(
            "Pool lines become agreed when enough independent labelers agree after the Ottoman "
            "normalization (Tesseract's reading is never a vote), and approved by a moderator or "
            "imported as checked ground truth. Labelers are given by id in the manifest, never by "
            "name or e-mail."
        ),
        "",
        "## " + _("Licence"),
        "",
    ]
    licences = dict(License.choices)
    for value in sorted({doc.license for doc in stats.documents.values()}):
        out.append(f"- {licences.get(value, value)} — {LICENSE_URLS.get(value, '')}".rstrip(" —"))
    out.append("")
    out.append(_("Each document keeps its own licence (see the table above and the manifest)."))
    return "\n".join(out) + "\n"


def catalogue(*, title: str, stats: Stats, number: int | None) -> str:
    """An HTR-United catalogue record (schema 2022-04-15), as YAML (every value JSON-quoted)."""
    summary = stats.summary()
    imported = stats.provenance.get(LineProvenance.IMPORTED, 0)
    production = "imported" if imported == stats.lines and imported else "manual-transcription"
    if 0 < imported < stats.lines:
        production = "manual-transcription, imported"
    licences = sorted({doc.license for doc in stats.documents.values()})
    q = json.dumps
    site = str(getattr(settings, "SITE_URL", "")).rstrip("/")
    url = f"{site}/releases/{number}/" if number is not None else site
    lines = [
        f"schema: {q('https://htr-united.github.io/schema/2022-04-15/schema.json')}",
        f"title: {q(title)}",
        "description: "
        + q(
            "Printed Ottoman Turkish line images and their checked transcriptions in "
            f"tesstrain's layout (format: tesstrain; production: {production})."
        ),
        f"url: {q(url)}",
        f"project-name: {q(PROJECT)}",
        f"project-website: {q(site)}",
        "authors:",
        f"  - name: {q(PROJECT)}",
        f"    surname: {q('contributors')}",
        f"    roles: {q(['transcriber', 'quality-control'])}",
        "language:",
        '  - "ota"',
        "script:",
        '  - iso: "Arab"',
        'script-type: "only-typed"',
        'format: "Image-Text-Pairs"',
        f"production-software: {q('Tesseract, ' + PROJECT)}",
        "automatically-aligned: false",
        "volume:",
        f"  - count: {summary['lines']}",
        '    metric: "lines"',
        f"  - count: {summary['characters']}",
        '    metric: "characters"',
        f"  - count: {summary['documents']}",
        '    metric: "files"',
        "license:",
    ]
    for value in licences:
        lines += [f"  - name: {q(value)}", f"    url: {q(LICENSE_URLS.get(value, ''))}"]
    lines += [
        "transcription-guidelines: "
        + q(f"See README.md, Transcription rules (version {guidelines.VERSION})"),
        "characters:",
        '  mode: "NFC"',
        "  binary: false",
        f"production: {q(production)}",
        f"splits: {q({'train': summary['train_lines'], 'eval': summary['eval_lines']})}",
    ]
    return "\n".join(lines) + "\n"
