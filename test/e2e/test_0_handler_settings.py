# Fast checks of docker/handler.py without Spark: the environment-dependent Spark settings (endpoint override,
# warehouse, Iceberg catalog `lake` as glue or hadoop, Glue database) and the configuration errors.
import importlib.util
import os

import pytest

import lambda_harness as h

spec = importlib.util.spec_from_file_location("handler_under_test", os.path.join(h.ROOT, "docker", "handler.py"))
handler = importlib.util.module_from_spec(spec)
spec.loader.exec_module(handler)


def test_local_iceberg_hadoop_catalog_with_endpoint():
    conf = handler.spark_settings({
        "SPARK_FRAMEWORK": "ICEBERG", "ICEBERG_CATALOG_TYPE": "hadoop", "SPARK_WAREHOUSE": "s3://b/tables/",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1",
    })
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"
    assert conf["spark.sql.warehouse.dir"] == "s3://b/tables"
    assert conf["spark.sql.catalog.lake"] == "org.apache.iceberg.spark.SparkCatalog"
    assert conf["spark.sql.catalog.lake.type"] == "hadoop"
    assert conf["spark.sql.catalog.lake.warehouse"] == "s3://b/tables"
    assert "spark.sql.catalog.lake.io-impl" not in conf


def test_deployed_iceberg_glue_catalog():
    conf = handler.spark_settings({
        "SPARK_FRAMEWORK": "ICEBERG", "ICEBERG_CATALOG_TYPE": "glue", "SPARK_WAREHOUSE": "s3://b/tables",
        "GLUE_DATABASE": "spark_lambda_sample", "AWS_REGION": "eu-west-1",
    })
    assert conf["spark.sql.catalog.lake.type"] == "glue"
    assert conf["spark.sql.catalog.lake.io-impl"] == "org.apache.iceberg.aws.s3.S3FileIO"
    assert conf["spark.sql.catalog.lake.warehouse"] == "s3://b/tables"
    assert conf["spark.sql.catalog.lake.default-namespace"] == "spark_lambda_sample"
    assert not any(k.startswith("spark.hadoop.fs.s3a.endpoint") and k != "spark.hadoop.fs.s3a.endpoint.region"
                   for k in conf), "no endpoint override when deployed"


def test_delta_gets_no_iceberg_settings():
    conf = handler.spark_settings({"SPARK_FRAMEWORK": "DELTA", "SPARK_WAREHOUSE": "s3://b/t"})
    assert conf == {"spark.sql.warehouse.dir": "s3://b/t"}


@pytest.mark.parametrize("env, fragment", [
    ({"SPARK_FRAMEWORK": "ICEBERG", "ICEBERG_CATALOG_TYPE": "nessie"}, "ICEBERG_CATALOG_TYPE='nessie'"),
    ({"SPARK_FRAMEWORK": "ICEBERG", "ICEBERG_CATALOG_TYPE": "glue"}, "needs SPARK_WAREHOUSE"),
])
def test_bad_catalog_configuration_is_named(env, fragment):
    with pytest.raises(handler.ConfigurationError, match=fragment.replace("(", r"\(")):
        handler.spark_settings(env)


def test_missing_variables_are_named_before_anything_runs(monkeypatch):
    monkeypatch.delenv("SCRIPT_BUCKET", raising=False)
    monkeypatch.setenv("SPARK_SCRIPT", "scripts/job.py")
    with pytest.raises(handler.ConfigurationError, match="SCRIPT_BUCKET is not set"):
        handler.handler({}, None)
    monkeypatch.setenv("SCRIPT_BUCKET", "b")
    monkeypatch.setenv("SPARK_FRAMEWORK", "PARQUET")
    with pytest.raises(handler.ConfigurationError, match="SPARK_FRAMEWORK='PARQUET'"):
        handler.handler({}, None)


def test_non_json_event_is_refused(monkeypatch):
    monkeypatch.setenv("SCRIPT_BUCKET", "b")
    monkeypatch.setenv("SPARK_SCRIPT", "scripts/job.py")
    monkeypatch.delenv("SPARK_FRAMEWORK", raising=False)
    with pytest.raises(handler.EventError):
        handler.handler({"x": float("nan")}, None)
