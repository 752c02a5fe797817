# The two set-up commands: `make demo` and `make test`. Both build .venv from scratch when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install test lint fuzz demo demo-multi-env tour bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# `make test` leaves out the tests marked `slow` (pyproject's addopts); `make test-all` is `make test` with them
# (kill -9 matrices, every pipeline job, the browser): what .ci/run runs. It lists the slowest tests at the end,
# to see what makes the suite grow.
.PHONY: test-all
test-all: override PYTEST_ARGS += -m "" --durations=25
test-all: test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python .ci/typecheck.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python .ci/typecheck.py
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The long run of the hostile-input fuzz harness (`make test` runs a few dozen workspaces; this, 400).
fuzz: $(STAMP)
	DSS_IAC_FUZZ_EXAMPLES=$${DSS_IAC_FUZZ_EXAMPLES:-400} $(BIN)/python -m pytest tests/cli/test_hostile_fuzz.py \
		--hypothesis-show-statistics

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# dev -> staging -> prod through bundles and the Project Deployer, on the embedded DSS.
demo-multi-env: $(STAMP)
	$(BIN)/python examples/multi_env_demo.py

# The DSS simulator alone, driven through dataikuapi as a new user would (bundles, deployer, Govern).
tour: $(STAMP)
	$(BIN)/python examples/simulator-tour/tour.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_help.py
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_apply.py
	$(BIN)/python benchmarks/bench_tui.py
	$(BIN)/python benchmarks/bench_embedded.py
	$(BIN)/python benchmarks/bench_embedded_writes.py
	$(BIN)/python benchmarks/bench_workbench.py
	$(BIN)/python benchmarks/bench_tui.py --projects 400 --presses 100  # the 25,000-resource workspace

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
