# End-to-end targets, included by the top Makefile.
#   make e2e-tools                       pinned harness tools into .venv-e2e/ (RIE, awslambdaric, moto, pytest)
#   make invoke [FRAMEWORK=X] [SCRIPT=path] [EVENT=file.json] [DATA="a.csv b.csv"] [COORDINATION=none]
#                                        run a script as Lambda would (default DELTA): one event cold then warm, or
#                                        {"rounds": [[e1, e2], [e3]]} on concurrent execution environments; the last
#                                        line is `invoke-summary: <json>` (see test/e2e/invoke.py)
#   make e2e                             the end-to-end tests for every framework (installs everything first)
# SCRIPT defaults to the sample job (assets/scripts/table_job.py), EVENT to test/e2e/events/sample.json.
E2E_VENV := .venv-e2e
SCRIPT ?= assets/scripts/table_job.py
EVENT ?= test/e2e/events/sample.json
# The runtime's interpreter (the same Python for the harness venv and the handler's lambda-base packages).
E2E_PYTHON = .runtime/venv/bin/python

.PHONY: e2e-tools e2e-prereqs invoke e2e
e2e-tools: runtime
	@bash test/e2e/install-tools.sh $(E2E_PYTHON)

# Every framework's runtime plus the harness tools: what e2e, test-runtime and bench run on (all cached).
e2e-prereqs: runtime-all
	@bash test/e2e/install-tools.sh $(E2E_PYTHON)

invoke: runtime e2e-tools
	$(E2E_VENV)/bin/python test/e2e/invoke.py --framework $(or $(FRAMEWORK),DELTA) --script $(SCRIPT) --event $(EVENT) \
	  $(if $(DATA),--data "$(DATA)") $(if $(COORDINATION),--coordination $(COORDINATION))

e2e: e2e-prereqs
	$(E2E_VENV)/bin/python -m pytest -p no:cacheprovider -v -rA test/e2e
