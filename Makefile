# The two commands: `make run` serves the product, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := marketplace

PG_TEST_URL ?= postgresql+psycopg://est:est@127.0.0.1:5432/est_test
ES_TEST_URL ?= http://127.0.0.1:9200
export TEST_ELASTICSEARCH_URL := $(ES_TEST_URL)

.PHONY: install run test test-sqlite test-postgres services lint translations clean

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

## Every test, against SQLite and then against PostgreSQL, with a real Elasticsearch.
## Elasticsearch is stopped at the end, pass or fail.
test: install services
	bash .ci/elasticsearch.sh start
	status=0; $(MAKE) --no-print-directory test-sqlite test-postgres || status=$$?; \
	  bash .ci/elasticsearch.sh stop; exit $$status

test-sqlite: install
	@echo "=== tests on SQLite (and the search backend contract) ==="
	$(BIN)/pytest -q

# The backend contract does not touch the database: it ran once already.
test-postgres: install
	@echo "=== tests on PostgreSQL ==="
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q --ignore=tests/contract

lint: install
	$(BIN)/ruff check marketplace search workers tests bench

## Re-extract the interface strings and compile the catalogues (after editing .po files).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l --ignore-dirs=.venv --ignore-dirs=tests --ignore-dirs=bench -o marketplace/translations/messages.pot .
	$(BIN)/pybabel update -i marketplace/translations/messages.pot -d marketplace/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d marketplace/translations

clean:
	rm -rf $(VENV) instance .pytest_cache
