# The two set-up commands: `make demo` and `make test`. Each creates .venv by itself.
# PyTorch is installed first and pinned to the CPU build; override for CUDA, e.g.
#   make test TORCH_SPEC="torch==2.14.1 --index-url https://download.pytorch.org/whl/cu126"
# Everything else is installed through constraints.txt: the versions `make test` passed with
# (pyproject.toml keeps ranges for users). `make test-latest` resolves everything afresh in its own
# venv, so drift is seen on purpose; `make constraints` adopts what it resolved once it passes.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DEMO_OUT ?= runs/demo
PYTEST_ARGS ?=
# Empty (make test CONSTRAINTS=) installs without it, e.g. for a torch build whose own
# dependencies need other versions than the ones pinned there.
CONSTRAINTS ?= constraints.txt
CONSTRAIN := $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
LATEST_VENV ?= .venv-latest
LATEST_TORCH_SPEC ?= $(TORCH_SPEC)
LATEST_PY := $(LATEST_VENV)/bin/python
# The venv `make constraints` freezes: by default the latest one, after `make test-latest` passed.
CONSTRAINTS_FROM ?= $(LATEST_VENV)

.PHONY: demo test venv test-venv test-latest constraints clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(PY)
	$(PIP) install -q $(TORCH_SPEC)
	touch $@

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) $(VENV)/.torch
	$(PIP) install -q $(CONSTRAIN) -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(CONSTRAINTS) $(VENV)/.torch
	$(PIP) install -q $(CONSTRAIN) -e ".[test]"
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

# The same tests in a venv built afresh every time, without constraints: the newest releases
# pyproject.toml's ranges allow (torch stays at LATEST_TORCH_SPEC; LATEST_TORCH_SPEC=torch floats it
# too). On success it marks the venv as passed, for `make constraints`.
test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_PY) -m pip install -q $(LATEST_TORCH_SPEC)
	$(LATEST_PY) -m pip install -q -e ".[test]"
	$(LATEST_PY) -m pip freeze --exclude-editable | grep -v '^#'
	OMP_NUM_THREADS=1 $(LATEST_PY) -m pytest -n 2 $(PYTEST_ARGS)
	touch $(LATEST_VENV)/.passed

# Refresh constraints.txt from a venv whose tests passed: every installed version except torch
# and its CUDA packages (TORCH_SPEC pins those, and must stay free to pick a CUDA build) and
# justenough itself.
constraints:
	@test -f $(CONSTRAINTS_FROM)/.passed || { echo "$(CONSTRAINTS_FROM) has not passed the tests: run make test-latest first"; exit 2; }
	{ printf '%s\n' "# The versions the test suite passed with, for make demo / make test (pip install -c)." \
	  "# Made by make constraints from $(CONSTRAINTS_FROM): edit by refreshing, not by hand." \
	  "# Left out: torch and its CUDA packages (TORCH_SPEC in the Makefile) and justenough itself."; \
	  $(CONSTRAINTS_FROM)/bin/python -m pip freeze --exclude-editable | grep -v '^#' | grep -viE '^(torch|triton|justenough)( |@|==)|^nvidia-'; \
	} > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt

clean:
	rm -rf $(VENV) $(LATEST_VENV) runs .pytest_cache .hypothesis
