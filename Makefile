# Two commands: `make demo` and `make test`. Each sets up what it needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_FLAGS := -q --disable-pip-version-check
APT_PACKAGES := mosquitto chromium espeak-ng

.PHONY: demo test test-fast test-protocol test-engine test-store test-mqtt test-manager test-web lint sysdeps setup clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip 2>/dev/null || true
	$(PY) -m pip install $(PIP_FLAGS) -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import fastapi, amqtt, paho.mqtt, sqlalchemy, alembic, hypothesis, playwright"
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# System packages: installed with apt-get when running as root and missing; otherwise the tests
# that need them say which package is missing (and fail under HALL_REQUIRE_ALL=1, as in CI).
sysdeps:
	@missing=""; \
	command -v mosquitto >/dev/null || missing="$$missing mosquitto"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing system packages (tests needing them are skipped):$$missing"; fi; \
	fi

setup: $(VENV)/.installed node_modules/.installed sysdeps

demo: $(VENV)/.installed
	$(PY) -m simulators.demo

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not slow"

test-protocol: setup
	$(PY) -m pytest -q tests/protocol

test-engine: $(VENV)/.installed
	$(PY) -m pytest -q tests/engine

test-store: $(VENV)/.installed
	$(PY) -m pytest -q tests/store

test-mqtt: setup
	$(PY) -m pytest -q tests/integration

test-manager: setup
	$(PY) -m pytest -q tests/manager

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
