# Local Spark runtime targets of the local Lambda runner, included by the top Makefile.
#   make runtime [FRAMEWORK=X]       install the pinned runtime of docker/versions.lock for X (default DELTA) into
#                                    .runtime/ (cached; .runtime/READY-X when done)
#   make runtime-all                 the same for every framework in the lock
#   make sandbox-shell [FRAMEWORK=X] an interactive shell under Lambda's rules with that runtime's environment
# Every machine package these need is installed by locallambda/install-deps.sh (apt-get; a no-op when present).
# FRAMEWORK is not given a default here: other targets (synth) read an empty FRAMEWORK as "all frameworks".
RUNTIME_FRAMEWORK = $(or $(FRAMEWORK),DELTA)
RUNTIME_FRAMEWORKS := $(shell sh docker/lock.sh frameworks)

.PHONY: runtime-deps runtime runtime-all sandbox-shell
runtime-deps:
	@sh locallambda/install-deps.sh

runtime: runtime-deps
	@bash locallambda/install-runtime.sh $(RUNTIME_FRAMEWORK)

runtime-all: runtime-deps
	@for fw in $(RUNTIME_FRAMEWORKS); do bash locallambda/install-runtime.sh $$fw; done

sandbox-shell: runtime
	bash locallambda/lambda-sandbox.sh -- bash -c '. "$(CURDIR)/.runtime/env-$(RUNTIME_FRAMEWORK).sh" && exec bash -i'
