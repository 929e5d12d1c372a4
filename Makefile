# The two commands: `make run` serves the product, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := marketplace

PG_TEST_URL ?= postgresql+psycopg://est:est@127.0.0.1:5432/est_test
ES_TEST_URL ?= http://127.0.0.1:9200
export TEST_ELASTICSEARCH_URL := $(ES_TEST_URL)
# The browser tests use Debian's chromium (.ci/browser.sh); Playwright never downloads one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
VNU_DIR ?= /var/cache/est-vnu
export VNU_JAR := $(VNU_DIR)/node_modules/vnu-jar/build/dist/vnu.jar
E2E_ARTIFACTS := test-artifacts/e2e

.PHONY: install run test test-sqlite test-postgres services browser lint translations clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

## Serve the product on http://127.0.0.1:5000 with embedded defaults and demo data; the
## background jobs (indexing, matching, digests) run in the same process.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed --if-empty
	$(BIN)/flask serve --host 127.0.0.1 --port 5000

services:
	bash .ci/services.sh start

## chromium, CJK fonts and the Nu HTML Checker, for the browser tests (tests/e2e).
browser:
	VNU_DIR=$(VNU_DIR) bash .ci/browser.sh install

## Every test, against SQLite and then against PostgreSQL, with a real Elasticsearch and a real
## browser (on SQLite).  Elasticsearch is stopped at the end, pass or fail.
test: install services browser
	bash .ci/elasticsearch.sh start
	status=0; $(MAKE) --no-print-directory test-sqlite test-postgres || status=$$?; \
	  bash .ci/elasticsearch.sh stop; exit $$status

# A failed browser test leaves a screenshot and a Playwright trace in $(E2E_ARTIFACTS).
test-sqlite: install
	@echo "=== tests on SQLite (and the search backend contract, and the browser tests) ==="
	rm -rf $(E2E_ARTIFACTS)
	$(BIN)/pytest -q || { status=$$?; bash .ci/browser.sh artifacts; exit $$status; }

# The backend contract does not touch the database, the browser tests run on their own
# SQLite world, and the two-node search cluster test is about Elasticsearch alone: all three
# ran once already.
test-postgres: install
	@echo "=== tests on PostgreSQL ==="
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q --ignore=tests/contract --ignore=tests/e2e \
	  --ignore=tests/cluster

lint: install
	$(BIN)/ruff check marketplace search workers tests bench
	$(BIN)/lint-imports

## Re-extract the interface strings and compile the catalogues (after editing .po files).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l --ignore-dirs=.venv --ignore-dirs=tests --ignore-dirs=bench -o marketplace/translations/messages.pot .
	$(BIN)/pybabel update -i marketplace/translations/messages.pot -d marketplace/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d marketplace/translations

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
