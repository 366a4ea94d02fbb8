# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Debian packages: Tesseract with Arabic, Persian and Turkish data and the Arabic script pack,
# poppler (PDF tools), Arabic-script fonts for the demo page and tests, gettext (msgfmt compiles
# the Turkish translation in locale/).
RUN_PACKAGES := tesseract-ocr tesseract-ocr-ara tesseract-ocr-fas tesseract-ocr-tur \
	tesseract-ocr-script-arab poppler-utils fonts-hosny-amiri fonts-sil-scheherazade fonts-noto-core \
	gettext
# The desktop client's tests run Qt offscreen: its GL, EGL, keyboard and font libraries.
TEST_PACKAGES := $(RUN_PACKAGES) chromium zip unzip libegl1 libgl1 libxkbcommon0 libfontconfig1 \
	libglib2.0-0

# A local .env (see .env.example) configures `make run`.
ifneq (,$(wildcard .env))
include .env
export
endif

# What makemessages skips: installed packages, runtime files, and code that is not the site's.
MESSAGES_IGNORE := --ignore=$(VENV) --ignore=var --ignore=client --ignore=tests --ignore=bench \
	--ignore=scripts --ignore=docs

.PHONY: run test check bench messages system-packages system-packages-test clean

define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

system-packages:
	$(call install_missing,$(RUN_PACKAGES))

system-packages-test:
	$(call install_missing,$(TEST_PACKAGES))

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Start the platform on one machine: SQLite, local files, a real Celery worker on the
# filesystem broker under var/. Ctrl+C stops the web server and the worker together.
run: system-packages $(VENV)/.installed
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) manage.py compilemessages --ignore=$(VENV) --ignore=var -v 0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) manage.py migrate --no-input
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) manage.py load_demo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} ./scripts/run.sh

# The test suite on PostgreSQL, Redis and RabbitMQ when they answer here, else SQLite; lint
# first. In CI (CI=1) the services are waited for, and the suite fails if one never answers.
test: system-packages-test $(VENV)/.installed-dev check
	DJANGO_SETTINGS_MODULE=ottoman_ocr.test_settings $(PY) manage.py compilemessages --ignore=$(VENV) --ignore=var -v 0
	exports="$$($(PY) scripts/detect_services.py)" || exit 1; \
	eval "$$exports"; \
	$(PY) -m pytest $(PYTEST_ARGS)

check: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	DJANGO_SETTINGS_MODULE=ottoman_ocr.test_settings $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SECRET_KEY=check-deploy-$$RANDOM-only-to-run-the-deployment-checks-0123456789abcdef \
		DJANGO_SETTINGS_MODULE=ottoman_ocr.settings $(PY) manage.py check --deploy --fail-level WARNING

# Benchmarks (not tests): each prints its figures and, last, one JSON line.
bench: system-packages $(VENV)/.installed-dev
	$(PY) bench/ocr_throughput.py
	$(PY) bench/consensus_sim.py
	$(PY) bench/segmentation.py
	$(call install_missing,zip)
	$(PY) bench/export_release.py
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; \
	then $(PY) bench/queue_load.py $(BENCH_ARGS); \
	else echo "bench/queue_load.py skipped: it needs PostgreSQL on 127.0.0.1:5432"; fi
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; \
	then $(PY) bench/search.py && $(PY) bench/browser_latency.py; \
	else echo "bench/search.py and bench/browser_latency.py skipped: they need PostgreSQL"; fi
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; \
	then $(PY) bench/pages_load.py && $(PY) bench/stats_load.py; \
	else echo "bench/pages_load.py and bench/stats_load.py skipped: they need PostgreSQL"; fi
	@if [ -d ../shared/data/arabic-print-gt ] && [ -f ../shared/models/fas.traineddata ]; \
	then $(PY) bench/train_model.py $(TRAIN_BENCH_ARGS); \
	else echo "bench/train_model.py skipped: it needs ../shared/data/arabic-print-gt and ../shared/models/fas.traineddata"; fi

# After changing user-facing text: collect it into locale/tr/LC_MESSAGES/django.po (the site)
# and client/ottoman_ocr_client/locale/tr/LC_MESSAGES/ottoman-ocr-client.po (the clients), then
# translate every new or fuzzy entry there (tests/test_translations.py and
# tests/client/test_translations.py fail until then), and run `make messages` again: it compiles
# the clients' catalogue, which is committed (pip installs the client without gettext's tools).
CLIENT_PO := client/ottoman_ocr_client/locale/tr/LC_MESSAGES/ottoman-ocr-client.po
messages: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=ottoman_ocr.test_settings $(PY) manage.py makemessages -l tr \
		$(MESSAGES_IGNORE) --add-location=file --no-obsolete
	mkdir -p var
	xgettext --language=Python --from-code=UTF-8 -k_ --add-location=file --package-name=ottoman-ocr-client \
		-o var/ottoman-ocr-client.pot client/ottoman_ocr_client/*.py
	msgmerge -q --update --backup=none --no-fuzzy-matching $(CLIENT_PO) var/ottoman-ocr-client.pot
	msgattrib --no-obsolete -o $(CLIENT_PO) $(CLIENT_PO)
	msgfmt --check -o $(CLIENT_PO:.po=.mo) $(CLIENT_PO)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
