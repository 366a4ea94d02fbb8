"""The outbox keeps every label until the server answered it, and sends each once at a time.

These tests drive it with plain send functions standing for the server's answers; the tests
against a live server (test_desktop.py, test_cli.py) cut the real connection.
"""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest
from ottoman_ocr_client.api import Answer, Unreachable
from ottoman_ocr_client.outbox import Outbox, Pending

SERVER = "http://ocr.example"


def entry(assignment: int, server: str = SERVER, action: str = "submit") -> Pending:
    return Pending(
        server=server,
        assignment=assignment,
        action="skip" if action == "skip" else "submit",
        body={"text": f"متن {assignment}"},
        line=assignment * 10,
    )


def answering(status: int, sent: list[int] | None = None):  # type: ignore[no-untyped-def]
    def send(pending: Pending) -> Answer:
        if sent is not None:
            sent.append(pending.assignment)
        return Answer(status=status, body={})

    return send


def unreachable(pending: Pending) -> Answer:
    raise Unreachable("connection refused")


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "ottoman-ocr" / "outbox.jsonl")


def test_a_label_stays_while_the_server_cannot_be_reached(outbox: Outbox) -> None:
    outbox.add(entry(1))
    outcomes = outbox.flush(SERVER, unreachable)
    assert [(o.kept, o.answer, o.error) for o in outcomes] == [(True, None, "connection refused")]
    assert [e.assignment for e in outbox.pending()] == [1]
    assert stat.S_IMODE(outbox.path.stat().st_mode) == 0o600


def test_a_kept_label_survives_a_restart_with_its_text(outbox: Outbox) -> None:
    kept = entry(1)
    outbox.add(kept)
    assert Outbox(outbox.path).pending(SERVER) == [kept]


@pytest.mark.parametrize("status", [200, 201, 400, 403, 404, 409])
def test_an_answered_label_leaves_the_outbox(outbox: Outbox, status: int) -> None:
    outbox.add(entry(1))
    [outcome] = outbox.flush(SERVER, answering(status))
    assert not outcome.kept
    assert outcome.stored == (status < 300)
    assert outbox.pending() == []


@pytest.mark.parametrize("status", [401, 429, 500, 502, 503])
def test_a_label_answered_with_a_passing_trouble_stays(outbox: Outbox, status: int) -> None:
    outbox.add(entry(1))
    [outcome] = outbox.flush(SERVER, answering(status))
    assert outcome.kept
    assert [e.assignment for e in outbox.pending()] == [1]


def test_it_sends_in_order_and_stops_at_the_first_label_without_an_answer(outbox: Outbox) -> None:
    for assignment in (1, 2, 3):
        outbox.add(entry(assignment))
    sent: list[int] = []

    def send(pending: Pending) -> Answer:
        sent.append(pending.assignment)
        if pending.assignment == 2:
            raise Unreachable("gone")
        return Answer(200, {})

    outcomes = outbox.flush(SERVER, send)
    assert sent == [1, 2]  # 3 is not tried against a server that just went away
    assert [(o.pending.assignment, o.kept) for o in outcomes] == [(1, False), (2, True)]
    assert [e.assignment for e in outbox.pending()] == [2, 3]
    sent.clear()
    outbox.flush(SERVER, answering(200, sent))
    assert sent == [2, 3]
    assert outbox.pending() == []


def test_labels_for_another_server_are_left_alone(outbox: Outbox) -> None:
    outbox.add(entry(1, server="http://other.example"))
    outbox.add(entry(2))
    sent: list[int] = []
    outbox.flush(SERVER, answering(200, sent))
    assert sent == [2]
    assert [e.server for e in outbox.pending()] == ["http://other.example"]


def test_a_second_label_for_the_same_lease_is_not_queued(outbox: Outbox) -> None:
    outbox.add(entry(1))
    outbox.add(entry(1, action="skip"))
    assert [(e.assignment, e.action) for e in outbox.pending()] == [(1, "submit")]


def test_two_flushes_at_once_send_each_label_once(outbox: Outbox) -> None:
    for assignment in range(1, 6):
        outbox.add(entry(assignment))
    sent: list[int] = []
    lock = threading.Lock()

    def slow(pending: Pending) -> Answer:
        time.sleep(0.02)  # long enough for the other thread to try while this one sends
        with lock:
            sent.append(pending.assignment)
        return Answer(200, {})

    threads = [
        threading.Thread(target=Outbox(outbox.path).flush, args=(SERVER, slow)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sent) == [1, 2, 3, 4, 5]
    assert outbox.pending() == []


def test_an_answered_label_is_not_sent_again_after_a_crash_mid_flush(outbox: Outbox) -> None:
    outbox.add(entry(1))
    outbox.add(entry(2))

    def crash_on_second(pending: Pending) -> Answer:
        if pending.assignment == 2:
            raise KeyboardInterrupt  # the process dies while waiting for the second answer
        return Answer(200, {})

    with pytest.raises(KeyboardInterrupt):
        outbox.flush(SERVER, crash_on_second)
    assert [e.assignment for e in outbox.pending()] == [2]


def test_a_damaged_line_does_not_block_the_others(outbox: Outbox) -> None:
    outbox.add(entry(1))
    with outbox.path.open("a", encoding="utf-8") as f:
        f.write('{"server": "http://ocr.exa\n')
    sent: list[int] = []
    outbox.flush(SERVER, answering(200, sent))
    assert sent == [1]
