"""The desktop labeling client (PySide6): sign in, label queue lines one by one, offline-tolerant.

Every submit and skip goes through the outbox (outbox.py) before it is sent, so a label typed
while the server is away is kept on disk and sent again on the next start or timer tick; the
API's submit is idempotent per assignment, so a label whose answer was lost counts once.

Requests are made on the GUI thread with short connect timeouts (api.CONNECT_TIMEOUT): a
labeling client sends one small request at a time, and the window says what it is waiting for.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ottoman_ocr_client import keymap
from ottoman_ocr_client.api import ApiClient, ApiError, Unreachable, error_for
from ottoman_ocr_client.config import Config, Credentials, config_dir
from ottoman_ocr_client.i18n import _
from ottoman_ocr_client.outbox import Outbox, Outcome, Pending, sender

OTTOMAN_FONTS = [
    "Amiri",
    "Scheherazade New",
    "Scheherazade",
    "Noto Naskh Arabic",
    "Noto Sans Arabic",
]
RETRY_MS = 15_000
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute
SKIP_REASONS = [
    ("illegible", _("Illegible")),
    ("not_ottoman", _("Not Ottoman Turkish")),
    ("bad_crop", _("Bad crop (the image is not one whole line)")),
    ("other", _("Other")),
]


def ottoman_font(points: int) -> QFont:
    font = QFont()
    font.setFamilies(OTTOMAN_FONTS)
    font.setPointSize(points)
    return font


class SignInDialog(QDialog):
    """Server, e-mail and password; on success the token is kept in the config (0600)."""

    def __init__(self, config: Config, server: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Sign in"))
        self.config = config
        self.credentials: Credentials | None = None
        self.server = QLineEdit(server)
        self.email = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow(_("Server"), self.server)
        form.addRow(_("E-mail address"), self.email)
        form.addRow(_("Password"), self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.sign_in)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def sign_in(self) -> bool:
        """Ask the server for a token; keep it and close, or say why not and stay open."""
        server = self.server.text()
        try:
            with ApiClient(server) as api:
                answer = api.login(
                    email=self.email.text(),
                    password=self.password.text(),
                    name=_("ottoman-ocr desktop"),
                )
                server = api.server
        except ApiError as exc:
            self.message.setText(exc.describe())
            return False
        self.credentials = Credentials(
            token=str(answer["token"]), email=self.email.text(), token_id=answer.get("id")
        )
        self.config.remember(server, self.credentials)
        self.server.setText(server)
        self.accept()
        return True


class OttomanKeyboard(QWidget):
    """The on-screen keyboard built from keyboard.json's layout rows."""

    typed = Signal(str)
    backspace = Signal()

    def __init__(self, parent: QWidget | None = None, columns: int = 14) -> None:
        super().__init__(parent)
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout(self)
        grid.setSpacing(2)
        row = 0
        for _name, keys in keymap.layout():
            column = 0
            for key in keys:
                if column + key.wide > columns:
                    row, column = row + 1, 0
                button = QPushButton(key.label)
                button.setFont(ottoman_font(16))
                button.setToolTip(key.name)
                button.setAccessibleName(key.name)
                # The editor keeps the focus, so typing on the screen and on the keys mix.
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                if key.action == "backspace":
                    button.clicked.connect(self.backspace.emit)
                    self.buttons["backspace"] = button
                elif key.char is not None:
                    char = key.char
                    button.clicked.connect(lambda _checked=False, c=char: self.typed.emit(c))
                    self.buttons[char] = button
                grid.addWidget(button, row, column, 1, key.wide)
                column += key.wide
            row += 1
        # Keys run right to left, as the letters do.
        self.setLayoutDirection(Qt.LayoutDirection.RightToLeft)


class LatinKeys(QObject):
    """With the toggle on, typed Latin keys become Ottoman letters through the site's map."""

    def __init__(self, editor: QLineEdit) -> None:
        super().__init__(editor)
        self.editor = editor
        self.enabled = False
        editor.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.enabled or event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        modifiers = event.modifiers()
        if modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False  # shortcuts (Alt+K, Ctrl+A, …) stay shortcuts
        if event.key() == Qt.Key.Key_Space and modifiers & Qt.KeyboardModifier.ShiftModifier:
            text = keymap.chord("Shift+Space")
        else:
            text = keymap.latin_key(event.text()) if event.text() else None
        if text is None:
            return False
        self.editor.insert(text)
        return True


class LabelWindow(QWidget):
    """One queue line at a time: its crop, the prediction, the editor, submit or skip."""

    def __init__(self, api: ApiClient, outbox: Outbox, *, document: int | None = None) -> None:
        super().__init__()
        self.api = api
        self.outbox = outbox
        self.document = document
        self.lease: dict[str, Any] | None = None
        self.started = time.monotonic()
        self.done = 0
        self.setWindowTitle(_("Ottoman OCR — labeling"))

        self.title = QLabel()
        self.crop = QLabel()
        self.crop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.crop.setMinimumHeight(80)
        self.prediction = QLabel()
        self.prediction.setTextFormat(Qt.TextFormat.PlainText)
        self.prediction.setFont(ottoman_font(20))
        self.prediction.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        # AlignRight alone is mirrored to the left under RightToLeft: Absolute keeps it right.
        self.prediction.setAlignment(RIGHT | Qt.AlignmentFlag.AlignVCenter)
        self.prediction.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.editor = QLineEdit()
        self.editor.setFont(ottoman_font(20))
        self.editor.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.editor.setAlignment(RIGHT)
        self.editor.setAccessibleName(_("Your reading of the line"))
        self.editor.returnPressed.connect(self.submit)
        self.latin = LatinKeys(self.editor)
        self.keyboard = OttomanKeyboard()
        self.keyboard.typed.connect(self._type)
        self.keyboard.backspace.connect(self.editor.backspace)
        self.latin_toggle = QPushButton(_("Latin keys (%(shortcut)s)") % {"shortcut": "Alt+K"})
        self.latin_toggle.setCheckable(True)
        self.latin_toggle.toggled.connect(self._set_latin)
        self.toggle_shortcut = QShortcut(QKeySequence(keymap.shortcut()), self)
        self.toggle_shortcut.activated.connect(self.latin_toggle.toggle)
        self.allow_latin = QCheckBox(_("Send it anyway (the text is not in Arabic script)"))
        self.allow_latin.hide()
        self.submit_button = QPushButton(_("Submit (Enter)"))
        self.submit_button.clicked.connect(self.submit)
        self.skip_reason = QComboBox()
        for value, label in SKIP_REASONS:
            self.skip_reason.addItem(label, value)
        self.skip_button = QPushButton(_("Skip"))
        self.skip_button.clicked.connect(self.skip)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.progress = QLabel()

        actions = QHBoxLayout()
        actions.addWidget(self.latin_toggle)
        actions.addStretch()
        actions.addWidget(self.skip_reason)
        actions.addWidget(self.skip_button)
        actions.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.crop)
        layout.addWidget(self.prediction)
        layout.addWidget(self.editor)
        layout.addWidget(self.allow_latin)
        layout.addWidget(self.keyboard)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)

        self.timer = QTimer(self)
        self.timer.setInterval(RETRY_MS)
        self.timer.timeout.connect(self.retry)

    # Start and retry.

    def start(self) -> None:
        """Send what the outbox kept from before, then take a line; retry on a timer."""
        self.flush()
        self.load_next()
        self.timer.start()

    def retry(self) -> None:
        self.flush()
        if self.lease is None:
            self.load_next()

    def flush(self) -> list[Outcome]:
        outcomes = self.outbox.flush(self.api.server, sender(self.api))
        self._show_progress()
        return outcomes

    def load_next(self) -> None:
        self.lease = None
        self._set_line_enabled(False)
        try:
            lease = self.api.next_line(self.document)
        except Unreachable as exc:
            self.message.setText(exc.message + " " + _("Trying again shortly."))
            return
        except ApiError as exc:
            self.message.setText(exc.describe())
            return
        if lease is None:
            self.title.setText("")
            self.crop.clear()
            self.prediction.clear()
            self.message.setText(_("Nothing left to label. Thank you!"))
            return
        self.lease = lease
        self.title.setText(str(lease.get("document_title") or ""))
        self._show_crop(lease)
        prediction = lease.get("prediction")
        self.prediction.setText(
            prediction if prediction is not None else _("(read it from the image)")
        )
        self.editor.setText(prediction or "")
        self.allow_latin.setChecked(False)
        self.allow_latin.hide()
        self.message.setText("")
        self.started = time.monotonic()
        self._set_line_enabled(True)
        self.editor.setFocus()

    def _show_crop(self, lease: dict[str, Any]) -> None:
        url = (lease.get("line") or {}).get("crop")
        pixmap = QPixmap()
        if url:
            try:
                pixmap.loadFromData(self.api.image(str(url)))
            except ApiError as exc:
                self.message.setText(exc.describe())
        self.crop.setPixmap(pixmap)

    # Typing.

    def _type(self, text: str) -> None:
        self.editor.insert(text)
        self.editor.setFocus()

    def _set_latin(self, on: bool) -> None:
        self.latin.enabled = on
        self.editor.setFocus()

    # Sending.

    def submit(self) -> None:
        if self.lease is None:
            return
        text = self.editor.text()
        if not text.strip() and self.lease.get("prediction") is not None:
            text = str(self.lease["prediction"])
        self._send(
            "submit",
            {
                "text": text,
                "seconds": round(time.monotonic() - self.started, 1),
                "allow_latin": self.allow_latin.isChecked(),
            },
        )

    def skip(self) -> None:
        if self.lease is not None:
            self._send("skip", {"reason": self.skip_reason.currentData()})

    def _send(self, action: str, body: dict[str, Any]) -> None:
        assert self.lease is not None
        pending = Pending(
            server=self.api.server,
            assignment=int(self.lease["assignment"]),
            action="skip" if action == "skip" else "submit",
            body=body,
            line=(self.lease.get("line") or {}).get("id"),
        )
        self.outbox.add(pending)
        outcomes = self.flush()
        # By assignment: an entry kept earlier for this lease is the one that counts.
        mine = next((o for o in outcomes if o.pending.assignment == pending.assignment), None)
        if mine is not None and mine.answer is not None and not mine.stored and not mine.kept:
            refused = error_for_outcome(mine)
            self.message.setText(refused.describe())
            if mine.answer.status == 400:
                # The lease is still ours: the person corrects the text and sends again.
                self.allow_latin.setVisible(refused.code == "latin")
                return
            self.load_next()  # 404, 409: the lease is gone; the message stays
            self.message.setText(refused.describe())
            return
        if action == "submit":
            self.done += 1
        self.load_next()
        if mine is None or mine.kept:
            # Kept on disk (no answer, 401, 429, 5xx): sent again by the timer or next start.
            why = mine.error if mine is not None and mine.answer is None else ""
            if mine is not None and mine.answer is not None:
                why = error_for_outcome(mine).describe()
            self.message.setText(
                (why + "\n" if why else "")
                + _("Your label is kept and will be sent when the server answers.")
            )
        self._show_progress()

    # Display.

    def _set_line_enabled(self, on: bool) -> None:
        for widget in (self.editor, self.submit_button, self.skip_button, self.keyboard):
            widget.setEnabled(on)

    def _show_progress(self) -> None:
        waiting = len(self.outbox.pending(self.api.server))
        text = _("Lines done this session: %(n)d") % {"n": self.done}
        if waiting:
            text += " · " + _("waiting to be sent: %(n)d") % {"n": waiting}
        self.progress.setText(text)


def error_for_outcome(outcome: Outcome) -> ApiError:
    import httpx

    if outcome.answer is None:
        return ApiError(outcome.error)
    return error_for(httpx.Response(outcome.answer.status, json=outcome.answer.body))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ottoman-ocr-desktop")
    parser.add_argument("--server")
    parser.add_argument("--document", type=int)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    config = Config.load(config_dir())
    server = config.server(args.server)
    credentials = config.credentials(server)
    if credentials is None:
        dialog = SignInDialog(config, server)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.credentials is None:
            return 3
        credentials = dialog.credentials
        server = dialog.server.text()
    api = ApiClient(server, credentials.token)
    window = LabelWindow(api, Outbox(config_dir() / "outbox.jsonl"), document=args.document)
    window.resize(900, 600)
    window.show()
    window.start()
    code = app.exec()
    api.close()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
