"""The platform's REST API (/api/v1/) over httpx, with its refusals as typed exceptions.

Every failure the command line reports has its own exception class carrying its exit code, so
`cli` maps them once: 3 wrong password or refused token, 4 server unreachable, 5 not found,
6 refused input (the server's field messages), 7 throttled (with Retry-After), 1 otherwise.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from ottoman_ocr_client.config import normalize_server
from ottoman_ocr_client.i18n import _

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
# An upload answers after the files are stored; with an eager OCR setup (tests, a single
# machine) after they are read too.
UPLOAD_READ_TIMEOUT = 600.0


class ApiError(Exception):
    """A request that did not do what was asked; `exit_code` is the CLI's exit status."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
        code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.fields = fields or {}
        self.code = code
        self.retry_after = retry_after

    def describe(self) -> str:
        """The message, then the server's messages per field, one a line."""
        lines = [self.message]
        for name, messages in self.fields.items():
            lines += [message if name == "text" else f"{name}: {message}" for message in messages]
        return "\n".join(lines)


class WrongCredentials(ApiError):
    exit_code = 3


class Unreachable(ApiError):
    exit_code = 4


class NotFound(ApiError):
    exit_code = 5


class Refused(ApiError):
    exit_code = 6


class Throttled(ApiError):
    exit_code = 7


class Conflict(ApiError):
    exit_code = 1


class Forbidden(ApiError):
    exit_code = 1


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"detail": body}


def field_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    """The {"field": ["message", …]} part of a DRF error body ("detail" and "code" excluded)."""
    fields: dict[str, list[str]] = {}
    for key, value in body.items():
        if key in ("detail", "code"):
            continue
        if isinstance(value, list):
            fields[key] = [str(v) for v in value]
        elif isinstance(value, str):
            fields[key] = [value]
    return fields


def retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0, int(float(value)))
    except ValueError:
        return None


def error_for(response: httpx.Response) -> ApiError:
    """The exception for an answer that is not a success."""
    body = _json(response)
    detail = str(body.get("detail") or "")
    fields = field_errors(body)
    code = body.get("code") if isinstance(body.get("code"), str) else None
    status = response.status_code
    if status == 401:
        return WrongCredentials(
            detail or _("The server refused the token: sign in again (ottoman-ocr login)."),
            status=status,
        )
    if status == 403:
        return Forbidden(detail or _("You are not allowed to do this."), status=status)
    if status == 404:
        # The server's detail names a model ("No Document matches…"); the path says which row.
        try:
            path = response.request.url.path
        except RuntimeError:  # an answer rebuilt from the outbox has no request
            path = ""
        return NotFound(_("Not found, or not yours: %(path)s") % {"path": path}, status=status)
    if status == 409:
        return Conflict(detail or _("This was changed meanwhile."), status=status)
    if status == 429:
        wait = retry_after(response)
        message = detail or _("Too many requests.")
        if wait is not None:
            message += " " + _("Try again in %(n)d s.") % {"n": wait}
        return Throttled(message, status=status, retry_after=wait)
    if status == 400:
        message = detail or _("The server refused the request:")
        return Refused(message, status=status, fields=fields, code=code)
    return ApiError(
        detail or _("The server answered %(status)d.") % {"status": status}, status=status
    )


class _Progress(httpx.SyncByteStream):
    """A request body that reports every chunk as it is handed to the connection."""

    def __init__(self, stream: Any, advance: Callable[[int], None]) -> None:
        self._stream = stream
        self._advance = advance

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            yield chunk
            self._advance(len(chunk))


@dataclass(frozen=True)
class Answer:
    """A raw answer, for callers that decide themselves what a status means (the outbox)."""

    status: int
    body: dict[str, Any]


class ApiClient:
    """One server, one token. Use as a context manager, or call close()."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = normalize_server(server)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        self.http = httpx.Client(
            base_url=self.server + "/api/v1/",
            headers=headers,
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            transport=transport,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # The one place a request is made.

    def send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send; a transport failure becomes Unreachable. The status is not checked here."""
        try:
            return self.http.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            raise Unreachable(
                _("The server %(server)s did not answer in time (%(error)s).")
                % {"server": self.server, "error": type(exc).__name__}
            ) from exc
        except httpx.TransportError as exc:
            raise Unreachable(
                _("Cannot reach the server %(server)s (%(error)s).")
                % {"server": self.server, "error": exc or type(exc).__name__}
            ) from exc

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send and raise the ApiError for any answer that is not 2xx."""
        response = self.send(self.http.build_request(method, path, **kwargs))
        if not response.is_success:
            raise error_for(response)
        return response

    def answer(self, method: str, path: str, **kwargs: Any) -> Answer:
        """Send and return the status and JSON body, whatever the status."""
        response = self.send(self.http.build_request(method, path, **kwargs))
        return Answer(status=response.status_code, body=_json(response))

    # Accounts.

    def login(self, *, email: str, password: str, name: str) -> dict[str, Any]:
        """A new token for this person; a wrong e-mail or password is WrongCredentials."""
        response = self.send(
            self.http.build_request(
                "POST", "auth/token/", json={"email": email, "password": password, "name": name}
            )
        )
        if response.status_code == 400:
            body = _json(response)
            raise WrongCredentials(
                str(body.get("detail") or _("Wrong e-mail address or password.")), status=400
            )
        if not response.is_success:
            raise error_for(response)
        return _json(response)

    def logout(self) -> None:
        self.request("DELETE", "auth/token/")

    def me(self) -> dict[str, Any]:
        return _json(self.request("GET", "me/"))

    # Documents.

    def pages_of(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a cursor-paginated list, following "next"."""
        url: str | None = path
        while url:
            body = _json(self.request("GET", url, params=params))
            yield from body.get("results", [])
            url = body.get("next")
            params = None  # the next link carries them

    def documents(self) -> Iterator[dict[str, Any]]:
        return self.pages_of("documents/")

    def document(self, document_id: int) -> dict[str, Any]:
        return _json(self.request("GET", f"documents/{document_id}/"))

    def upload(
        self,
        paths: list[Path],
        *,
        title: str,
        visibility: str = "private",
        license: str = "",
        consent: bool = False,
        start: Callable[[int], None] | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Upload scans as one document, streaming the files; 400 is Refused with fields.

        `start(total bytes)` is called once the body's size is known, `advance(n)` as bytes go.
        """
        data = {"title": title, "visibility": visibility, "license": license}
        if consent:
            data["consent"] = "true"
        with ExitStack() as stack:
            files = [
                (
                    "scans",
                    (
                        path.name,
                        stack.enter_context(path.open("rb")),
                        mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                    ),
                )
                for path in paths
            ]
            request = self.http.build_request(
                "POST",
                "documents/",
                data=data,
                files=files,
                timeout=httpx.Timeout(UPLOAD_READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            )
            if start is not None:
                start(int(request.headers.get("Content-Length", "0")))
            if advance is not None:
                request.stream = _Progress(request.stream, advance)
            response = self.send(request)
        if not response.is_success:
            raise error_for(response)
        return _json(response)

    def text(self, document_id: int) -> tuple[str, bytes]:
        """The document as UTF-8 text, with the file name the server suggests."""
        response = self.request("GET", f"documents/{document_id}/text")
        disposition = response.headers.get("Content-Disposition", "")
        return filename_from(disposition) or f"document-{document_id}.txt", response.content

    # The queue.

    def next_line(self, document: int | None = None) -> dict[str, Any] | None:
        """The next line leased to this person, or None when nothing is left (204)."""
        body = {"document": document} if document is not None else {}
        response = self.request("POST", "queue/next/", json=body)
        if response.status_code == 204:
            return None
        return _json(response)

    def image(self, url: str) -> bytes:
        """An image the API linked to (a crop). The token goes only to this same server."""
        absolute = urljoin(self.server + "/", url)
        if _origin(absolute) != _origin(self.server):
            raise ApiError(_("The server linked to another site: %(url)s") % {"url": absolute})
        return self.request("GET", absolute).content

    # Staff.

    def releases(self) -> Iterator[dict[str, Any]]:
        return self.pages_of("releases/")

    def download_to(
        self,
        url: str,
        destination: Path,
        *,
        start: Callable[[int], None] | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> str:
        """Stream a download into a file (via a temporary name); returns its SHA-256."""
        request = self.http.build_request("GET", urljoin(self.server + "/", url))
        if _origin(str(request.url)) != _origin(self.server):
            raise ApiError(_("The server linked to another site: %(url)s") % {"url": url})
        response = self.send(request, stream=True)
        try:
            if not response.is_success:
                response.read()
                raise error_for(response)
            if start is not None:
                start(int(response.headers.get("Content-Length", "0")))
            digest = hashlib.sha256()
            partial = destination.with_name(destination.name + ".part")
            with partial.open("wb") as f:
                for chunk in response.iter_bytes():
                    f.write(chunk)
                    digest.update(chunk)
                    if advance is not None:
                        advance(len(chunk))
            partial.replace(destination)
            return digest.hexdigest()
        except httpx.TransportError as exc:
            raise Unreachable(
                _("The download from %(server)s broke off (%(error)s).")
                % {"server": self.server, "error": type(exc).__name__}
            ) from exc
        finally:
            response.close()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def filename_from(disposition: str) -> str | None:
    """The file name of a Content-Disposition header (filename*=UTF-8'' preferred), if safe."""
    from email.message import Message

    message = Message()
    message["Content-Disposition"] = disposition
    name = message.get_filename()
    if not name:
        return None
    name = Path(name.replace("\\", "/")).name  # never a path: only the last part
    return name if name not in ("", ".", "..") else None
