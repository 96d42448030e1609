# End-to-end, per table format (ICEBERG, DELTA, HUDI): the sample job on a real distributed engine - a local Spark
# standalone cluster of 2 workers, started once for the module by locallambda/submit.py (the runner of `make submit`) -
# with spark-submit against the local S3 server and the format's commit coordination: create, then upsert, with the
# same row counts as the Lambda path (test_1_frameworks) and the tasks spread over both workers' executors.
import os

import pytest

import lambda_harness as h
import submit
from conftest import LOG_DIR
from test_1_frameworks import EXPECTED_COLUMNS, ROWS_2012_2013, ROWS_ALL

FRAMEWORKS = ["ICEBERG", "DELTA", "HUDI"]
WORKERS = 2
CLUSTER_LOGS = os.path.join(LOG_DIR, "cluster")


@pytest.fixture(scope="module")
def cluster(s3):
    # One cluster serves every format: its daemons carry no table-format jar, each job brings its own.
    with submit.Cluster(CLUSTER_LOGS, workers=WORKERS, framework=FRAMEWORKS[0]) as c:
        yield c


def _submit(cluster, s3, fw, bucket, name, **event):
    s = submit.run_job(cluster, fw, s3, h.SAMPLE_SCRIPT, {"input": f"s3://{bucket}/{h.DATA_KEY}",
                                                         "table": "seattle_weather", **event},
                       CLUSTER_LOGS, name, bucket=bucket)
    h.progress(f"{name}: exit {s['exit_status']} in {s['seconds']} s, tasks {s['tasks']}")
    with open(s["log"], errors="replace") as f:
        assert s["exit_status"] == 0, "".join(f.readlines()[-80:])
    # Both workers ran an executor of the job, and each of those executors ran tasks (the job's event log).
    assert len(s["executors"]) == WORKERS, s
    assert all(s["tasks"][e] > 0 for e in s["executors"]), s
    assert {s["executor_workers"][e] for e in s["executors"]} == set(cluster.workers.values()), s
    return s["result"]


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_sample_job_on_a_two_worker_cluster(cluster, s3, fw):
    bucket = f"e2e-cluster-{fw.lower()}"
    h.prepare_bucket(s3, h.SAMPLE_SCRIPT, bucket=bucket)
    first = _submit(cluster, s3, fw, bucket, f"{fw.lower()}-create", years=[2012, 2013])
    second = _submit(cluster, s3, fw, bucket, f"{fw.lower()}-upsert", years=[2013, 2014, 2015])

    assert (first["format"], first["operation"]) == (fw, "create")
    assert first["input_rows"] == first["rows"] == ROWS_2012_2013 and first["duplicate_keys"] == 0
    assert second["operation"] == "upsert" and second["input_rows"] == 3 * 365
    assert second["rows"] == ROWS_ALL and second["duplicate_keys"] == 0
    assert (second["first_date"], second["last_date"]) == ("2012-01-01", "2015-12-31")
    assert [c.split(":")[0] for c in second["schema"]] == EXPECTED_COLUMNS
