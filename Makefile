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
# minute), sweep the supervision rules and score their alerts against the labels, show the
# vehicle makers' collection rates and one battery, publish the log's signed checkpoint and
# audit the whole log, then serve the platform over HTTP with demo API tokens (docs/api.md).
NATIONAL_REGULATOR := 11100000000000019F
TOKEN = $(BIN)/battrace token create --db $(DB) --label demo --json $(1) | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["token"])'
run: install
	$(BIN)/battrace init --db $(DB)
	$(BIN)/battrace simulate --db $(DB) --batteries 40000 --seed 1 --if-empty --labels $(DB).labels.csv
	$(BIN)/battrace alerts sweep --db $(DB)
	$(BIN)/battrace alerts score --db $(DB) --labels $(DB).labels.csv
	$(BIN)/battrace figures collection --db $(DB)
	$(BIN)/battrace batteries --db $(DB) --state recycled --limit 5
	$(BIN)/battrace show --db $(DB) $$($(BIN)/battrace batteries --db $(DB) --state recycled --limit 1 --json | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["code"])')
	$(BIN)/battrace log checkpoint --db $(DB)
	$(BIN)/battrace verify --db $(DB) --key "$$($(BIN)/battrace log key --db $(DB))"
	@$(BIN)/battrace enterprise show --db $(DB) $(NATIONAL_REGULATOR) >/dev/null 2>&1 || \
		$(BIN)/battrace enterprise add --db $(DB) --credit-code $(NATIONAL_REGULATOR) \
		--name "National Regulator (demo)" --roles regulator --division 110000
	@VM=$$($(BIN)/battrace enterprise list --db $(DB) --role vehicle_maker --json | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])'); \
	echo; echo "Demo API tokens (new ones on every run; only their hashes are stored):"; \
	echo "  national regulator $(NATIONAL_REGULATOR): $$($(call TOKEN,$(NATIONAL_REGULATOR)))"; \
	echo "  vehicle maker $$VM: $$($(call TOKEN,$$VM))"; \
	echo "Serving http://127.0.0.1:8000 : /ui/ (dashboard: log in with a token above), /docs (interactive API),"; \
	echo "  /openapi.json, /checkpoint,"; \
	echo "  /tile/..., /api/v1/... e.g. curl -H 'Authorization: Bearer <token>' http://127.0.0.1:8000/api/v1/batteries"; \
	echo "  Audit it: .venv/bin/battrace verify --remote http://127.0.0.1:8000 --key \"$$($(BIN)/battrace log key --db $(DB))\""; echo
	$(BIN)/battrace serve --db $(DB)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

# A Debian package when its program is missing: $(call APT_GET,package,program,why)
define APT_GET
	@if [ ! -x $(2) ]; then \
		if ! command -v apt-get >/dev/null 2>&1; then \
			echo "make: $(2) is missing and there is no apt-get to install Debian's $(1) ($(3))" >&2; exit 1; \
		fi; \
		SUDO=; if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $(1) \
			|| { $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $(1); } \
			|| { echo "make: apt-get could not install $(1) ($(3))" >&2; exit 1; }; \
	fi
endef

# Debian's Chromium for the dashboard's browser tests (tests/web, Playwright): installed with
# apt-get when /usr/bin/chromium is missing; Playwright never downloads a browser here.
.PHONY: browser wrk
browser:
	$(call APT_GET,chromium,/usr/bin/chromium,the browser tests need /usr/bin/chromium)

# wrk, the HTTP load tool of the API benchmark (benchmarks/bench_api.py)
wrk:
	$(call APT_GET,wrk,/usr/bin/wrk,the API benchmark needs /usr/bin/wrk)

pytest: install browser
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: install wrk
	$(BIN)/python -m benchmarks.run $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
