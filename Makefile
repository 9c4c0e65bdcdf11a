# Two commands do all the set-up: `make demo` runs the main job, `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test

.PHONY: demo test typecheck lint bench clean mosquitto interop-deps

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test,sweep]'
	touch $(STAMP)

mosquitto:
	@if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update && apt-get install -y mosquitto mosquitto-clients; \
	  else \
	    echo "mosquitto is missing: install it (sudo apt-get install -y mosquitto mosquitto-clients)"; \
	  fi; \
	fi
	@if ! command -v mosquitto_pub >/dev/null 2>&1 && [ "$$(id -u)" = "0" ]; then \
	  apt-get install -y mosquitto-clients; fi

# The independent VDA 5050 vehicle of the interoperability tests, exactly as locked (npm registry only).
INTEROP := tests/interop/node
interop-deps: $(INTEROP)/node_modules/.package-lock.json

$(INTEROP)/node_modules/.package-lock.json: $(INTEROP)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(INTEROP) && npm ci --no-audit --no-fund; \
	else \
	  echo "npm is missing: the interoperability tests skip (install Node.js 18+ and npm)"; \
	fi

demo: $(STAMP)
	$(VENV)/bin/bulletyard demo

# mypy strict on the packages [tool.mypy] in pyproject.toml names (STYLE.md: the pure core is typed).
typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The interoperability tests drive third-party vehicles in real time (minutes of waiting, little
# CPU), so they run in a second pytest beside the rest; both must pass. Their output follows.
test: $(STAMP) mosquitto interop-deps typecheck
	$(VENV)/bin/ruff check .
	@$(PY) -m pytest -q -m interop -p no:cacheprovider > .interop-tests.log 2>&1 & interop=$$!; \
	$(PY) -m pytest -q -m "not interop" --durations=15; main=$$?; \
	wait $$interop; inter=$$?; \
	echo "--- interoperability tests (run beside the others) ---"; cat .interop-tests.log; \
	if [ $$main -ne 0 ]; then exit $$main; fi; \
	if [ $$inter -ne 0 ] && [ $$inter -ne 5 ]; then exit $$inter; fi

bench: $(STAMP)
	$(PY) bench/mapf.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
