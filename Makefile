# Conveyor developer entry points. `make` or `make help` lists them.
# The local stack (PostgreSQL + Kafka, no Docker) is described in docs/local-infrastructure.md.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# --frozen: run against exactly what uv.lock pins, never re-resolve behind anyone's back.
UV_RUN := uv run --frozen
INFRA := deploy/local/infra.sh
K ?=
ARGS ?=

.PHONY: help setup run infra-up infra-down infra-status infra-reset migrate \
        test test-unit test-integration test-security test-faults e2e bench bench-system bench-consumers bench-peers bench-bulk lint token openapi contracts chart-check

help: ## List the targets with a one-line description
	@echo "Usage: make <target> [K=expr] [ARGS=...]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## Install missing prerequisites (PostgreSQL, JDK, Maven, uv, nginx, Node.js), `uv sync --frozen`, `npm ci` in tools/bpmn-check, tools/asyncapi-check and clients/typescript
	deploy/local/bootstrap.sh

run: setup ## Start infra, migrate, and run all five services under honcho (Ctrl-C stops; ARGS=--test-clock: one movable clock)
	deploy/local/run.sh $(ARGS)

infra-up: ## Start local PostgreSQL (:15432) and Kafka (:19092); reuses running ones
	$(INFRA) up

infra-down: ## Stop local PostgreSQL and Kafka (data stays in .local/)
	$(INFRA) down

infra-status: ## Show pid, port and health of local PostgreSQL and Kafka
	$(INFRA) status

infra-reset: ## Stop local infra and delete its data (databases, topics)
	$(INFRA) reset

migrate: ## Run every service's database migrations against the local infra
	deploy/local/run.sh migrate

# pytest exits 5 when it collected no tests; that is a failure here like any non-zero exit.
define run_pytest
	@rc=0; $(UV_RUN) pytest $(1) || rc=$$?; \
	if [[ $$rc -eq 5 ]]; then echo "make: pytest collected no tests (exit 5): failing" >&2; fi; \
	exit $$rc
endef

test: setup infra-up ## Run the whole pytest suite (unit, integration, e2e) except the fault tests
	$(call run_pytest,-m 'not faults')

test-unit: setup ## Run the unit tests only (-m unit; no infrastructure needed)
	$(call run_pytest,-m unit)

test-integration: setup infra-up ## Run the integration tests only (-m integration)
	$(call run_pytest,-m integration)

test-security: setup infra-up ## Fuzzing, tenant/scope leaks, hostile input, secrets in logs (CONVEYOR_FUZZ_PROFILE=long: the long run)
	$(call run_pytest,tests/security -m security)

# The fault tests bounce this checkout's Kafka and PostgreSQL: never run them against shared infra.
test-faults: setup infra-up ## Kill services, stop Kafka/PostgreSQL under load (~6 min; CONVEYOR_FAULTS_PROFILE=long: ~50 min)
	$(call run_pytest,tests/faults -m faults $(if $(K),-k '$(K)'))

e2e: setup infra-up ## Run tests/e2e (K=expr passes -k expr)
	$(call run_pytest,tests/e2e $(if $(K),-k '$(K)'))

bench: setup infra-up ## Run every bench/bench_*.py benchmark script
	@shopt -s nullglob; scripts=(bench/bench_*.py); \
	if [[ $${#scripts[@]} -eq 0 ]]; then echo "make bench: no bench/bench_*.py scripts" >&2; exit 1; fi; \
	for script in "$${scripts[@]}"; do \
		echo "==> $(UV_RUN) python $$script"; \
		$(UV_RUN) python "$$script"; \
	done

bench-system: setup infra-up ## Load the five services as OS processes (bench/system/run.py; ARGS="--minutes 2 --profile")
	$(UV_RUN) python bench/system/run.py $(ARGS)

lint: setup ## ruff check and mypy (strict) over libs and services
	@rc=0; \
	echo "==> ruff check ."; $(UV_RUN) ruff check . || rc=1; \
	echo "==> mypy libs services"; $(UV_RUN) mypy libs services || rc=1; \
	exit $$rc

openapi: setup ## Regenerate docs/openapi.json (the merged public API) and the TypeScript client's types from the services
	$(UV_RUN) python deploy/gateway/gateway.py openapi
	cd clients/typescript && npm run --silent generate

contracts: ## Regenerate docs/asyncapi.yaml and docs/events/schemas from libs/contracts
	$(UV_RUN) python -m conveyor_contracts.asyncapi --docs docs

token: ## Mint a development token (ARGS="..." passed to conveyor_kit.tokens; valid on a moved test clock too)
	$(UV_RUN) python -m conveyor_kit.tokens $(if $(wildcard .local/test-clock.json),--clock-file .local/test-clock.json) $(ARGS)

chart-check: ## Helm chart, Dockerfile and compose checks: lint, template, k8s schemas, values schema, tests/chart
	deploy/helm/check.sh

bench-consumers: setup infra-up ## Each hot consumer alone draining a 100,000-event backlog (bench/bench_consumers.py; bench/results/consumers.json)
	$(UV_RUN) python bench/bench_consumers.py

bench-peers: setup infra-up ## Process engine beside Operaton 1.0.3 (Maven), 1 and 8 clients, then 100,000 open tasks (bench/peers; bench/results/peers.json)
	$(UV_RUN) python bench/peers/bench_peers.py $(ARGS)

bench-bulk: setup infra-up ## Tenant A imports 100,000 rows through the API while tenant B works (bench/system/bulk.py; bench/results/bulk.json)
	$(UV_RUN) python bench/system/bulk.py $(ARGS)
