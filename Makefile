# The two set-up commands: `make demo` and `make test`. Each creates .venv by itself.
# PyTorch is installed first and pinned to the CPU build; override for CUDA, e.g.
#   make test TORCH_SPEC="torch==2.14.1 --index-url https://download.pytorch.org/whl/cu126"
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DEMO_OUT ?= runs/demo
PYTEST_ARGS ?=

.PHONY: demo test venv test-venv clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(PY)
	$(PIP) install -q $(TORCH_SPEC)
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -q -e ".[test]"
	touch $@

venv: $(VENV)/.installed
test-venv: $(VENV)/.test-installed

# The main job on a bundled real dataset (scikit-learn's digits): the default depth x width
# search, 5 restarts per config, the one-SE choice, a sealed test score and the HTML report.
demo: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(VENV)/bin/justenough search digits --out $(DEMO_OUT)
	@echo "results: $(DEMO_OUT)/ (report: $(DEMO_OUT)/report.html, model: $(DEMO_OUT)/model/)"

test: $(VENV)/.test-installed
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
