# Unit tests of the hand-off to EMR Serverless (docker/python/handler/routing.py, sparklambda.events.hand_off and
# --event-uri) without Spark: whole handler invocations on the stub Spark runtime against moto's EMR Serverless and S3
# mocks (requests made by a real boto3 client, so botocore validates them against its emr-serverless model), and the
# job run's side: what the job run was given, read back the way the script reads it there.
import hashlib
import json
import sys

import boto3
import botocore.validate
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.emrserverless.models import emrserverless_backends
from stub_lambda import Context, stand_up

import handler
import lambda_harness as h  # the SAM CLI's sample events (conftest.py: locallambda/)
from handler import config, routing, script_source
from sparklambda import events

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/spark-lambda-job"
STAGING = "s3://staging/spark-lambda-staging/orders/"
PY_FILES = "s3://assets/sparklambda-pyfiles.zip"
THRESHOLD = 5000
DELTA_JAR_PATHS = "/usr/share/aws/delta/lib/delta-spark.jar,/usr/share/aws/delta/lib/delta-storage.jar"

SCRIPTS = {
    "ok.py": "RESULT = {'rows': 3}\n",
    # declares its event too big (before writing anything); nothing after the declaration may run under the handler
    "big.py": ("from sparklambda import events\n"
               "events.fail(events.records()[0]) if events.kind() == 'sqs' else None\n"
               "events.hand_off('%d records' % len(events.current().get('Records', [])))\n"
               "RESULT = {'ran_after_hand_off': True}\n"),
}


def _s3_event(*sizes):
    event = h.s3put("data", *[f"incoming/part-{i}.csv" for i in range(len(sizes))])
    for record, size in zip(event["Records"], sizes):
        record["s3"]["object"]["size"] = size
    return event


def _sqs_batch(records, body_chars):
    template = h.sam_event("sqs/Sqs.json", body="x", md5_of_body="m", queue_name="orders")["Records"][0]
    out = []
    for i in range(records):
        r = json.loads(json.dumps(template))
        r["messageId"] = f"m-{i}"
        r["body"] = json.dumps({"date": f"2012-01-{i % 28 + 1:02d}", "note": "é" + "x" * body_chars})
        out.append(r)
    return {"Records": out}


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """moto's S3 and EMR Serverless, an application, the buckets, a SPARK_HOME with the image's coordination jars,
    and the routing variables; yields the application id."""
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                 "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(script_source, "_s3", None)
    monkeypatch.setattr(routing, "_emr", None)
    monkeypatch.setattr(routing, "_staged", set())
    jars = tmp_path / "spark" / "jars"
    jars.mkdir(parents=True)
    (jars / "spark-lambda-coordination.jar").write_bytes(b"coordination classes")
    (jars / "dynamodb-lock-client-1.0.0.jar").write_bytes(b"lock client")
    monkeypatch.setenv("SPARK_HOME", str(tmp_path / "spark"))
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in ("staging", "assets", "data"):  # the script bucket "b" is never read (stub fetch)
            s3.create_bucket(Bucket=bucket)
        app = boto3.client("emr-serverless", region_name=REGION).create_application(
            name="orders", releaseLabel="emr-7.12.0", type="SPARK")["applicationId"]
        for k, v in {"SPARK_LAMBDA_EMR_APPLICATION_ID": app, "SPARK_LAMBDA_EMR_EXECUTION_ROLE_ARN": ROLE,
                     "SPARK_LAMBDA_EMR_THRESHOLD_BYTES": str(THRESHOLD), "SPARK_LAMBDA_EMR_STAGING_URI": STAGING,
                     "SPARK_LAMBDA_EMR_PY_FILES": PY_FILES}.items():
            monkeypatch.setenv(k, v)
        yield app


@pytest.fixture
def lam(monkeypatch, tmp_path, aws):
    """A DELTA function with DynamoDB commit coordination, routed to the application of `aws`."""
    return stand_up(monkeypatch, tmp_path, SCRIPTS, env={"SPARK_LAMBDA_COMMIT_COORDINATION": "dynamodb",
                                                         "SPARK_LAMBDA_LOCK_TABLE": "orders-locks",
                                                         "SPARK_LAMBDA_WAREHOUSE": "s3://data/tables/"})


def _job_runs(app):
    return emrserverless_backends[DEFAULT_ACCOUNT_ID][REGION].job_runs.get(app, [])


def _conf(parameters):
    """The --conf settings of a sparkSubmitParameters string."""
    words = parameters.split()
    return dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "--conf")


def _option(parameters, name):
    words = parameters.split()
    return words[words.index(name) + 1] if name in words else None


def test_routing_is_off_without_the_application_id(lam, capsys, monkeypatch, aws):
    monkeypatch.delenv("SPARK_LAMBDA_EMR_APPLICATION_ID")
    assert routing.settings() is None, "the other variables alone do not switch routing on"
    out, docs = lam(capsys, "ok.py", _s3_event(10 * THRESHOLD))
    assert out["status"] == "SUCCEEDED" and out["result"] == {"rows": 3}
    assert _job_runs(aws) == [] and handler._spark.ensured == 1
    assert docs[0]["HandedOff"] == [0.0]


def test_a_small_input_runs_on_lambda(lam, capsys, aws):
    out, docs = lam(capsys, "ok.py", _s3_event(THRESHOLD // 2, THRESHOLD // 2))  # exactly the threshold: not above
    assert out["status"] == "SUCCEEDED" and out["result"] == {"rows": 3}
    assert _job_runs(aws) == [], "no StartJobRun"
    assert docs[0]["HandedOff"] == [0.0] and docs[0]["Succeeded"] == [1.0]


def test_an_input_above_the_threshold_is_handed_to_emr_before_spark(lam, capsys, aws):
    event = _s3_event(THRESHOLD, 1)
    out, docs = lam(capsys, "ok.py", event, Context("6f1c0a52-1b8e-4a3e-9a40-3d2c8f0e7b11"))
    assert handler._spark.ensured == 0, "decided from the event alone: Spark was never asked for"
    runs = _job_runs(aws)
    assert len(runs) == 1
    run = runs[0]
    assert out["status"] == "HANDED_OFF" and out["engine"] == "emr-serverless"
    assert out["application_id"] == aws and out["job_run_id"] == run.id and out["job_run_arn"] == run.arn
    assert out["decided_by"] == "input_size" and out["input_bytes"] == THRESHOLD + 1
    assert out["threshold_bytes"] == THRESHOLD and out["event_by_reference"] is False and "event_uri" not in out
    assert str(THRESHOLD + 1) in out["reason"] and "SPARK_LAMBDA_EMR_THRESHOLD_BYTES" in out["reason"]
    assert out["script"] == {"uri": "s3://b/ok.py"}
    # the request, as StartJobRun received it
    assert run.client_token == "6f1c0a52-1b8e-4a3e-9a40-3d2c8f0e7b11" == out["client_token"]
    assert run.execution_role_arn == ROLE and run.name == "orders-job-6f1c0a52-1b8e-4a3e-9a40-3d2c8f0e7b11"
    assert run.tags == {"spark-lambda:function": "orders-job",
                        "spark-lambda:request-id": "6f1c0a52-1b8e-4a3e-9a40-3d2c8f0e7b11"}
    submit = run.job_driver["sparkSubmit"]
    assert submit["entryPoint"] == "s3://b/ok.py"
    assert submit["entryPointArguments"] == ["--event", json.dumps(event)]
    params = submit["sparkSubmitParameters"]
    assert _option(params, "--py-files") == PY_FILES
    jars = _option(params, "--jars").split(",")
    assert ",".join(jars[:2]) == DELTA_JAR_PATHS, "--jars replaces the application's spark.jars: repeated first"
    digest = hashlib.sha256(b"coordination classes").hexdigest()
    assert jars[2] == f"{STAGING}jars/{digest}/spark-lambda-coordination.jar"
    assert jars[3].endswith("/dynamodb-lock-client-1.0.0.jar") and len(jars) == 4
    conf = _conf(params)
    expected = config.spark_settings()
    assert conf == expected, "exactly this function's dynamic settings (config.spark_settings)"
    assert conf["spark.delta.logStore.s3.impl"] == "com.sparklambda.coordination.DynamoDbLockingS3LogStore"
    assert conf["spark.hadoop.sparklambda.lock.table"] == "orders-locks"
    assert conf["spark.sql.warehouse.dir"] == "s3://data/tables"
    # the staged jars are the image's files
    s3 = boto3.client("s3", region_name=REGION)
    key = jars[2].split("s3://staging/", 1)[1]
    assert s3.get_object(Bucket="staging", Key=key)["Body"].read() == b"coordination classes"
    doc = docs[0]
    assert doc["HandedOff"] == [1.0] and doc["Succeeded"] == [1.0] and doc["Failed"] == [0.0]
    assert doc["job_run_id"] == run.id and doc["engine"] == "emr-serverless" and doc["event_by_reference"] is False
    assert "ScriptSeconds" not in doc and "SessionSeconds" not in doc


def test_client_token_is_the_request_id_of_each_invocation(lam, capsys, aws):
    for request_id in ("c0ffee00-0000-4000-8000-000000000001", "c0ffee00-0000-4000-8000-000000000002"):
        out, _ = lam(capsys, "ok.py", _s3_event(THRESHOLD + 1), Context(request_id))
        assert out["client_token"] == request_id
    assert [r.client_token for r in _job_runs(aws)] == ["c0ffee00-0000-4000-8000-000000000001",
                                                        "c0ffee00-0000-4000-8000-000000000002"]


def test_the_request_passes_botocore_validation_and_the_model_limits():
    model = boto3.client("emr-serverless", region_name=REGION).meta.service_model
    route = routing.Routing("00fabc1234567890", ROLE, THRESHOLD, "staging", "p/", PY_FILES)
    request = routing.job_request(route, "6f1c0a52-1b8e-4a3e-9a40-3d2c8f0e7b11", "orders-job", "s3://b/job.py",
                                  ["--event", "{}"], {"spark.sql.warehouse.dir": "s3://data/t"},
                                  ["/usr/lib/hudi/hudi-spark-bundle.jar"])
    shape = model.operation_model("StartJobRun").input_shape
    botocore.validate.validate_parameters(request, shape)  # raises ParamValidationError when it does not fit
    broken = {k: v for k, v in request.items() if k != "clientToken"}
    with pytest.raises(botocore.exceptions.ParamValidationError, match="clientToken"):
        botocore.validate.validate_parameters(broken, shape)
    limits = routing.limits(model)
    assert limits["submit_parameters"] == model.shape_for("SparkSubmitParameters").metadata["max"] == 102400
    assert limits["client_token"] == 64
    assert limits["argument"] == model.shape_for("EntryPointArgument").metadata.get("max", routing.FALLBACK_ARGUMENT_MAX)
    with pytest.raises(handler.HandOffError, match="whitespace"):
        routing.job_request(route, "r", "f", "s3://b/job.py", [], {"spark.x": "a b"})


def test_a_large_batch_goes_by_reference_and_reads_back_whole(lam, capsys, aws, monkeypatch):
    event = _sqs_batch(40, 400)
    assert len(json.dumps(event)) > routing.FALLBACK_ARGUMENT_MAX
    out, docs = lam(capsys, "big.py", event, Context("aa5e1f9e-7d44-4b0c-8a4f-2d1c6b0e9f10"))
    assert out["status"] == "HANDED_OFF" and out["decided_by"] == "script" and out["reason"].endswith("40 records")
    assert out["input_bytes"] is None, "an SQS batch of records names no S3 objects"
    assert out["event_by_reference"] is True
    assert out["batchItemFailures"] == [], "the whole batch went to EMR: no record is left for Lambda to retry"
    assert "result" not in out, "the script's run ended at hand_off"
    assert handler._spark.ensured == 1
    run, = _job_runs(aws)
    args = run.job_driver["sparkSubmit"]["entryPointArguments"]
    assert args == ["--event-uri", f"{STAGING}events/aa5e1f9e-7d44-4b0c-8a4f-2d1c6b0e9f10.json"] == \
        ["--event-uri", out["event_uri"]]
    # the job run's side: the same script, under spark-submit, reads the event through the script API
    monkeypatch.setattr(events, "_current", None)
    monkeypatch.setattr(sys, "argv", ["big.py", *args])
    assert events.current() == event
    assert events.hand_off("still big") is False, "on EMR a hand-off declaration carries on (no loop)"
    assert docs[0]["HandedOff"] == [1.0] and docs[0]["handoff_decided_by"] == "script"


def test_hand_off_under_spark_submit_carries_on(monkeypatch, capsys):
    monkeypatch.setattr(events, "_current", None)
    monkeypatch.setattr(sys, "argv", ["job.py", "--event", '{"input": "s3://b/k"}'])
    assert events.hand_off("too big") is False
    assert "carrying on" in capsys.readouterr().err
    events.begin({"x": 1})
    try:
        with pytest.raises(events.HandOffRequested, match="too big"):
            events.hand_off("too big")
        assert not issubclass(events.HandOffRequested, Exception), "a script's `except Exception` must not stop it"
    finally:
        events.end()


def test_event_uri_and_event_together_are_refused(monkeypatch):
    with pytest.raises(events.EventFormatError, match="one way"):
        events._from_argv(["--event", "{}", "--event-uri", "s3://staging/e.json"])


def test_a_scripts_hand_off_without_routing_is_a_hand_off_error(lam, capsys, monkeypatch, aws):
    monkeypatch.delenv("SPARK_LAMBDA_EMR_APPLICATION_ID")
    out, docs = lam(capsys, "big.py", {"input": "s3://data/x.csv"})
    assert isinstance(out, handler.HandOffError)
    assert "RouteLargeInputsTo" in str(out) and "SPARK_LAMBDA_EMR_APPLICATION_ID" in str(out)
    assert docs[0]["Failed"] == [1.0] and docs[0]["error_type"] == "HandOffError" and docs[0]["HandedOff"] == [0.0]
    assert _job_runs(aws) == []


@pytest.mark.parametrize("change, fragments", [
    ({"SPARK_LAMBDA_EMR_APPLICATION_ID": "00fdoesnotexist"}, ["ResourceNotFoundException", "00fdoesnotexist",
                                                               "SPARK_LAMBDA_EMR_APPLICATION_ID"]),
    ({"SPARK_LAMBDA_EMR_EXECUTION_ROLE_ARN": "arn:aws:iam::999999999999:role/other"},
     ["AccessDeniedException", "iam:PassRole", "RouteLargeInputsTo"]),
])
def test_start_job_run_failing_is_a_hand_off_error(lam, capsys, monkeypatch, change, fragments):
    for k, v in change.items():
        monkeypatch.setenv(k, v)
    out, docs = lam(capsys, "ok.py", _s3_event(THRESHOLD + 1))
    assert isinstance(out, handler.HandOffError), out
    for fragment in fragments:
        assert fragment in str(out), (fragment, str(out))
    assert docs[0]["Failed"] == [1.0] and docs[0]["error_type"] == "HandOffError" and docs[0]["HandedOff"] == [0.0]


def test_unwritable_staging_is_a_hand_off_error(lam, capsys, monkeypatch):
    monkeypatch.setenv("SPARK_LAMBDA_EMR_STAGING_URI", "s3://no-such-bucket/p/")
    out, _ = lam(capsys, "big.py", _sqs_batch(40, 400))
    assert isinstance(out, handler.HandOffError) and "s3:PutObject" in str(out) and "no-such-bucket" in str(out)


@pytest.mark.parametrize("change, fragment", [
    ({"SPARK_LAMBDA_EMR_THRESHOLD_BYTES": ""}, "SPARK_LAMBDA_EMR_THRESHOLD_BYTES is not set"),
    ({"SPARK_LAMBDA_EMR_THRESHOLD_BYTES": "1GiB"}, "not a whole number of bytes"),
    ({"SPARK_LAMBDA_EMR_STAGING_URI": "s3://staging/no-slash"}, "ending in '/'"),
    ({"SPARK_LAMBDA_EMR_PY_FILES": "sparklambda.zip"}, "SPARK_LAMBDA_EMR_PY_FILES"),
    ({"SPARK_LAMBDA_EMR_EXECUTION_ROLE_ARN": ""}, "SPARK_LAMBDA_EMR_EXECUTION_ROLE_ARN is not set"),
])
def test_a_partial_routing_configuration_is_named(lam, capsys, monkeypatch, change, fragment):
    for k, v in change.items():
        monkeypatch.setenv(k, v)
    out, _ = lam(capsys, "ok.py", _s3_event(1))
    assert isinstance(out, handler.ConfigurationError) and fragment in str(out), str(out)


def test_plain_inputs_are_sized_with_head_object(lam, capsys, aws):
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket="data", Key="big.csv", Body=b"x" * (THRESHOLD + 10))
    s3.put_object(Bucket="data", Key="small.csv", Body=b"x" * 10)
    out, _ = lam(capsys, "ok.py", {"input": "s3://data/small.csv"})
    assert out["status"] == "SUCCEEDED"
    out, _ = lam(capsys, "ok.py", {"input": ["s3://data/small.csv", "s3://data/big.csv", "s3://data/missing/"]})
    assert out["status"] == "HANDED_OFF" and out["input_bytes"] == THRESHOLD + 20 and "1 not sized" in out["reason"]
    out, _ = lam(capsys, "ok.py", h.sam_event("cloudwatch/ScheduledEvent.json", rule="r"))
    assert out["status"] == "SUCCEEDED", "an event that names no S3 objects stays on Lambda"


def test_emr_settings_are_configs_own_minus_local_mode(monkeypatch):
    env = {"SPARK_LAMBDA_FRAMEWORK": "ICEBERG", "SPARK_LAMBDA_ICEBERG_CATALOG": "glue", "SPARK_LAMBDA_WAREHOUSE": "s3://b/t",
           "SPARK_LAMBDA_GLUE_DATABASE": "sales", "AWS_REGION": REGION}
    conf = routing.spark_conf(env)
    assert conf == config.spark_settings(env) and conf["spark.sql.catalog.lake.type"] == "glue"
    assert not any("endpoint" in k and k != "spark.hadoop.fs.s3a.endpoint.region" for k in conf), "no test endpoint"
    env["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:9000"
    assert routing.spark_conf(env)["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000", "a test endpoint travels"
    local = {"spark.master": "local[*]", "spark.local.dir": "/tmp/spark-local", "spark.ui.enabled": "false",
             "spark.driver.bindAddress": "127.0.0.1"}
    original = config.spark_settings
    monkeypatch.setattr(config, "spark_settings", lambda e=None: {**original(e), **local})
    assert not set(local) & set(routing.spark_conf(env)), "local-mode settings never reach EMR"


def test_hudi_defaults_travel_as_a_staged_file_and_jars_are_staged_once(lam, capsys, aws, monkeypatch):
    monkeypatch.setenv("SPARK_LAMBDA_FRAMEWORK", "HUDI")
    lam(capsys, "ok.py", _s3_event(THRESHOLD + 1))
    text = config.hudi_defaults_conf()
    assert "hoodie.write.lock.provider com.sparklambda.coordination.HudiDynamoDbLockProvider" in text
    folder = f"{STAGING}hudi-conf/{hashlib.sha256(text.encode()).hexdigest()}"
    run, = _job_runs(aws)
    params = run.job_driver["sparkSubmit"]["sparkSubmitParameters"]
    conf = _conf(params)
    assert conf["spark.emr-serverless.driverEnv.HUDI_CONF_DIR"] == conf["spark.executorEnv.HUDI_CONF_DIR"] == folder
    s3 = boto3.client("s3", region_name=REGION)
    key = folder.split("s3://staging/", 1)[1] + "/hudi-defaults.conf"
    assert s3.get_object(Bucket="staging", Key=key)["Body"].read().decode() == text
    assert _option(params, "--jars").split(",")[0] == "/usr/lib/hudi/hudi-spark-bundle.jar"
    # a second hand-off (a new environment: nothing cached) finds every staged object in place and writes none
    monkeypatch.setattr(routing, "_staged", set())
    puts = []
    client = script_source.s3_client()
    client.meta.events.register("before-call.s3.PutObject", lambda **kw: puts.append(kw["params"]["url_path"]))
    lam(capsys, "ok.py", _s3_event(THRESHOLD + 1))
    assert len(_job_runs(aws)) == 2 and puts == [], "content-addressed staged files are uploaded once"


def test_iceberg_and_no_coordination_keep_the_applications_jars(lam, capsys, aws, monkeypatch):
    monkeypatch.setenv("SPARK_LAMBDA_COMMIT_COORDINATION", "none")
    lam(capsys, "ok.py", _s3_event(THRESHOLD + 1))
    monkeypatch.setenv("SPARK_LAMBDA_FRAMEWORK", "ICEBERG")
    monkeypatch.setenv("SPARK_LAMBDA_COMMIT_COORDINATION", "dynamodb")
    lam(capsys, "ok.py", _s3_event(THRESHOLD + 1))
    for run in _job_runs(aws):
        assert "--jars" not in run.job_driver["sparkSubmit"]["sparkSubmitParameters"].split(), \
            "without the image's lock classes the application's spark.jars stays as it is"


def test_emr_format_jars_are_the_constructs():
    """--jars replaces the application's spark.jars, which the construct sets to its emrFormatJars: the two lists
    must agree."""
    import os
    import re

    go = os.path.join(os.path.dirname(__file__), "..", "..", "..", "constructs", "sparklambda", "sparkconf.go")
    with open(go, encoding="utf-8") as f:
        source = f.read()
    block = source[source.index("var emrFormatJars"):]
    block = block[:block.index("\n}\n")]
    theirs = {m.group(1).upper(): tuple(re.findall(r'"([^"]+)"', m.group(2)))
              for m in re.finditer(r"Framework(\w+):\s*\{([^}]*)\}", block)}
    assert theirs == routing.EMR_FORMAT_JARS


def test_job_run_tags_have_the_prefix_the_construct_may_tag_with():
    """The construct grants emr-serverless:TagResource only for tag keys starting with EmrJobRunTagPrefix
    (constructs/sparklambda/routing.go): a tag key outside it would make every StartJobRun fail with AccessDenied."""
    import os
    import re

    go = os.path.join(os.path.dirname(__file__), "..", "..", "..", "constructs", "sparklambda", "routing.go")
    with open(go, encoding="utf-8") as f:
        prefix = re.search(r'EmrJobRunTagPrefix = "([^"]+)"', f.read()).group(1)
    tags = routing.job_run_request_tags("a-function", "a-request")
    assert tags and all(key.startswith(prefix) for key in tags), (prefix, tags)
