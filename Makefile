# The two commands a newcomer needs (see README.md):
#   make demo   set everything up, build the synthetic district, serve the dashboards
#   make test   set everything up and run every test
#   make lab    JupyterLab on the notebooks/ against the demo district
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/demo.sqlite
PORT   ?= 8866

.PHONY: demo test lab setup system-deps lint benchmark clean

demo: setup
	@test -f $(DB) || $(BIN)/psychanalytics demo --db $(DB)
	$(BIN)/psychanalytics serve --db $(DB) --port $(PORT)

# JupyterLab on the researchers' notebooks, against the demo district (read-only).
lab: setup
	@test -f $(DB) || $(BIN)/psychanalytics demo --db $(DB)
	PSYCHANALYTICS_DB=$(abspath $(DB)) $(BIN)/jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 --no-browser --allow-root

test: system-deps setup
	$(BIN)/python -m pytest

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

system-deps:
	@bash .ci/system-deps

lint: setup
	$(BIN)/ruff check psychanalytics tests notebooks dashboards benchmarks
	$(BIN)/ruff format --check psychanalytics tests

# Every benchmark in one table (benchmarks/out/results.md and .json); docs/performance.md
benchmark: setup
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DB) $(DB)-wal $(DB)-shm
