"""`ottoman-ocr`: sign in, upload scans, follow their reading, download text, label, pull releases.

Exit codes: 0 done, 1 other failure, 2 usage, 3 wrong password or refused token, 4 server
unreachable, 5 not found, 6 refused input (the server's messages printed), 7 throttled.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.prompt import Confirm, Prompt
from rich.table import Table

from ottoman_ocr_client import keymap
from ottoman_ocr_client.api import (
    ApiClient,
    ApiError,
    NotFound,
    Unreachable,
    WrongCredentials,
    error_for,
)
from ottoman_ocr_client.config import Config, Credentials, config_dir
from ottoman_ocr_client.i18n import _
from ottoman_ocr_client.outbox import Outbox, Outcome, Pending, sender

EXIT_OK = 0
EXIT_USAGE = 2
SKIP_REASONS = ("illegible", "not_ottoman", "bad_crop", "other")


class Usage(Exception):
    """A command used wrongly in a way argparse cannot see; exit 2."""


class Context:
    """What every command gets: the config, the chosen server, consoles."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.config = Config.load(config_dir())
        self.server = self.config.server(args.server)
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    def client(self, *, signed_in: bool = True) -> ApiClient:
        credentials = self.config.credentials(self.server)
        if signed_in and credentials is None:
            raise WrongCredentials(
                _("Not signed in to %(server)s: run ottoman-ocr login first.")
                % {"server": self.server}
            )
        return ApiClient(self.server, credentials.token if credentials and signed_in else None)

    def outbox(self) -> Outbox:
        return Outbox(config_dir() / "outbox.jsonl")


# Commands.


def cmd_login(ctx: Context, args: argparse.Namespace) -> int:
    email = args.email or Prompt.ask(_("E-mail address"), console=ctx.err)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = Prompt.ask(_("Password"), password=True, console=ctx.err)
    name = args.name or _("ottoman-ocr on %(host)s") % {"host": socket.gethostname()}
    with ctx.client(signed_in=False) as api:
        answer = api.login(email=email, password=password, name=name)
    ctx.config.remember(
        ctx.server,
        Credentials(token=str(answer["token"]), email=email, token_id=answer.get("id")),
    )
    ctx.out.print(
        _("Signed in to %(server)s as %(email)s. The token is kept in %(path)s.")
        % {"server": ctx.server, "email": escape(email), "path": ctx.config.path}
    )
    return EXIT_OK


def cmd_logout(ctx: Context, args: argparse.Namespace) -> int:
    if ctx.config.credentials(ctx.server) is None:
        ctx.out.print(_("Not signed in to %(server)s.") % {"server": ctx.server})
        return EXIT_OK
    try:
        with ctx.client() as api:
            api.logout()
    except WrongCredentials:
        pass  # already revoked on the server: forgetting it here is all that is left
    ctx.config.forget(ctx.server)
    ctx.out.print(_("Signed out: the token is revoked and forgotten."))
    return EXIT_OK


def _count(value: Any) -> int:
    """A count the API gives as a number (lists) or as the rows themselves (detail)."""
    return len(value) if isinstance(value, list) else int(value or 0)


def cmd_upload(ctx: Context, args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise Usage(_("No such file: %(files)s") % {"files": ", ".join(missing)})
    consent = args.consent
    if args.pool and not consent:
        if not sys.stdin.isatty():
            raise Usage(_("--pool needs --consent (no terminal to ask on)."))
        consent = Confirm.ask(
            _(
                "Do you have the right to share these scans, and agree that other contributors "
                "transcribe them and that the line images and texts are published under the "
                "licence chosen?"
            ),
            console=ctx.err,
        )
        if not consent:
            raise Usage(_("The pool needs your consent to share these scans."))
    with ctx.client() as api:
        with _bytes_progress(ctx.err) as progress:
            task = progress.add_task(_("Uploading"), total=None)
            document = api.upload(
                paths,
                title=args.title,
                visibility="pool" if args.pool else "private",
                license=args.license or "",
                consent=consent,
                start=lambda total: progress.update(task, total=total),
                advance=lambda n: progress.advance(task, n),
            )
        ctx.out.print(
            _("Uploaded as document %(id)s: %(title)s")
            % {"id": document["id"], "title": escape(str(document.get("title", "")))}
        )
        if args.wait:
            document = _wait(ctx, api, int(document["id"]), timeout=args.timeout)
            _summary(ctx, document)
    return EXIT_OK


def _wait(ctx: Context, api: ApiClient, document_id: int, *, timeout: float) -> dict[str, Any]:
    """Poll the document until no page or file is pending, with a bar of pages read."""
    deadline = time.monotonic() + timeout
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=ctx.err
    ) as progress:
        task = progress.add_task(_("Reading pages"), total=None)
        while True:
            document = api.document(document_id)
            pages = _count(document.get("pages"))
            finished = _count(document.get("pages_read")) + _count(document.get("pages_failed"))
            progress.update(task, total=max(pages, 1), completed=finished)
            if document.get("done"):
                return document
            if time.monotonic() > deadline:
                raise ApiError(
                    _("Still reading after %(n)d s; follow it with: ottoman-ocr status %(id)d")
                    % {"n": timeout, "id": document_id}
                )
            time.sleep(1.0)


def _summary(ctx: Context, document: dict[str, Any]) -> None:
    ctx.out.print(
        _("%(read)d of %(pages)d pages read, %(failed)d failed, %(lines)d lines.")
        % {
            "read": _count(document.get("pages_read")),
            "pages": _count(document.get("pages")),
            "failed": _count(document.get("pages_failed")),
            "lines": _count(document.get("lines")),
        }
    )


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.client() as api:
        document = api.document(args.document)
    ctx.out.print(f"[bold]{escape(str(document.get('title', '')))}[/bold] (#{document['id']})")
    pages = document.get("pages")
    if isinstance(pages, list) and pages:
        table = Table(_("Page"), _("Status"), _("Lines"), _("Problem"))
        for page in pages:
            table.add_row(
                str(page.get("number")),
                escape(str(page.get("status_label") or page.get("status"))),
                str(page.get("lines", "")),
                escape(str(page.get("error") or "")),
            )
        ctx.out.print(table)
    for source in document.get("sources") or []:
        if source.get("status") != "done" or source.get("error"):
            ctx.out.print(
                _("File %(name)s: %(status)s %(error)s")
                % {
                    "name": escape(str(source.get("name"))),
                    "status": escape(str(source.get("status"))),
                    "error": escape(str(source.get("error") or "")),
                }
            )
    _summary(ctx, document)
    ctx.out.print(_("Done.") if document.get("done") else _("Still being read."))
    return EXIT_OK


def cmd_documents(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.client() as api:
        table = Table("#", _("Title"), _("Visibility"), _("Pages"), _("Lines done"))
        for document in api.documents():
            table.add_row(
                str(document["id"]),
                escape(str(document.get("title", ""))),
                str(document.get("visibility", "")),
                f"{_count(document.get('pages_read'))}/{_count(document.get('pages'))}",
                f"{_count(document.get('lines_done'))}/{_count(document.get('lines'))}",
            )
    ctx.out.print(table)
    return EXIT_OK


def cmd_download(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.client() as api:
        name, content = api.text(args.document)
    if args.out == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return EXIT_OK
    out = Path(args.out) if args.out else Path(name)
    out.write_bytes(content)
    ctx.err.print(_("Saved %(path)s (%(n)d bytes).") % {"path": out, "n": len(content)})
    return EXIT_OK


def cmd_release_pull(ctx: Context, args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with ctx.client() as api:
        release = next((r for r in api.releases() if r.get("number") == args.number), None)
        if release is None:
            raise NotFound(_("No release number %(n)d.") % {"n": args.number})
        url = release.get("download") or f"releases/{release['id']}/download"
        target = out / f"release-{args.number}.zip"
        with _bytes_progress(ctx.err) as progress:
            task = progress.add_task(_("Downloading"), total=release.get("size"))
            digest = api.download_to(
                url,
                target,
                start=lambda total: progress.update(task, total=total or release.get("size")),
                advance=lambda n: progress.advance(task, n),
            )
    expected = release.get("sha256")
    if expected and digest != expected:
        target.unlink()
        raise ApiError(
            _("The download's SHA-256 is %(got)s, the release says %(want)s; removed.")
            % {"got": digest, "want": expected}
        )
    ctx.out.print(_("Saved %(path)s (SHA-256 %(sha)s).") % {"path": target, "sha": digest})
    if not args.no_extract:
        folder = out / f"release-{args.number}"
        with zipfile.ZipFile(target) as archive:
            archive.extractall(folder)  # extractall drops absolute paths and ".." parts
        ctx.out.print(_("Unpacked into %(path)s.") % {"path": folder})
    return EXIT_OK


# Labeling in the terminal.


def _report_flush(ctx: Context, outcomes: list[Outcome]) -> None:
    stored = sum(1 for o in outcomes if o.stored)
    if stored:
        ctx.err.print(_("Sent %(n)d label(s) kept from before.") % {"n": stored})
    for outcome in outcomes:
        if outcome.answer is not None and not outcome.stored and not outcome.kept:
            ctx.err.print(
                _("A kept label of line %(line)s was refused: %(why)s")
                % {"line": outcome.pending.line, "why": escape(str(outcome.answer.body))}
            )


def _save_crop(api: ApiClient, lease: dict[str, Any], folder: Path) -> Path | None:
    line = lease.get("line") or {}
    if not line.get("crop"):
        return None
    path = folder / f"line-{line.get('id')}.png"
    path.write_bytes(api.image(str(line["crop"])))
    return path


def label_loop(
    ctx: Context,
    api: ApiClient,
    outbox: Outbox,
    *,
    document: int | None,
    latin: bool,
    crops: Path,
    ask: Callable[[str], str],
) -> int:
    """Lines one by one until the queue is empty or q; returns how many labels were stored."""
    _report_flush(ctx, outbox.flush(api.server, sender(api)))
    done = 0
    while True:
        lease = api.next_line(document)
        if lease is None:
            ctx.out.print(_("Nothing left to label. Thank you!"))
            return done
        crop = _save_crop(api, lease, crops)
        prediction = lease.get("prediction")
        ctx.out.rule(escape(str(lease.get("document_title") or "")))
        if crop is not None:
            ctx.out.print(_("Line image: %(path)s") % {"path": crop})
        if prediction is None:
            ctx.out.print(_("Read the line from its image (no reading shown for this one)."))
        else:
            # Printed as is: a terminal with bidi support shows it right to left.
            ctx.out.print(_("Tesseract read:"), escape(prediction))
        started = time.monotonic()
        allow_latin = False
        text: str | None = None
        while True:
            if text is None:
                raw = ask(
                    _("Your reading (Enter: send; s: skip; q: quit)")
                    if prediction is None
                    else _("Correction (Enter alone: the reading is right; s: skip; q: quit)")
                )
                if raw.strip() == "q":
                    return done
                if raw.strip() == "s":
                    reason = ask(_("Why skip? (%(reasons)s)") % {"reasons": "/".join(SKIP_REASONS)})
                    while reason.strip() not in SKIP_REASONS:
                        reason = ask(_("One of: %(r)s") % {"r": ", ".join(SKIP_REASONS)})
                    _send(ctx, api, outbox, lease, "skip", {"reason": reason.strip()})
                    break
                text = keymap.latin_to_ottoman(raw) if latin else raw
                if latin and raw:
                    ctx.out.print("→", escape(text))
                if not text.strip():
                    if prediction is None:
                        ctx.out.print(_("Type what the line says, or skip it."))
                        text = None
                        continue
                    text = prediction
            body = {
                "text": text,
                "seconds": round(time.monotonic() - started, 1),
                "allow_latin": allow_latin,
            }
            outcome = _send(ctx, api, outbox, lease, "submit", body)
            if outcome.stored or (outcome.answer and outcome.answer.status == 409):
                done += int(outcome.stored)
                break
            refused = error_for_answer(outcome)
            ctx.out.print(f"[red]{escape(refused.describe())}[/red]")
            if refused.code == "latin" and not allow_latin:
                allow_latin = Confirm.ask(_("Send it anyway?"), console=ctx.out)
                if allow_latin:
                    continue
            text = None


def error_for_answer(outcome: Outcome) -> ApiError:
    import httpx

    answer = outcome.answer
    if answer is None:
        return ApiError(outcome.error)
    return error_for(httpx.Response(answer.status, json=answer.body))


def _send(
    ctx: Context,
    api: ApiClient,
    outbox: Outbox,
    lease: dict[str, Any],
    action: str,
    body: dict[str, Any],
) -> Outcome:
    """Keep the label in the outbox, flush, and return its outcome.

    Nothing came back (server gone): the label stays kept and the command stops with the
    unreachable exit code; it is sent at the next start. 401 and 429 stop it too.
    """
    pending = Pending(
        server=api.server,
        assignment=int(lease["assignment"]),
        action="skip" if action == "skip" else "submit",
        body=body,
        line=(lease.get("line") or {}).get("id"),
    )
    outbox.add(pending)
    outcomes = outbox.flush(api.server, sender(api))
    mine = next((o for o in outcomes if o.pending.key == pending.key), None)
    if mine is None or mine.answer is None:
        raise Unreachable(
            (mine.error if mine else _("Not sent."))
            + " "
            + _("Your label is kept and will be sent next time.")
        )
    if mine.kept:
        raise error_for_answer(mine)
    if mine.answer.status == 409:
        ctx.out.print(f"[yellow]{escape(str(mine.answer.body.get('detail', '')))}[/yellow]")
    elif mine.stored:
        ctx.out.print(_("Sent.") if action == "submit" else _("Skipped."))
    return mine


def cmd_label(ctx: Context, args: argparse.Namespace) -> int:
    crops = Path(args.crops) if args.crops else Path(tempfile.mkdtemp(prefix="ottoman-ocr-"))
    crops.mkdir(parents=True, exist_ok=True)

    def ask(prompt: str) -> str:
        try:
            return Prompt.ask(prompt, default="", show_default=False, console=ctx.out)
        except EOFError:
            return "q"  # input closed: stop as if q was typed

    with ctx.client() as api:
        done = label_loop(
            ctx,
            api,
            ctx.outbox(),
            document=args.document,
            latin=args.latin,
            crops=crops,
            ask=ask,
        )
    ctx.out.print(_("%(n)d line(s) labelled in this session.") % {"n": done})
    return EXIT_OK


# Plumbing.


def _bytes_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ottoman-ocr",
        description=_("Client of the Ottoman OCR platform."),
        epilog=_(
            "Exit codes: 1 other failure, 2 usage, 3 wrong password or token, 4 server "
            "unreachable, 5 not found, 6 refused by the server, 7 too many requests."
        ),
    )
    p.add_argument(
        "--server", help=_("the platform's address (default: $OTTOMAN_OCR_SERVER, else the last)")
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("login", help=_("sign in and keep a token"))
    s.add_argument("--email")
    s.add_argument("--name", help=_("the token's name on your profile page"))
    s.add_argument(
        "--password-stdin", action="store_true", help=_("read the password from standard input")
    )
    s.set_defaults(run=cmd_login)

    s = sub.add_parser("logout", help=_("revoke and forget the token"))
    s.set_defaults(run=cmd_logout)

    s = sub.add_parser("upload", help=_("upload scans as one document"))
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--title", required=True)
    s.add_argument("--pool", action="store_true", help=_("share it for others to label"))
    s.add_argument("--license", help="cc0-1.0, cc-by-4.0, cc-by-sa-4.0, public-domain")
    s.add_argument("--consent", action="store_true", help=_("agree to the pool's terms"))
    s.add_argument("--wait", action="store_true", help=_("follow the reading until done"))
    s.add_argument("--timeout", type=float, default=3600.0, help=_("seconds --wait waits"))
    s.set_defaults(run=cmd_upload)

    s = sub.add_parser("documents", help=_("list my documents"))
    s.set_defaults(run=cmd_documents)

    s = sub.add_parser("status", help=_("a document's pages and their reading"))
    s.add_argument("document", type=int, metavar="DOC")
    s.set_defaults(run=cmd_status)

    s = sub.add_parser("download", help=_("a document's text as a .txt file"))
    s.add_argument("document", type=int, metavar="DOC")
    s.add_argument("--out", metavar="FILE", help=_("where to write it (- for standard output)"))
    s.set_defaults(run=cmd_download)

    s = sub.add_parser("label", help=_("label lines from the queue in the terminal"))
    s.add_argument("--document", type=int, help=_("only lines of this document"))
    s.add_argument("--latin", action="store_true", help=_("type with Latin keys (the site's map)"))
    s.add_argument("--crops", metavar="DIR", help=_("where to save the line images"))
    s.set_defaults(run=cmd_label)

    s = sub.add_parser("release", help=_("dataset releases (staff)"))
    release = s.add_subparsers(dest="release_command", required=True)
    r = release.add_parser("pull", help=_("download and unpack release N"))
    r.add_argument("number", type=int, metavar="N")
    r.add_argument("--out", required=True, metavar="DIR")
    r.add_argument("--no-extract", action="store_true", help=_("keep only the zip"))
    r.set_defaults(run=cmd_release_pull)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)  # exits 2 on a usage error
    ctx = Context(args)
    try:
        code: int = args.run(ctx, args)
        return code
    except Usage as exc:
        ctx.err.print(f"[red]{escape(str(exc))}[/red]")
        return EXIT_USAGE
    except ApiError as exc:
        ctx.err.print(f"[red]{escape(exc.describe())}[/red]")
        if exc.retry_after is not None:
            ctx.err.print(_("Retry-After: %(n)d s") % {"n": exc.retry_after})
        return exc.exit_code
    except KeyboardInterrupt:
        ctx.err.print(_("Interrupted."))
        return 130
    except OSError as exc:
        ctx.err.print(f"[red]{escape(str(exc))}[/red]")
        return 1


if __name__ == "__main__":
    sys.exit(main())
