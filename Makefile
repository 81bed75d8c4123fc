# Two commands do everything on a fresh machine: `make report` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data/demo
OUT ?= reports

.PHONY: report test fuzz lint bench simulate clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (evalkit)"
	# JupyterLab gives kernels CurveZMQ keys, so ipykernel does not warn "running over TCP without
	# encryption" (`evalkit run` does the same in evalkit.run.execute)
	mkdir -p $(VENV)/etc/jupyter
	echo '{"KernelManager": {"transport_encryption": "auto"}}' > $(VENV)/etc/jupyter/jupyter_server_config.json
	touch $(STAMP)

$(DATA)/truth.json: | $(STAMP)
	$(BIN)/evalkit synth --out $(DATA) --profile leicester --seed 1 --format cld

report: $(STAMP) $(DATA)/truth.json
	$(BIN)/evalkit run $(DATA) --out $(OUT)
	@echo "Reports written: open $(OUT)/index.html"

test: $(STAMP)
	$(BIN)/ruff check evalkit tests benchmarks setup.py
	$(BIN)/python -m pytest -n 2 --durations=15

# The property tests alone, with new random examples on every run and many more of them (the
# "fuzz" profile in tests/conftest.py; about a quarter of an hour). A failure is shrunk to a
# minimal example and saved in .hypothesis/, so the next `make fuzz` tries it first.
fuzz: $(STAMP)
	$(BIN)/python -m pytest -m hypothesis --hypothesis-profile=fuzz --hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_stats.py
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_run.py

# The simulation study of notebook 03's "did it change" answers (issue 17; docs/calibration.md):
# false-positive rates and coverage over SEEDS synthetic councils. Long (about 6 CPU seconds a
# seed at scale 1); resumable: rows are kept in benchmarks/out/simulate_rows.csv.
SEEDS ?= 1-200
simulate: $(STAMP)
	nice $(BIN)/python benchmarks/simulate_changes.py --seeds $(SEEDS) --scale 1 \
		--rows benchmarks/out/simulate_rows.csv --table benchmarks/out/calibration_table.md

clean:
	rm -rf $(VENV) $(OUT) data/demo build dist
