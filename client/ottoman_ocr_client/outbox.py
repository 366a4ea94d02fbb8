"""Labels waiting to reach the server: a JSON-lines file, so none is lost and none counts twice.

Every submit or skip is written here before it is sent, and removed only once the server
answered it: 2xx (stored), or a 4xx that sending again cannot change (400 refused text, 404,
409 lease gone). A failure to connect, a timeout, 5xx, 401 (sign in again) and 429 (later)
keep it for the next flush. An answer lost on the way back leaves the entry in the file, and
the resend is harmless because the API's submit is idempotent per assignment (a repeated
submit of the same lease answers 200 and stores nothing new).

One flush at a time: the whole read-send-rewrite holds an exclusive lock on a lock file, so a
timer and a second window never send the same entry at the same moment.
"""

from __future__ import annotations

import fcntl
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ottoman_ocr_client.api import Answer, ApiClient, ApiError, Unreachable
from ottoman_ocr_client.config import normalize_server, write_private

Action = Literal["submit", "skip"]

# Answers after which sending again could succeed: keep the entry.
RETRY_STATUSES = frozenset({401, 408, 425, 429})


@dataclass(frozen=True)
class Pending:
    """One submit or skip of one assignment on one server."""

    server: str
    assignment: int
    action: Action
    body: dict[str, Any]
    line: int | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Pending:
        return cls(
            server=str(raw["server"]),
            assignment=int(raw["assignment"]),
            action="skip" if raw["action"] == "skip" else "submit",
            body=dict(raw["body"]),
            line=raw.get("line"),
            key=str(raw["key"]),
            created_at=float(raw["created_at"]),
        )

    @property
    def path(self) -> str:
        return f"queue/{self.assignment}/{self.action}/"


@dataclass(frozen=True)
class Outcome:
    """What became of one entry in a flush. `answer` is None when nothing came back."""

    pending: Pending
    answer: Answer | None
    kept: bool
    error: str = ""

    @property
    def stored(self) -> bool:
        return self.answer is not None and 200 <= self.answer.status < 300


def should_keep(status: int) -> bool:
    """Whether an entry answered with this status must be sent again later."""
    return status >= 500 or status in RETRY_STATUSES


Send = Callable[[Pending], Answer]


def sender(api: ApiClient) -> Send:
    """Send an entry through this client (raises Unreachable when nothing comes back)."""

    def send(pending: Pending) -> Answer:
        return api.answer("POST", pending.path, json=pending.body)

    return send


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # The folder is the private config folder; the lock file is created 0600 like the rest.
        if not self.lock_path.exists():
            write_private(self.lock_path, b"")
        with self.lock_path.open("rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> list[Pending]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            if not line.strip():
                continue
            try:
                entries.append(Pending.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                # A line cut by a crash mid-write (the file is rewritten atomically, so only an
                # old client could leave one) cannot be sent; keeping it would block nothing.
                continue
        return entries

    def _write(self, entries: list[Pending]) -> None:
        text = "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in entries)
        write_private(self.path, text.encode("utf-8"))

    def pending(self, server: str | None = None) -> list[Pending]:
        with self._locked():
            entries = self._read()
        if server is None:
            return entries
        server = normalize_server(server)
        return [e for e in entries if e.server == server]

    def add(self, pending: Pending) -> None:
        """Keep an entry; a second entry for the same assignment and action replaces nothing.

        Only the first submit of an assignment counts on the server, so a later one for the
        same assignment is dropped here too rather than sent to be ignored.
        """
        with self._locked():
            entries = self._read()
            if any(
                e.server == pending.server and e.assignment == pending.assignment for e in entries
            ):
                return
            entries.append(pending)
            self._write(entries)

    def flush(self, server: str, send: Send) -> list[Outcome]:
        """Send this server's entries in order; stop at the first one that got no answer."""
        server = normalize_server(server)
        outcomes: list[Outcome] = []
        with self._locked():
            entries = self._read()
            keep: list[Pending] = []
            reachable = True
            for index, entry in enumerate(entries):
                if entry.server != server or not reachable:
                    keep.append(entry)
                    continue
                try:
                    answer = send(entry)
                except Unreachable as exc:
                    reachable = False
                    keep.append(entry)
                    outcomes.append(Outcome(entry, None, kept=True, error=exc.message))
                    continue
                except ApiError as exc:
                    keep.append(entry)
                    outcomes.append(Outcome(entry, None, kept=True, error=exc.message))
                    continue
                kept = should_keep(answer.status)
                if kept:
                    keep.append(entry)
                outcomes.append(Outcome(entry, answer, kept=kept))
                # Rewrite after every answer: a crash mid-flush must not resend the answered.
                self._write(keep + entries[index + 1 :])
            self._write(keep)
        return outcomes
