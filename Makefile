# Developer and CI entry points. `make demo` and `make test` are the two
# commands a new user runs; both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test unit e2e lint sample testcloud testcloud-down \
        testcloud-seed clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

testcloud:
	tools/testcloud/up.sh

testcloud-seed:
	tools/testcloud/up.sh --reseed

testcloud-down:
	tools/testcloud/down.sh

demo: venv testcloud
	tools/demo.sh

# Unit and HTTP-seam tests, then the end-to-end suite on the test cloud.
test: venv testcloud
	$(BIN)/ruff check caso tests tools
	$(BIN)/ruff format --check caso tests tools
	$(BIN)/mypy
	$(BIN)/pytest

unit: venv
	$(BIN)/pytest -m 'not e2e'

lint: venv
	$(BIN)/ruff check caso tests tools
	$(BIN)/ruff format --check caso tests tools
	$(BIN)/mypy

sample: venv
	$(BIN)/oslo-config-generator \
	    --config-file etc/caso/caso-config-generator.conf

clean:
	rm -rf $(VENV) build *.egg-info
