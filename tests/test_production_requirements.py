"""What a production install from requirements.txt can import: the brokers the README names.

The dev venv holds more than production does (pytest brings `packaging`, for one), so a plain
import here proves nothing. These tests work out which distributions requirements.txt installs
(each requirement's own requirements, with their extras and markers, recursively) and run the
import in a child process that refuses every top-level module belonging only to the other
installed distributions, as a fresh `pip install -r requirements.txt` would lack them.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

# Run in the child: refuse modules outside the production closure, then run the given code.
GUARD = """
import importlib.abc, importlib.metadata, json, re, sys

def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()

production = set(json.loads(sys.argv[1]))
owners = importlib.metadata.packages_distributions()
dev_only = {
    top: dists for top, dists in owners.items()
    if not any(canonical(dist) in production for dist in dists)
}

class RefuseDevOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in dev_only:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: only {', '.join(dev_only[top])} installs it, "
                "and requirements.txt does not",
                name=fullname,
            )
        return None

for name in [m for m in sys.modules if m.partition(".")[0] in dev_only]:
    del sys.modules[name]
sys.meta_path.insert(0, RefuseDevOnly())
exec(compile(sys.argv[2], "<production import>", "exec"))
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def production_closure(requirements: Path) -> set[str]:
    """Canonical names of the distributions `pip install -r requirements` installs here."""
    pending: list[Requirement] = []
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            pending.append(Requirement(line))
    closure: dict[str, set[str]] = {}  # distribution -> extras asked for
    while pending:
        requirement = pending.pop()
        name = canonical(requirement.name)
        extras = {canonical(extra) for extra in requirement.extras}
        if name in closure and extras <= closure[name]:
            continue
        closure[name] = closure.get(name, set()) | extras
        for spec in importlib.metadata.requires(name) or []:
            needed = Requirement(spec)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in ("", *closure[name])
            ):
                pending.append(needed)
    return set(closure)


def import_as_in_production(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    closure = production_closure(ROOT / "requirements.txt")
    return subprocess.run(
        [sys.executable, "-c", GUARD, json.dumps(sorted(closure)), code],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
            "PYTHONPATH": str(ROOT),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_guard_refuses_what_only_the_dev_tools_install() -> None:
    closure = production_closure(ROOT / "requirements.txt")
    assert {"django", "celery", "kombu", "amqp", "vine"} <= closure
    assert "pytest" not in closure and "mypy" not in closure
    done = import_as_in_production("import pytest")
    assert done.returncode != 0
    assert "No module named 'pytest': only pytest installs it" in done.stderr


REDIS_IMPORT = """
from kombu import Connection
import kombu.transport.redis
transport = Connection("redis://127.0.0.1:6379/0").transport
assert type(transport).__module__ == "kombu.transport.redis", type(transport)
"""

# The production settings and the Celery app with every task module, as the worker starts.
CELERY_APP = """
import django
django.setup()
from ottoman_ocr.celery import app
app.loader.import_default_modules()
with app.connection_for_write() as connection:
    print(type(connection.transport).__module__)
"""


def test_a_production_install_imports_kombus_redis_transport() -> None:
    done = import_as_in_production(REDIS_IMPORT)
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_production_install_starts_the_celery_app_on_a_redis_broker(tmp_path: Path) -> None:
    done = import_as_in_production(
        CELERY_APP,
        DJANGO_SETTINGS_MODULE="ottoman_ocr.settings",
        DJANGO_SECRET_KEY="production-import-test-" + "x" * 40,
        OTTOMAN_VAR_DIR=str(tmp_path),
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["kombu.transport.redis"]


def test_a_production_install_starts_the_celery_app_on_a_rabbitmq_broker(tmp_path: Path) -> None:
    done = import_as_in_production(
        CELERY_APP,
        DJANGO_SETTINGS_MODULE="ottoman_ocr.settings",
        DJANGO_SECRET_KEY="production-import-test-" + "x" * 40,
        OTTOMAN_VAR_DIR=str(tmp_path),
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["kombu.transport.pyamqp"]


@pytest.mark.parametrize(
    ("variable", "transport"),
    [("TEST_CELERY_BROKER_URL", "redis"), ("TEST_AMQP_BROKER_URL", "pyamqp")],
)
def test_a_production_install_talks_to_the_live_broker(variable: str, transport: str) -> None:
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"needs {variable} (make test sets it when the broker answers here)")
    code = f"""
from kombu import Connection
with Connection({url!r}, connect_timeout=5) as connection:
    connection.ensure_connection(max_retries=2)
    queue = connection.SimpleQueue("production-import-test")
    queue.put({{"hello": "broker"}})
    message = queue.get(timeout=5)
    message.ack()
    queue.close()
    queue.queue(connection.default_channel).delete()
    print(type(connection.transport).__module__, message.payload["hello"])
"""
    done = import_as_in_production(code)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == [f"kombu.transport.{transport}", "broker"]
