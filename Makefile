# Wharf's developer commands. The two that matter: `make dev` and `make test`.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

CONTROLPLANE := hack/controlplane

.PHONY: help dev test bench lint image crds chart openapi controlplane tools cluster-up cluster-down kubeconfig

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

dev: ## Build what is needed, start the local cluster (unless KUBECONFIG names one), run Wharf
	@hack/dev.sh

test: ## Run the whole suite against a real control plane (started and stopped if needed)
	@hack/test.sh

bench: ## Benchmarks (not part of make test): prints times, ratios and peak RSS
	@hack/bench.sh

image: ## Build the wharfd container image (OCI archive in target/image/, no container engine needed)
	@hack/image/build.sh

lint: ## cargo fmt --check and clippy with warnings as errors
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

crds: ## Regenerate deploy/crds.yaml from the Rust types (and what the chart renders from it)
	cargo run -q -p wharfd -- crd > deploy/crds.yaml
	@hack/chart/render.sh

chart: ## Regenerate the chart's CRDs, deploy/install.yaml and deploy/rbac.yaml from charts/wharf
	@hack/chart/render.sh

openapi: ## Regenerate crates/wharf-server/openapi.json from the handlers
	cargo run -q -p wharfd -- openapi > crates/wharf-server/openapi.json

controlplane: ## Build the pinned control plane binaries into the cache (once per machine)
	@$(CONTROLPLANE)/build.sh >/dev/null

tools: ## Build the chart tools (helm, kubeconform, helm-unittest) into the cache (once per machine)
	@hack/tools/build.sh >/dev/null

cluster-up: ## Start the local cluster; prints its KUBECONFIG path
	@$(CONTROLPLANE)/cluster-up.sh

cluster-down: ## Stop the local cluster and every process it started
	@$(CONTROLPLANE)/cluster-down.sh

kubeconfig: ## Print the KUBECONFIG path of the running local cluster
	@$(CONTROLPLANE)/kubeconfig.sh
