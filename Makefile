# battrace: `make run` sets everything up and runs the demo on SQLite; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DB ?= battrace.db

.PHONY: install run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The main job on the embedded default: create the SQLite database, fill it once with a simulated
# nation (40,000 batteries from production to recycling, with labelled violations; about a
# minute), show one battery, then publish the log's signed checkpoint and audit the whole log.
run: install
	$(BIN)/battrace init --db $(DB)
	$(BIN)/battrace simulate --db $(DB) --batteries 40000 --seed 1 --if-empty --labels $(DB).labels.csv
	$(BIN)/battrace batteries --db $(DB) --state recycled --limit 5
	$(BIN)/battrace show --db $(DB) $$($(BIN)/battrace batteries --db $(DB) --state recycled --limit 1 --json | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["code"])')
	$(BIN)/battrace log checkpoint --db $(DB)
	$(BIN)/battrace verify --db $(DB) --key "$$($(BIN)/battrace log key --db $(DB))"

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: install
	$(BIN)/python -m benchmarks.run $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
