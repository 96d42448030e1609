# The sample job is portable: the same file runs with plain spark-submit (as on EMR Serverless) - no handler, the
# script API shipped as --py-files, the event as `--event <json>` - here on the local ICEBERG runtime inside the
# Lambda sandbox, reading the sample CSV from the local disk and writing to the default (hadoop) catalog `lake` under
# /tmp.
import json
import os
import shutil
import subprocess

import lambda_harness as h
from conftest import LOG_DIR


def test_sample_job_runs_unchanged_with_spark_submit():
    env = {**h.runtime_env("ICEBERG"), "HOME": "/tmp", "LANG": "C.UTF-8"}
    os.makedirs(LOG_DIR, exist_ok=True)
    py_files = shutil.make_archive(os.path.join(LOG_DIR, "sparklambda"), "zip", h.PYTHON_DIR, "sparklambda")
    os.chmod(py_files, 0o644)
    event = {"input": "file://" + h.SAMPLE_DATA, "table": "submitted", "years": [2014]}
    cmd = ["bash", h.SANDBOX, "--memory", "2048", "--", "sh", "-c",
           '"$SPARK_HOME/bin/spark-submit" --py-files "$3" "$0" --event "$1" && '
           '"$SPARK_HOME/bin/spark-submit" --py-files "$3" "$0" --event "$2"',
           h.SAMPLE_SCRIPT, json.dumps(event), json.dumps({**event, "years": [2014, 2015]}), py_files]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"format"')]
    assert [r["operation"] for r in results] == ["create", "upsert"]
    assert [r["rows"] for r in results] == [365, 730]
    assert results[1]["table"] == "lake.default.submitted" and results[1]["duplicate_keys"] == 0
