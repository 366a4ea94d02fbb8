"""Run the README's "Running it in production" section on one machine and show that it works.

From a clean database and with nothing but the README's environment: an S3 server (moto) and
an SMTP server (aiosmtpd) started here, a PostgreSQL database made and dropped here, Redis
databases 2 (cache) and 3 (broker), flushed first; the deploy commands; then gunicorn, an OCR
worker, a mail worker and beat, each with the README's command. Then, through real HTTP
against gunicorn as a TLS-terminating proxy passes it on (`X-Forwarded-Proto: https`, the
client's address in `X-Forwarded-For`): sign up, follow the verification link from the
e-mail, sign in, upload a rendered Ottoman page, wait for Tesseract, download the text, have
it e-mailed, and check that the scans are in the bucket and not on local disk.

    .venv/bin/python scripts/production_check.py [--keep] [--ocr-timeout SECONDS]

Prints each step, then one JSON line of figures (seconds per step). Exits 0 only when
everything worked, 2 when something it needs is missing (it says what); on failure it prints
the tail of every process's log. Every process it starts is stopped at the end, also on
failure or Ctrl+C. PostgreSQL is reached at DATABASE_URL's server (else 127.0.0.1:5432, user
postgres), Redis at REDIS_URL's server (else 127.0.0.1:6379). Runs on one machine wait for
each other (a lock file), since they share the database name and the Redis databases.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import fcntl
import hashlib
import http.cookiejar
import importlib.util
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn, celery, moto_server
DATABASE = "ottoman_production_check"
CACHE_DB, BROKER_DB = 2, 3
BUCKET = "ottoman-ocr"
SITE = "https://ocr.example.test"  # the public origin; the Browser below is its proxy
HOST = urllib.parse.urlsplit(SITE).netloc
LOCK = Path(tempfile.gettempdir()) / "ottoman-production-check.lock"
ARABIC = re.compile(r"[\u0600-\u06ff]")
T = TypeVar("T")

sys.path.insert(0, str(ROOT))


class CheckFailed(Exception):
    """Something did not do what the README promises."""


def say(text: str) -> None:
    print(text, flush=True)


@dataclass
class Figures:
    seconds: dict[str, float] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str, what: str) -> Iterator[None]:
        say(f"==> {what}")
        started = time.monotonic()
        yield
        self.seconds[name] = round(time.monotonic() - started, 2)
        say(f"    {self.seconds[name]:.2f} s")


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.3) -> T:
    """Call `check` until it returns something truthy; CheckFailed after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except OSError as exc:
            last_error, result = exc, None
        if result:
            return result
        time.sleep(every)
    detail = f" (last error: {last_error})" if last_error else ""
    raise CheckFailed(f"{what} did not happen within {timeout:.0f} s{detail}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# --- Services and processes ------------------------------------------------------------------


@dataclass(frozen=True)
class Services:
    """Where PostgreSQL and Redis are: DATABASE_URL's and REDIS_URL's servers, else local."""

    postgres: urllib.parse.SplitResult
    redis_host: str
    redis_port: int

    @classmethod
    def from_environment(cls) -> Services:
        database = urllib.parse.urlsplit(os.environ.get("DATABASE_URL", ""))
        if not database.scheme.startswith("postgres"):
            database = urllib.parse.urlsplit("postgres://postgres@127.0.0.1:5432/postgres")
        redis = urllib.parse.urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
        return cls(database, redis.hostname or "127.0.0.1", redis.port or 6379)

    def database_url(self, name: str) -> str:
        return urllib.parse.urlunsplit(self.postgres._replace(scheme="postgres", path=f"/{name}"))

    def redis_url(self, db: int) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{db}"

    def admin(self) -> Any:
        """A connection to the server's maintenance database, to create and drop ours."""
        import psycopg

        return psycopg.connect(self.database_url("postgres"), autocommit=True, connect_timeout=3)


def missing() -> list[str]:
    """What this check needs and does not find here, each said as a reason."""
    reasons = []
    services = Services.from_environment()
    try:
        with services.admin() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        where = f"{services.postgres.hostname}:{services.postgres.port or 5432}"
        reasons.append(f"PostgreSQL at {where} ({type(exc).__name__})")
    try:
        import redis

        redis.Redis.from_url(services.redis_url(0), socket_connect_timeout=2).ping()
    except Exception as exc:
        reasons.append(f"Redis at {services.redis_host}:{services.redis_port} ({exc})")
    from labeling import ocr, synthetic

    try:
        if "ara" not in ocr.installed_languages():
            reasons.append("Tesseract's Arabic data (tesseract-ocr-ara)")
    except ocr.OcrError as exc:
        reasons.append(f"Tesseract ({exc})")
    try:
        synthetic.default_font()
    except FileNotFoundError:
        reasons.append("an Arabic-script font (fonts-hosny-amiri)")
    if not (BIN / "moto_server").exists() or importlib.util.find_spec("flask") is None:
        reasons.append("moto[server] (requirements-dev.txt)")
    if importlib.util.find_spec("aiosmtpd") is None:
        reasons.append("aiosmtpd (requirements-dev.txt)")
    return reasons


@dataclass
class Process:
    """A command in its own process group, its output in a log file."""

    name: str
    command: list[str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        say(f"    $ {' '.join(self.command)}")
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        """SIGTERM to the whole group (main process and children); SIGKILL after 20 s."""
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=20)


def run_command(name: str, command: list[str], env: dict[str, str], logs: Path) -> str:
    """Run a deploy command to its end: its output, or CheckFailed."""
    say(f"    $ {' '.join(command)}")
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = result.stdout + result.stderr
    (logs / f"{name}.log").write_text(output)
    if result.returncode != 0:
        raise CheckFailed(f"{' '.join(command)} exited with status {result.returncode}")
    return output


class Inbox:
    """aiosmtpd handler: keeps every message the site's mail worker delivers."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def wait(self, subject: str, *, to: str, timeout: float) -> EmailMessage:
        def find() -> EmailMessage | None:
            with self.lock:
                return next(
                    (
                        m
                        for m in self.messages
                        if subject in str(m["Subject"]) and to in str(m["To"])
                    ),
                    None,
                )

        return wait_for(find, timeout=timeout, what=f"an e-mail “{subject}” to {to}")


# --- HTTP, as the README's reverse proxy passes it on ---------------------------------------


@dataclass
class Response:
    status: int
    headers: Any
    body: bytes
    path: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def summary(self) -> str:
        """What a person reads first: the title, form errors and messages (else the start)."""
        pattern = (
            r"<title>(.*?)</title>|<ul class=\"errorlist[^>]*>(.*?)</ul>"
            r'|<li class="message[^>]*>(.*?)</li>'
        )
        found = [
            re.sub(r"<[^>]+>|\s+", " ", chunk).strip()
            for groups in re.findall(pattern, self.text, flags=re.S)
            for chunk in groups
            if chunk
        ]
        return " | ".join(found) if found else self.text[:1500]

    def csrf_token(self) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.text)
        if not match:
            raise CheckFailed(f"no CSRF token in the form at {self.path}")
        return match.group(1)


def expect(response: Response, status: int, what: str) -> None:
    if response.status != status:
        raise CheckFailed(
            f"{what}: HTTP {response.status} (expected {status}) at {response.path}: "
            + response.summary()
        )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the Browser follows redirects itself, through its proxy


class Browser:
    """A person's browser and the README's proxy in one: the browser asks for
    https://ocr.example.test/…; the proxy passes it to gunicorn over plain http with the
    public Host, `X-Forwarded-Proto: https` and the client's address in `X-Forwarded-For`.

    The site sets Secure cookies, as it must; the browser keeps them because its own
    connection is https, so this cookie jar keeps them over the plain http hop.
    """

    def __init__(self, upstream: str, *, client_ip: str) -> None:
        self.upstream = upstream
        self.client_ip = client_ip
        policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
        self.opener = urllib.request.build_opener(
            _NoRedirects(), urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar(policy))
        )

    @staticmethod
    def _path(url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme and f"{parts.scheme}://{parts.netloc}" != SITE:
            raise CheckFailed(f"the site sent the browser to {url}, not to {SITE}")
        return urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))

    def request(
        self,
        method: str,
        url: str,
        *,
        form: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        follow: bool = True,
    ) -> Response:
        path = self._path(url)
        for _ in range(10):
            request = urllib.request.Request(self.upstream + path, method=method)
            request.add_header("Host", HOST)
            request.add_header("X-Forwarded-Proto", "https")
            request.add_header("X-Forwarded-For", self.client_ip)
            if method == "POST":
                # What a browser sends with a form over https; Django's CSRF check needs it.
                request.add_header("Origin", SITE)
                request.data, content_type = encode(form or {}, files or {})
                request.add_header("Content-Type", content_type)
            try:
                with self.opener.open(request, timeout=60) as answer:
                    response = Response(answer.status, answer.headers, answer.read(), path)
            except urllib.error.HTTPError as error:
                response = Response(error.code, error.headers, error.read(), path)
            if not (follow and response.status in (301, 302, 303, 307, 308)):
                return response
            path = self._path(urllib.parse.urljoin(SITE + path, response.headers["Location"]))
            method, form, files = "GET", None, None
        raise CheckFailed(f"more than 10 redirects from {url}")

    def get(self, url: str) -> Response:
        return self.request("GET", url)

    def submit(self, url: str, fields: dict[str, str], *, follow: bool = True) -> Response:
        """GET the form at `url`, then POST it back with these fields and its CSRF token."""
        page = self.get(url)
        expect(page, 200, f"the form at {url}")
        form = {"csrfmiddlewaretoken": page.csrf_token(), **fields}
        return self.request("POST", url, form=form, follow=follow)


def encode(form: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    if not files:
        return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    boundary = secrets.token_hex(16)
    out = io.BytesIO()
    for name, value in form.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for name, (filename, content, content_type) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# --- The check ------------------------------------------------------------------------------


@dataclass
class Run:
    """What one run started, so that everything is stopped whatever happens."""

    tmp: Path
    figures: Figures = field(default_factory=Figures)
    processes: list[Process] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.tmp / "logs"

    @property
    def var_dir(self) -> Path:
        return self.tmp / "var"

    def start(self, name: str, command: list[str], env: dict[str, str]) -> Process:
        process = Process(name, command, self.logs / f"{name}.log")
        self.processes.append(process)
        process.start(env)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception as exc:
                say(f"    clean-up failed: {exc}")

    def print_logs(self, lines: int = 40) -> None:
        for log in sorted(self.logs.glob("*.log")):
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            say(f"\n--- {log.stem}: the last {lines} lines of {log} ---\n{tail or '(empty)'}")


def production_environment(
    *, services: Services, s3_port: int, smtp_port: int, var_dir: Path
) -> dict[str, str]:
    """The README's production block, pointed at the servers started here. Every other
    variable the settings read is unset, so it takes its default, as on a fresh machine."""
    read_by_settings = {
        match.group(1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if (match := re.match(r"^([A-Z][A-Z0-9_]*)=", line))
    }
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in read_by_settings
        and not name.startswith(("DJANGO_", "CELERY_", "AWS_", "EMAIL_", "TEST_"))
    }
    return env | {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_CSRF_TRUSTED_ORIGINS": SITE,
        "SITE_URL": SITE,
        "DJANGO_BEHIND_PROXY": "true",
        "DATABASE_URL": services.database_url(DATABASE),
        "REDIS_URL": services.redis_url(CACHE_DB),
        "CELERY_BROKER_URL": services.redis_url(BROKER_DB),
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "production-check",
        "AWS_SECRET_ACCESS_KEY": secrets.token_hex(16),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "false",
        "DEFAULT_FROM_EMAIL": f"Ottoman OCR <noreply@{HOST}>",
        "OTTOMAN_VAR_DIR": str(var_dir),
    }


def s3_client(env: dict[str, str]) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["AWS_S3_ENDPOINT_URL"],
        region_name=env["AWS_S3_REGION_NAME"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def start_services(run: Run, services: Services) -> tuple[dict[str, str], Inbox]:
    """moto with the bucket, aiosmtpd, a fresh database, flushed Redis databases; the
    production environment pointing at them."""
    from aiosmtpd.controller import Controller

    s3_port, smtp_port = free_port(), free_port()
    env = production_environment(
        services=services, s3_port=s3_port, smtp_port=smtp_port, var_dir=run.var_dir
    )
    moto = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)]
    run.start("moto", moto, env)
    wait_for(lambda: answers("127.0.0.1", s3_port), timeout=30, what="moto answering")
    s3_client(env).create_bucket(Bucket=BUCKET)
    say(f"    bucket {BUCKET} at {env['AWS_S3_ENDPOINT_URL']}")

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    run.cleanups.append(controller.stop)
    say(f"    SMTP server on 127.0.0.1:{smtp_port}")

    def drop_database() -> None:
        with services.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")

    drop_database()  # left over from a run that was killed
    with services.admin() as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")
    run.cleanups.append(drop_database)
    say(f"    database {env['DATABASE_URL']}")

    import redis

    for db in (CACHE_DB, BROKER_DB):
        redis.Redis.from_url(services.redis_url(db)).flushdb()
    say(f"    Redis {env['REDIS_URL']} (cache) and {env['CELERY_BROKER_URL']} (broker), flushed")
    return env, inbox


def deploy(run: Run, env: dict[str, str]) -> None:
    """The README's deploy commands; `check --deploy` must be clean."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    run_command("migrate", [*manage, "migrate"], env, run.logs)
    run_command("collectstatic", [*manage, "collectstatic", "--no-input"], env, run.logs)
    output = run_command("check", [*manage, "check", "--deploy"], env, run.logs)
    if "no issues" not in output:
        raise CheckFailed(f"manage.py check --deploy is not clean:\n{output}")
    say(f"    {output.strip().splitlines()[-1]}")


def start_processes(run: Run, env: dict[str, str]) -> str:
    """The README's process table (gunicorn on a free port); gunicorn's address."""
    web_port = free_port()
    celery = [str(BIN / "celery"), "-A", "ottoman_ocr"]
    gunicorn = [str(BIN / "gunicorn"), "ottoman_ocr.wsgi", "--workers", "4"]
    run.start("web", [*gunicorn, "--bind", f"127.0.0.1:{web_port}"], env)
    ocr_worker = ["worker", "--queues", "ocr", "--concurrency", "2", "--hostname", "ocr@%h"]
    run.start("ocr-worker", [*celery, *ocr_worker], env)
    mail_worker = ["worker", "--queues", "default,exports", "--hostname", "mail@%h"]
    run.start("mail-worker", [*celery, *mail_worker], env)
    schedule = str(run.tmp / "celerybeat-schedule")
    run.start("beat", [*celery, "beat", "--schedule", schedule], env)
    upstream = f"http://127.0.0.1:{web_port}"
    probe = Browser(upstream, client_ip="192.0.2.1")
    wait_for(lambda: probe.get("/").status == 200, timeout=60, what="gunicorn answering")
    return upstream


def rendered_page() -> bytes:
    from labeling import synthetic

    image = synthetic.render_page(synthetic.SAMPLE_LINES[:3], width=1200)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def link_in(message: EmailMessage, path: str) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    match = re.search(re.escape(SITE + path) + r"\S+", text)
    if not match:
        raise CheckFailed(f"no link to {SITE}{path}… in the e-mail:\n{text}")
    return match.group(0)


def arabic_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if ARABIC.search(line)]


RELEASE_STATE = (
    "from labeling.models import DatasetRelease as R; import json; "
    "r = R.objects.filter(number={number}).first(); "
    "print(json.dumps(r and [r.status, r.file.name, r.sha256, r.size, r.error]))"
)


def check_release(run: Run, env: dict[str, str], inbox: Inbox, s3: Any) -> None:
    """The README's release commands against the production processes: staff imports a folder
    of line pairs, asks for a release, the mail worker builds it on the exports queue into the
    bucket, and its owner is told by e-mail. The zip in the bucket is whole: its SHA-256 is the
    row's and its pairs are the imported ones."""
    from labeling import synthetic

    manage = [sys.executable, str(ROOT / "manage.py")]
    staff = f"staff-{secrets.token_hex(3)}@example.org"
    staff_env = {**env, "DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(16)}
    run_command(
        "createsuperuser",
        [*manage, "createsuperuser", "--noinput", "--email", staff],
        staff_env,
        run.logs,
    )
    folder = run.tmp / "ground-truth"
    folder.mkdir()
    texts = synthetic.SAMPLE_LINES[:3]
    for number, text in enumerate(texts, start=1):
        synthetic.render_page([text], width=1200).save(folder / f"{number:06d}.png")
        (folder / f"{number:06d}.gt.txt").write_text(text + "\n", encoding="utf-8")
    run_command(
        "import_ground_truth",
        [
            *manage,
            "import_ground_truth",
            str(folder),
            "--title",
            "Production check pairs",
            "--license",
            "cc0-1.0",
            "--owner",
            staff,
        ],
        env,
        run.logs,
    )
    output = run_command("make_release", [*manage, "make_release", "--user", staff], env, run.logs)
    number = int(re.search(r"Release (\d+)", output).group(1))  # type: ignore[union-attr]

    def published() -> list[Any] | None:
        shell = [*manage, "shell", "-c", RELEASE_STATE.format(number=number)]
        output = run_command("release_state", shell, env, run.logs)
        # The shell also says what it imported; the state is the line printed as JSON.
        state = json.loads(
            next(line for line in output.splitlines() if line.startswith(("[", "null")))
        )
        if state and state[0] == "failed":
            raise CheckFailed(f"release {number} failed: {state[4]}")
        return state if state and state[0] == "done" else None

    _status, name, sha256, size, _error = wait_for(
        published, timeout=120, what=f"release {number} being built", every=1.0
    )
    data = s3.get_object(Bucket=BUCKET, Key=name)["Body"].read()
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise CheckFailed(f"the zip in the bucket ({name}) is not the release's file")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if archive.testzip() is not None:
            raise CheckFailed(f"the zip in the bucket ({name}) is damaged")
        got = sorted(
            archive.read(item).decode("utf-8").strip()
            for item in archive.namelist()
            if item.endswith(".gt.txt")
        )
    if got != sorted(texts):
        raise CheckFailed(f"the release holds {got}, not the imported {sorted(texts)}")
    message = inbox.wait(f"Release {number} is ready", to=staff, timeout=60)
    say(f"    {name}: {size} bytes, {len(got)} pairs; “{message['Subject']}” sent to {staff}")
    run.figures.facts.update(release_bytes=size)


def check(run: Run, ocr_timeout: float) -> None:
    step = run.figures.step
    run.logs.mkdir()
    services = Services.from_environment()
    with step("services", "S3 (moto), SMTP (aiosmtpd), a fresh database, Redis 2 and 3"):
        env, inbox = start_services(run, services)
    with step("deploy", "The deploy commands"):
        deploy(run, env)
    with step("start", "gunicorn, the OCR worker, the mail worker and beat"):
        upstream = start_processes(run, env)

    person = f"production-check-{secrets.token_hex(3)}@example.org"
    password = secrets.token_urlsafe(16)
    browser = Browser(upstream, client_ip="198.51.100.23")
    with step("sign_up", f"Sign up as {person}"):
        fields = {"email": person, "password1": password, "password2": password}
        answer = browser.submit("/accounts/signup/", fields)
        expect(answer, 200, "the page after signing up")
        if not answer.path.startswith("/accounts/confirm-email/"):
            raise CheckFailed(f"signing up ended at {answer.path}: {answer.summary()}")

    with step("verification_mail", "The verification e-mail arrives at the SMTP server"):
        link = link_in(inbox.wait("Confirm", to=person, timeout=60), "/accounts/confirm-email/")
        say(f"    {link}")

    with step("verify", "Follow the link: a form, then confirm"):
        answer = browser.submit(link, {})
        expect(answer, 200, "the page after confirming")

    with step("sign_in_limits", "Another client's failed sign-ins do not lock us out"):
        # Behind the proxy every request comes from 127.0.0.1, and allauth allows 10 failed
        # sign-ins a minute from one address: it must count the client's, or one client
        # locks everybody out.
        other = Browser(upstream, client_ip="203.0.113.7")
        token = other.get("/accounts/login/").csrf_token()

        def fail_to_sign_in(attempt: int) -> int:
            fields = {"login": f"nobody{attempt}@example.org", "password": "not the password"}
            form = {"csrfmiddlewaretoken": token, **fields}
            return other.request("POST", "/accounts/login/", form=form).status

        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(fail_to_sign_in, range(10)))
        if statuses != [200] * 10:
            raise CheckFailed(f"failed sign-ins answered {statuses}")

    with step("sign_in", "Sign in, in a fresh browser"):
        browser = Browser(upstream, client_ip="198.51.100.23")
        answer = browser.submit("/accounts/login/", {"login": person, "password": password})
        expect(answer, 200, "the page after signing in")
        if answer.path != "/documents/":
            raise CheckFailed(f"signing in ended at {answer.path}: {answer.summary()}")

    scan = rendered_page()
    with step("upload", "Upload a rendered Ottoman page"):
        upload_form = browser.get("/documents/new/")
        expect(upload_form, 200, "the upload form")
        answer = browser.request(
            "POST",
            "/documents/new/",
            form={
                "csrfmiddlewaretoken": upload_form.csrf_token(),
                "title": "Production check",
                "visibility": "private",
            },
            files={"scans": ("ottoman-page.png", scan, "image/png")},
            follow=False,
        )
        expect(answer, 302, "the upload")
        location = urllib.parse.urlsplit(answer.headers["Location"]).path
        if not (match := re.fullmatch(r"/documents/(\d+)/", location)):
            raise CheckFailed(f"the upload led to {location}, not to a document")
        document = f"/documents/{match.group(1)}/"
        say(f"    {SITE}{document}")

    with step("ocr", "Wait until Tesseract has read the page (status.json)"):

        def read() -> dict[str, Any] | None:
            status: dict[str, Any] = json.loads(browser.get(document + "status.json").body)
            if status["pages_failed"]:
                raise CheckFailed(f"a page failed: {status['page_states']}")
            done = status["pages"] and status["pages_read"] == status["pages"]
            return status if done and not status["pending"] else None

        status = wait_for(read, timeout=ocr_timeout, what="Tesseract reading the page", every=0.5)
        say(f"    {status['pages_read']} of {status['pages']} pages read, {status['lines']} lines")

    with step("download", "Download the .txt"):
        answer = browser.get(document + "text.txt")
        expect(answer, 200, "the download")
        text_lines = arabic_lines(answer.text)
        if len(text_lines) < 2:
            raise CheckFailed(f"the .txt holds fewer than 2 Arabic-script lines:\n{answer.text}")
        say(f"    {len(text_lines)} Arabic-script lines, the first: {text_lines[0]}")

    with step("email_text", "“E-mail me this document”: the .txt arrives attached"):
        page = browser.get(document)
        expect(page, 200, "the document page")
        if "E-mail me this document" not in page.text:
            raise CheckFailed("the document page has no “E-mail me this document” button")
        form = {"csrfmiddlewaretoken": page.csrf_token()}
        answer = browser.request("POST", document + "email/", form=form)
        expect(answer, 200, "the page after asking for the e-mail")
        message = inbox.wait("Production check", to=person, timeout=60)
        attached = [p for p in message.iter_attachments() if p.get_filename("").endswith(".txt")]
        if not attached or len(arabic_lines(attached[0].get_content())) < 2:
            raise CheckFailed(f"the e-mail has no .txt with Arabic-script lines:\n{message}")
        say(f"    {attached[0].get_filename()} attached to “{message['Subject']}”")

    with step("storage", "The scan and its page image are in the bucket, not on local disk"):
        s3 = s3_client(env)
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        say(f"    bucket {BUCKET}: {', '.join(keys) or 'empty'}")

        def objects(prefix: str) -> list[bytes]:
            return [
                s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                for key in keys
                if key.startswith(prefix)
            ]

        if scan not in objects("uploads/"):
            raise CheckFailed("the uploaded file is not in the bucket")
        image = browser.get(f"/pages/{next(iter(status['page_states']))}/image")
        expect(image, 200, "the page image")
        if image.body not in objects("pages/"):
            raise CheckFailed("the page image the site shows is not an object in the bucket")
        local = sorted(
            str(path.relative_to(run.var_dir))
            for path in run.var_dir.rglob("*")
            if path.is_file() and path.relative_to(run.var_dir).parts[0] != "static"
        )
        if local:
            raise CheckFailed(f"files under OTTOMAN_VAR_DIR besides static/: {', '.join(local)}")
        say(f"    OTTOMAN_VAR_DIR ({run.var_dir}) holds the collected static files only")
        run.figures.facts.update(bucket_objects=len(keys), text_lines=len(text_lines))

    with step("release", "Import ground truth; the exports worker builds a release into S3"):
        check_release(run, env, inbox, s3_client(env))

    for process in run.processes:
        if not process.running():
            raise CheckFailed(f"{process.name} stopped during the check")


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the README's production section.")
    parser.add_argument("--ocr-timeout", type=float, default=180, help="seconds (default 180)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and logs")
    args = parser.parse_args()
    if reasons := missing():
        say("The production check cannot run; missing: " + "; ".join(reasons))
        return 2

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # stop everything, as on Ctrl+C
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run on this machine finishes first
        run = Run(Path(tempfile.mkdtemp(prefix="ottoman-production-check-")))
        started, ok = time.monotonic(), False
        try:
            check(run, args.ocr_timeout)
            ok = True
        except KeyboardInterrupt:
            say("\nFAILED: interrupted")
            run.print_logs()
        except Exception as exc:
            say(f"\nFAILED: {type(exc).__name__}: {exc}")
            run.print_logs()
        finally:
            say("==> Stopping every process started here")
            run.stop()
            if args.keep:
                say(f"    kept {run.tmp}")
            else:
                shutil.rmtree(run.tmp, ignore_errors=True)
    run.figures.seconds["total"] = round(time.monotonic() - started, 2)
    say("")
    for name, seconds in run.figures.seconds.items():
        say(f"{name:>18} {seconds:7.2f} s")
    say(json.dumps({"ok": ok, "seconds": run.figures.seconds, **run.figures.facts}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
