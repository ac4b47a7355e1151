# Two commands for a new machine: `make run` (the main job on DuckDB) and
# `make test` (every test). Both create .venv from requirements.lock first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RAW_DIR := data/raw
TEST_DIR := target/make-test
DUCKDB_FILE := $(or $(INSIDERS_DUCKDB_PATH),insiders.duckdb)
CSV_FILE := $(or $(INSIDERS_CSV_PATH),output/insiders.csv)

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: run prod test data report lint bench scale-data replay clean spark-run

$(BIN)/dbt: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

# The Spark target's environment (dbt-spark, PySpark; Java 17 on the machine).
SPARK_VENV := .venv-spark
SPARK_BIN := $(SPARK_VENV)/bin
$(SPARK_BIN)/dbt: requirements-spark.lock
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_BIN)/pip install --quiet --disable-pip-version-check -r requirements-spark.lock
	touch $@

# The raw file: INSIDERS_RAW_PATH if set, else data/raw/ (downloaded if empty).
data: $(BIN)/dbt
	@if [ -n "$$INSIDERS_RAW_PATH" ]; then echo "Raw file: $$INSIDERS_RAW_PATH"; \
	else $(BIN)/python -m insiders.fetch_raw --dest $(RAW_DIR); fi

run: data
	$(BIN)/dbt build
	$(MAKE) --no-print-directory report

# The HTML report of the marts, written beside the Insiders CSV it links to.
report: $(BIN)/dbt
	$(BIN)/python -m insiders.report --database $(DUCKDB_FILE) \
		--output $(dir $(CSV_FILE))report.html --csv-link $(notdir $(CSV_FILE))

# Production: the same build, the marts published to PostgreSQL for Metabase
# (connection from INSIDERS_PG_* or INSIDERS_PG_DSN).
prod: data
	$(BIN)/dbt build --target prod

# The program replayed as it would have run on the 15th of every month of the
# data (membership carried forward), then its table per refresh.
replay: data
	$(BIN)/dbt build --select +membership_refreshes +customers
	$(BIN)/python -m insiders.replay_table --database $(DUCKDB_FILE)

# The SQL layer on Spark (raw load, dbt build --target spark with every
# test), then its tables into the DuckDB file and the rest of the build there
# (Python models, marts, CSV; INSIDERS_TARGET=prod publishes), then the report.
spark-run: $(SPARK_BIN)/dbt data
	$(SPARK_BIN)/python -m insiders.spark_loader
	$(SPARK_BIN)/dbt build --target spark
	$(SPARK_BIN)/python -m insiders.spark_handoff --database $(DUCKDB_FILE)
	$(SPARK_BIN)/dbt build --exclude path:models/intermediate --vars '{load_raw: false}'
	$(SPARK_BIN)/python -m insiders.report --database $(DUCKDB_FILE) \
		--output $(dir $(CSV_FILE))report.html --csv-link $(notdir $(CSV_FILE))

# sqlfluff, dbt data and unit tests on their own database, dbt-score on that
# build's manifest (thresholds in pyproject.toml), then pytest (with the
# Spark parity test: .venv-spark first), each test file on one worker so that
# its module fixtures (whole builds) run once.
test: data $(SPARK_BIN)/dbt
	$(BIN)/sqlfluff lint models tests analyses
	mkdir -p $(TEST_DIR)
	INSIDERS_DUCKDB_PATH=$(TEST_DIR)/insiders.duckdb $(BIN)/dbt build --target-path $(TEST_DIR)/target
	$(BIN)/dbt-score lint --manifest $(TEST_DIR)/target/manifest.json
	$(BIN)/pytest -n 2 --dist loadfile --durations=15

lint: $(BIN)/dbt
	$(BIN)/sqlfluff lint models tests analyses

# The build at 1, 10 and 100 times the raw file (SCALES="1 10" for fewer):
# wall time, peak memory and per-model times as a table.
# ENGINE=spark: the same through make spark-run's steps (.venv-spark).
SCALES ?= 1 10 100
ENGINE ?= duckdb
bench: data $(if $(filter spark,$(ENGINE)),$(SPARK_BIN)/dbt)
	$(if $(filter spark,$(ENGINE)),$(SPARK_BIN),$(BIN))/python bench/benchmark.py --scales $(SCALES) --engine $(ENGINE)

# An N-times copy of the raw file for the benchmark: make scale-data N=100
N ?= 10
scale-data: $(BIN)/dbt
	@test -n "$$INSIDERS_RAW_PATH" || { echo "Set INSIDERS_RAW_PATH to the raw file (.csv or .csv.gz)"; exit 1; }
	$(BIN)/python bench/scale_data.py --source "$$INSIDERS_RAW_PATH" --times $(N) --output data/scale/online_retail_x$(N).csv

clean:
	rm -rf target logs insiders.duckdb spark-warehouse spark-metastore derby.log
