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

.PHONY: setup demo test test-fast bench bench-build clean distclean

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

demo: setup
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

# Build and test leftovers; the virtualenv stays (see distclean).
clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis bench/results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
