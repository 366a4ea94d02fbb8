"""Where the client keeps its token and outbox: $XDG_CONFIG_HOME/ottoman-ocr (0700), files 0600.

The token is a password: it is kept per server, so a token is only ever sent to the server that
issued it, and it is written through a fresh 0600 file renamed into place, so no other user can
read it even for a moment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SERVER = "http://127.0.0.1:8000"
SERVER_ENV = "OTTOMAN_OCR_SERVER"


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/ottoman-ocr, or ~/.config/ottoman-ocr when that is unset or relative."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "ottoman-ocr"


def normalize_server(url: str) -> str:
    """The server's base URL as stored and compared: scheme and host, no trailing slash."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    return url.rstrip("/")


def ensure_private_dir(path: Path) -> Path:
    """Create the folder as 0700 (and make an existing one 0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Replace the file's content atomically with a new file that is 0600 from its creation."""
    ensure_private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o600)  # the umask may have taken bits away, never added any
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@dataclass
class Credentials:
    token: str
    email: str = ""
    token_id: int | None = None


@dataclass
class Config:
    """The config file: the server last signed in to, and a token per server."""

    path: Path
    default_server: str | None = None
    tokens: dict[str, Credentials] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path | None = None) -> Config:
        path = (directory or config_dir()) / "config.json"
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path=path)
        tokens = {
            server: Credentials(
                token=str(entry["token"]),
                email=str(entry.get("email", "")),
                token_id=entry.get("token_id"),
            )
            for server, entry in raw.get("tokens", {}).items()
        }
        return cls(path=path, default_server=raw.get("default_server"), tokens=tokens)

    def save(self) -> None:
        data = {
            "default_server": self.default_server,
            "tokens": {
                server: {"token": c.token, "email": c.email, "token_id": c.token_id}
                for server, c in self.tokens.items()
            },
        }
        write_private(self.path, json.dumps(data, indent=2).encode("utf-8"))

    def server(self, option: str | None = None, environ: Mapping[str, str] | None = None) -> str:
        """The server to talk to: --server, else $OTTOMAN_OCR_SERVER, else the last one used."""
        environ = os.environ if environ is None else environ
        chosen = option or environ.get(SERVER_ENV) or self.default_server or DEFAULT_SERVER
        return normalize_server(chosen)

    def credentials(self, server: str) -> Credentials | None:
        return self.tokens.get(normalize_server(server))

    def remember(self, server: str, credentials: Credentials) -> None:
        server = normalize_server(server)
        self.tokens[server] = credentials
        self.default_server = server
        self.save()

    def forget(self, server: str) -> None:
        self.tokens.pop(normalize_server(server), None)
        self.save()
