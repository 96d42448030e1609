# End-to-end, the deployed Iceberg path: the catalog `lake` as a Glue catalog (GlueCatalog + S3FileIO, as
# SPARK_LAMBDA_ICEBERG_CATALOG=glue sets it) against moto's Glue emulation on the same local server as S3. The sample job
# runs unchanged: cold create, warm upsert on the same JVM, read-back counts; the table is registered in the Glue
# database and its data and metadata are written through S3FileIO under SPARK_LAMBDA_WAREHOUSE.
import importlib.util

import boto3
import pytest

import lambda_harness as h

DATABASE = "e2e_glue_db"
ROWS_2012_2013 = 366 + 365
ROWS_ALL = 1461


def _glue(s3):
    return boto3.client("glue", endpoint_url=s3.url, region_name="us-east-1",
                        aws_access_key_id=h.DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=h.DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


@pytest.fixture(scope="module")
def function(pool, s3):
    if importlib.util.find_spec("pyparsing") is None:
        # moto's Glue backend imports pyparsing (moto's `glue` extra, pinned in locallambda/requirements.txt).
        pytest.fail("moto's Glue emulation needs pyparsing: reinstall the harness tools (make e2e-tools)")
    glue = _glue(s3)
    if DATABASE not in [d["Name"] for d in glue.get_databases()["DatabaseList"]]:
        glue.create_database(DatabaseInput={"Name": DATABASE})  # the construct's GlueDatabase exists before deploy
    f = pool.get("ICEBERG", "iceberg-glue", extra_env={
        "SPARK_LAMBDA_ICEBERG_CATALOG": "glue",
        "SPARK_LAMBDA_GLUE_DATABASE": DATABASE,
        "AWS_ENDPOINT_URL_GLUE": s3.url,
    })
    f.put_script()  # the sample job, assets/scripts/table_job.py
    return f


def _ok(r, f):
    assert not r.failed, f"invocation failed: {r.raw[:3000]}\n--- function log:\n{f.log_tail()}"
    return r.payload


def test_glue_catalog_cold_create_then_warm_upsert(function, s3):
    f = function
    cold = _ok(f.invoke(f.sample_event(years=[2012, 2013])), f)
    warm = _ok(f.invoke(f.sample_event(years=[2013, 2014, 2015])), f)
    print(f"ICEBERG/glue: cold {cold['duration_s']} s, warm {warm['duration_s']} s")

    assert cold["result"]["table"] == f"lake.{DATABASE}.seattle_weather"
    assert (cold["result"]["operation"], cold["result"]["rows"]) == ("create", ROWS_2012_2013)
    assert cold["result"]["duplicate_keys"] == 0
    assert (warm["result"]["operation"], warm["result"]["rows"]) == ("upsert", ROWS_ALL)
    assert warm["result"]["duplicate_keys"] == 0
    assert (warm["result"]["first_date"], warm["result"]["last_date"]) == ("2012-01-01", "2015-12-31")
    assert warm["spark"]["new_jvm"] is False and warm["spark"]["jvm_pid"] == cold["spark"]["jvm_pid"]

    # The table is registered in Glue as an Iceberg table whose current metadata is the upsert's, in the warehouse.
    table = _glue(s3).get_table(DatabaseName=DATABASE, Name="seattle_weather")["Table"]
    params = table["Parameters"]
    assert params.get("table_type", "").upper() == "ICEBERG"
    location = params["metadata_location"]
    assert location.startswith(f"s3://{f.bucket}/tables/"), location
    assert params.get("previous_metadata_location"), "the upsert must have committed a second metadata version"
    key = location.split(f"s3://{f.bucket}/", 1)[1]
    assert key in f.s3.list_keys(f.bucket, key.rsplit("/", 1)[0] + "/")
    data = [k for k in f.s3.list_keys(f.bucket, "tables/") if k.endswith(".parquet")]
    assert data, "S3FileIO wrote no data files under SPARK_LAMBDA_WAREHOUSE"

    # A read-only run sees the committed table through the Glue catalog.
    again = _ok(f.invoke(f.sample_event(action="read")), f)
    assert again["result"]["rows"] == ROWS_ALL
