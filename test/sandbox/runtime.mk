# Local Spark runtime targets, included by the top Makefile.
#   make runtime [FRAMEWORK=X]       install the pinned runtime of docker/versions.lock for X (default DELTA) into
#                                    .runtime/ (cached; .runtime/READY-X when done)
#   make runtime-all                 the same for every framework in the lock
#   make test-runtime                lock / Dockerfile / spark-class tests and the sandbox tests (installs first)
#   make sandbox-shell [FRAMEWORK=X] an interactive shell under Lambda's rules with that runtime's environment
# Every machine package these need is installed by test/sandbox/install-deps.sh (apt-get; a no-op when present).
# FRAMEWORK is not given a default here: other targets (synth) read an empty FRAMEWORK as "all frameworks".
RUNTIME_FRAMEWORK = $(or $(FRAMEWORK),DELTA)
RUNTIME_FRAMEWORKS := $(shell sh docker/lock.sh frameworks)

.PHONY: runtime-deps runtime runtime-all test-runtime sandbox-shell
runtime-deps:
	@sh test/sandbox/install-deps.sh

runtime: runtime-deps
	@bash test/sandbox/install-runtime.sh $(RUNTIME_FRAMEWORK)

runtime-all: runtime-deps
	@for fw in $(RUNTIME_FRAMEWORKS); do bash test/sandbox/install-runtime.sh $$fw; done

# pytest is the pinned one of the end-to-end tools venv (test/e2e/requirements.txt).
test-runtime: e2e-prereqs
	$(E2E_VENV)/bin/python -m pytest -q -p no:cacheprovider test/sandbox

sandbox-shell: runtime
	bash test/sandbox/lambda-sandbox.sh -- bash -c '. "$(CURDIR)/.runtime/env-$(RUNTIME_FRAMEWORK).sh" && exec bash -i'
