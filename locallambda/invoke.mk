# The local Lambda runner's harness targets, included by the top Makefile.
#   make e2e-tools                       pinned harness tools into .venv-e2e/ (RIE, awslambdaric, moto, pytest)
#   make invoke [FRAMEWORK=X] [SCRIPT=path] [EVENT=file.json] [DATA="a.csv b.csv"] [COORDINATION=none]
#                                        run a script as Lambda would (default DELTA): one event cold then warm, or
#                                        {"rounds": [[e1, e2], [e3]]} on concurrent execution environments; the last
#                                        line is `invoke-summary: <json>` (see locallambda/invoke.py)
# SCRIPT defaults to the sample job (assets/scripts/table_job.py), EVENT to test/e2e/events/sample.json.
E2E_VENV := .venv-e2e
SCRIPT ?= assets/scripts/table_job.py
EVENT ?= test/e2e/events/sample.json
# The runtime's interpreter (the same Python for the harness venv and the handler's lambda-base packages).
E2E_PYTHON = .runtime/venv/bin/python

.PHONY: e2e-tools e2e-prereqs invoke
e2e-tools: runtime
	@bash locallambda/install-tools.sh $(E2E_PYTHON)

# Every framework's runtime plus the harness tools: what e2e, test-runtime and bench run on (all cached).
e2e-prereqs: runtime-all
	@bash locallambda/install-tools.sh $(E2E_PYTHON)

invoke: runtime e2e-tools
	$(E2E_VENV)/bin/python locallambda/invoke.py --framework $(or $(FRAMEWORK),DELTA) --script $(SCRIPT) --event $(EVENT) \
	  $(if $(DATA),--data "$(DATA)") $(if $(COORDINATION),--coordination $(COORDINATION))
