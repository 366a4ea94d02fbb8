"""Zips written while they are sent: a stream that hands over what was written so far."""

from __future__ import annotations


class Sink:
    """A write-only stream that hands over what was written since the last `take`, so a
    `zipfile.ZipFile` writing into it can be streamed to the client one entry at a time."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data
