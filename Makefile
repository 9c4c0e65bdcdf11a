# Two commands do all the set-up: `make demo` runs the main job, `make test` passes the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test

.PHONY: demo test lint bench clean mosquitto

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
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

demo: $(STAMP)
	$(VENV)/bin/bulletyard demo

test: $(STAMP) mosquitto
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/mapf.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
