"""The desktop labeling client, offscreen, against a live server: sign in, label with the
on-screen keyboard and the Latin keys, skip, and a submit cut off on its way that is kept,
sent again and counted once."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip(
    "PySide6.QtWidgets",
    reason="PySide6-Essentials is not installed (pip install -e client[desktop])",
)

from ottoman_ocr_client.api import ApiClient
from ottoman_ocr_client.config import Config
from ottoman_ocr_client.desktop import LabelWindow, SignInDialog
from ottoman_ocr_client.outbox import Outbox
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytest_django import Settings

from accounts.models import User
from api.tokens import create_token
from labeling.models import Assignment, AssignmentState, Line, Transcription
from tests.client.conftest import closed_port
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def qapp() -> QApplication:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    return app


@pytest.fixture
def labeler(make_user: Callable[..., User]) -> User:
    return make_user("labeler@example.org")


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "config" / "ottoman-ocr" / "outbox.jsonl")


@pytest.fixture
def open_window(qapp: QApplication) -> Iterator[Callable[[ApiClient, Outbox], LabelWindow]]:
    windows: list[LabelWindow] = []

    def open_(api: ApiClient, outbox: Outbox) -> LabelWindow:
        window = LabelWindow(api, outbox)
        window.resize(900, 600)
        window.show()
        windows.append(window)
        window.start()
        return window

    yield open_
    for window in windows:
        window.timer.stop()
        window.close()
        window.api.close()


def wait_until(condition: Callable[[], bool], *, seconds: float) -> None:
    """Run Qt's event loop (timers fire) until the condition holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        QTest.qWait(20)


def token_for(user: User) -> str:
    _token, key = create_token(user=user, name="desktop test")
    return key


def test_sign_in_keeps_the_token_and_a_wrong_password_is_said(
    api_server: str, qapp: QApplication, labeler: User, tmp_path: Path
) -> None:
    config = Config.load(tmp_path / "config")
    dialog = SignInDialog(config, api_server)
    dialog.email.setText(labeler.email)
    dialog.password.setText("wrong password")
    assert dialog.sign_in() is False
    assert "not correct" in dialog.message.text()
    dialog.password.setText(PASSWORD)
    assert dialog.sign_in() is True
    credentials = Config.load(tmp_path / "config").credentials(api_server)
    assert credentials is not None
    with ApiClient(api_server, credentials.token) as api:
        assert api.me()["email"] == labeler.email


def test_a_line_is_typed_on_the_screen_keyboard_and_with_latin_keys(
    api_server: str,
    labeler: User,
    pool_lines: Callable[..., list[Line]],
    outbox: Outbox,
    open_window: Callable[[ApiClient, Outbox], LabelWindow],
    settings: Settings,
) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0
    first, second = pool_lines((10.0, 20.0), prediction="كتاب", blind_share=0.0)
    token = token_for(labeler)
    window = open_window(ApiClient(api_server, token), outbox)

    assert window.prediction.text() == "كتاب"
    assert window.editor.text() == "كتاب"
    # The crop shown is the server's crop of this line (the box and a margin).
    with ApiClient(api_server, token) as api:
        assert window.lease is not None
        served = Image.open(io.BytesIO(api.image(window.lease["line"]["crop"])))
    pixmap = window.crop.pixmap()
    assert (pixmap.width(), pixmap.height()) == served.size
    assert served.width >= first.width
    assert window.editor.layoutDirection() == Qt.LayoutDirection.RightToLeft

    # Clear, type ك on the screen keyboard, switch to Latin keys with Alt+K, type "itab".
    window.editor.clear()
    window.keyboard.buttons["ك"].click()
    window.activateWindow()
    QTest.qWaitForWindowActive(window)
    QTest.keyClick(window.editor, Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)
    assert window.latin_toggle.isChecked()
    QTest.keyClicks(window.editor, "itab")
    QTest.keyClick(window.editor, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(window.editor, "1")
    assert window.editor.text() == "كیتاب\u200c١"
    window.keyboard.buttons["backspace"].click()
    window.keyboard.buttons["backspace"].click()
    QTest.keyClick(window.editor, Qt.Key.Key_Return)

    label = Transcription.objects.get(line=first, user=labeler)
    assert label.text == "كیتاب"
    assert window.progress.text() == "Lines done this session: 1"
    assert window.lease is not None and window.lease["line"]["id"] == second.pk

    window.skip_reason.setCurrentIndex(window.skip_reason.findData("bad_crop"))
    window.skip_button.click()
    skipped = Assignment.objects.get(line=second, user=labeler)
    assert (skipped.state, skipped.skip_reason) == (AssignmentState.SKIPPED, "bad_crop")
    assert window.lease is None
    assert "Nothing left to label" in window.message.text()
    assert outbox.pending() == []


def test_arabic_is_shaped_and_set_right_to_left(
    api_server: str,
    labeler: User,
    pool_lines: Callable[..., list[Line]],
    outbox: Outbox,
    open_window: Callable[[ApiClient, Outbox], LabelWindow],
    settings: Settings,
) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0
    pool_lines((10.0,), prediction="كتاب", blind_share=0.0)
    window = open_window(ApiClient(api_server, token_for(labeler)), outbox)
    metrics = QFontMetrics(window.editor.font())
    # Joined letters take less room than the same letters alone: the text is shaped.
    assert metrics.horizontalAdvance("كتاب") < sum(metrics.horizontalAdvance(c) for c in "كتاب")
    # The short word's ink sits at the right end of the wide editor and of the reading.
    for widget in (window.editor, window.prediction):
        columns = ink_columns(widget)
        assert columns, "no text drawn"
        assert min(columns) > widget.width() // 2, widget


def ink_columns(widget: QWidget) -> list[int]:
    """The x of every dark pixel inside the widget (its frame left out)."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    background = QColor(image.pixel(image.width() // 2, 2)).lightness()
    return [
        x
        for x in range(10, image.width() - 10)
        for y in range(image.height() // 4, 3 * image.height() // 4)
        if QColor(image.pixel(x, y)).lightness() < background - 100
    ]


class CuttableProxy:
    """A TCP relay to the live server that can drop the server's answers or stop listening,
    as a network does that fails between a request and its answer."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.port = closed_port()
        self.drop_answers = False
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        # shutdown() first: close() alone does not wake a thread blocked in accept() or
        # recv(), and the socket would go on listening or relaying.
        assert self.listener is not None
        for s in [self.listener, *self.connections]:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.connections += [client, server]
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                if answers and self.drop_answers:
                    break  # the server answered; the answer is lost on the way
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def test_a_submit_whose_answer_is_lost_is_kept_resent_and_counted_once(
    api_server: str,
    labeler: User,
    pool_lines: Callable[..., list[Line]],
    outbox: Outbox,
    open_window: Callable[[ApiClient, Outbox], LabelWindow],
    settings: Settings,
) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0
    first, second = pool_lines((10.0, 20.0), prediction="كتاب", blind_share=0.0)
    proxy = CuttableProxy(api_server)
    proxy.start()
    token = token_for(labeler)
    window = open_window(ApiClient(proxy.url, token), outbox)
    assert window.lease is not None and window.lease["line"]["id"] == first.pk

    # The server stores the label, but its answer never arrives.
    proxy.drop_answers = True
    window.editor.setText("كتاب")
    window.submit()
    assert Transcription.objects.filter(line=first, user=labeler).count() == 1
    [kept] = outbox.pending()
    assert (kept.assignment, kept.body["text"]) == (window_assignment(first, labeler), "كتاب")
    assert "kept and will be sent" in window.message.text()
    assert window.progress.text() == "Lines done this session: 1 · waiting to be sent: 1"

    # Then the server is away altogether: the next try keeps it too.
    proxy.stop()
    window.retry()
    assert "Connection refused" in window.message.text()
    assert len(outbox.pending()) == 1

    # The client is closed and started again once the server is back: it sends the kept
    # label first, and the server counts it once.
    window.timer.stop()
    window.close()
    proxy.drop_answers = False
    proxy.start()
    again = open_window(ApiClient(proxy.url, token), Outbox(outbox.path))
    assert outbox.pending() == []
    assert Transcription.objects.filter(line=first, user=labeler).count() == 1
    first.refresh_from_db()
    assert first.label_count == 1
    assert again.lease is not None and again.lease["line"]["id"] == second.pk
    proxy.stop()


def window_assignment(line: Line, user: User) -> int:
    return int(Assignment.objects.get(line=line, user=user).pk)


def test_a_submit_made_while_the_server_is_away_is_sent_by_the_timer(
    api_server: str,
    labeler: User,
    pool_lines: Callable[..., list[Line]],
    outbox: Outbox,
    open_window: Callable[[ApiClient, Outbox], LabelWindow],
    settings: Settings,
) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0
    first, second = pool_lines((10.0, 20.0), prediction="كتاب", blind_share=0.0)
    proxy = CuttableProxy(api_server)
    proxy.start()
    window = open_window(ApiClient(proxy.url, token_for(labeler)), outbox)
    window.timer.stop()
    proxy.stop()

    window.editor.setText("كتابلر")
    QTest.keyClick(window.editor, Qt.Key.Key_Return)
    assert not Transcription.objects.filter(line=first).exists()
    assert [e.body["text"] for e in outbox.pending()] == ["كتابلر"]
    assert window.lease is None  # no next line while the server is away
    assert "Connection refused" in window.message.text()

    proxy.start()
    window.timer.setInterval(50)
    window.timer.start()
    wait_until(lambda: window.lease is not None, seconds=10)
    assert outbox.pending() == []
    assert list(Transcription.objects.filter(line=first).values_list("text", flat=True)) == [
        "كتابلر"
    ]
    assert window.lease is not None and window.lease["line"]["id"] == second.pk
    assert window.progress.text() == "Lines done this session: 1"
    proxy.stop()
