# Entry points for people and CI. `make synth` synthesizes the sample app into cdk.out; `make test` runs every check.
# Each target installs what it needs (pinned) into the repository: node_modules/ (cdk CLI), .venv-tools/ (cfn-lint),
# .runtime/ (the local Spark runtime). Nothing is installed by hand.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go

.PHONY: help
help:
	@echo "make synth   - synthesize the sample app (Hudi, Delta, Iceberg stacks) into cdk.out"
	@echo "make test    - go vet, unit/snapshot/cdk-nag tests, cfn-lint, runtime + end-to-end tests"
	@echo "make runtime FRAMEWORK=DELTA|HUDI|ICEBERG - install the pinned local Spark runtime"
	@echo "make invoke FRAMEWORK=X SCRIPT=path EVENT=file.json - run a script as Lambda would, locally"

# Fragments owned by the runtime and end-to-end work.
include test/sandbox/runtime.mk
include test/e2e/e2e.mk
