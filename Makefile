# `make demo` and `make test` set everything up on first use (a virtualenv in .venv with the
# pinned packages, and WordNet for NLTK) and are no-ops in seconds afterwards: the two stamp files
# below stand for a finished install.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NLTK_DATA_DIR := $(VENV)/nltk_data
WORDNET := $(NLTK_DATA_DIR)/corpora/wordnet/lexnames
SAMPLE_CAPTIONS := fgclip/pipeline/negatives/sample_captions.txt

.PHONY: setup demo preview test test-fast bench bench-build bench-train gpu-wheels clean distclean

# A failed recipe must not leave a stamp behind that passes for a finished install.
.DELETE_ON_ERROR:

setup: $(INSTALLED) $(WORDNET)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -c constraints.txt -e '.[all,test]'
	touch $@

# Order-only on the install: a change of pins does not fetch WordNet again.
$(WORDNET): | $(INSTALLED)
	$(BIN)/fgclip setup wordnet --target $(NLTK_DATA_DIR)

# The main job on the embedded default: the shapes world, pretrain, CE and control fine-tunes,
# eval, report (docs/workflow.md); about 10 minutes on 2 cores, stages already done are skipped.
demo: setup
	$(BIN)/fgclip workflow run --output runs/demo

# Hard negatives for the bundled sample captions, as a table.
preview: setup
	$(BIN)/fgclip pipeline preview --file $(SAMPLE_CAPTIONS)

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/negatives.py

# About 10 minutes on 2 cores: build-negatives at 10k and 100k samples (docs/performance.md).
bench-build: setup
	$(BIN)/python bench/build.py

# The training step's cost split (negative encoding, loss arithmetic) and the data stream's
# samples/s per loader worker, on this machine's CPU (docs/performance.md).
bench-train: setup
	$(BIN)/python bench/train.py

# The pure-Python packages bench/gpu_train.sh needs on a GPU machine with PyTorch but no index
# to install from (Python 3.12 there), as wheels in .whl/ to carry along.
gpu-wheels:
	$(PYTHON) -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		--platform manylinux2014_x86_64 --platform any -d .whl \
		open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth braceexpand==0.1.7

# Build and test leftovers; the virtualenv stays (see distclean).
clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis bench/results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
