# `make submit`, the local rehearsal of a job on a real distributed engine (locallambda/submit.py), included by the
# top Makefile after invoke.mk (whose SCRIPT, EVENT and E2E_VENV it shares).
#   make submit [FRAMEWORK=X] [SCRIPT=path] [EVENT=file.json] [DATA="a.csv b.csv"] [WORKERS=2] [COORDINATION=glue]
#                 spark-submit of the script (default: the sample job on the sample event) on a local Spark standalone
#                 cluster (a master and WORKERS workers on 127.0.0.1) against the local S3 server; the last line is
#                 `submit-summary: <json>` (see locallambda/submit.py)
WORKERS ?= 2

.PHONY: submit
submit: runtime e2e-tools
	$(E2E_VENV)/bin/python locallambda/submit.py --framework $(or $(FRAMEWORK),DELTA) --script $(SCRIPT) \
	  --event $(EVENT) --workers $(WORKERS) $(if $(DATA),--data "$(DATA)") \
	  $(if $(COORDINATION),--coordination $(COORDINATION))
