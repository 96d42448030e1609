# The handler's configuration: the environment variables the SparkLambda construct sets, read and checked here, and
# the environment-dependent Spark settings derived from them (static defaults come from spark-defaults.conf).
#
# Environment (set by the SparkLambda construct; see docker/conf/spark-defaults.conf for the Spark side):
#   SCRIPT_BUCKET, SPARK_SCRIPT   required: the bucket and key of the PySpark script
#   SPARK_FRAMEWORK               DELTA | HUDI | ICEBERG (the image's table format)
#   SPARK_WAREHOUSE               optional s3://bucket/prefix where tables live
#   ICEBERG_CATALOG_TYPE          glue | hadoop (default hadoop) for the Iceberg catalog `lake`
#   GLUE_DATABASE                 optional database (namespace) for the tables; handed to Spark as the catalog default
#   SPARK_LAMBDA_COMMIT_COORDINATION  dynamodb | glue | none (default none): how concurrent writers of one table
#                                 commit safely (see commit_settings below)
#   SPARK_LAMBDA_LOCK_TABLE       the DynamoDB table of that coordination (required with dynamodb; key `entityId`):
#                                 Iceberg's lock manager and sparklambda.tables.write_lock share it
#   SPARK_LAMBDA_CONFLICT_RETRIES optional, default 8: how often a script that lost a commit race to a concurrent
#                                 writer is run again within the invocation (0 turns the retries off)
#   SPARK_LAMBDA_TMP_MIN_FREE_PCT optional, default 10: below this share of /tmp free after an invocation, the
#                                 SparkContext is stopped so the next invocation starts on a clean spark.local.dir
#   AWS_ENDPOINT_URL_S3 / _GLUE / _DYNAMODB  local tests only: S3-, Glue- and DynamoDB-compatible endpoints (boto3
#                                 reads them natively; mapped here onto s3a, Iceberg's and each lock client's settings)
import os

from .errors import ConfigurationError

FRAMEWORKS = ("DELTA", "HUDI", "ICEBERG")
ICEBERG_CATALOG = "lake"
COORDINATIONS = ("dynamodb", "glue", "none")
TMP_MIN_FREE_PCT_DEFAULT = 10.0
CONFLICT_RETRIES_DEFAULT = 8


def require_env(name, fix):
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set: {fix}")
    return value


def _number_env(env, name, default, low, high, kind=float):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConfigurationError(f"environment variable {name}={raw!r} is not a number from {low} to {high}")
    return value


def tmp_min_free_pct(environ=None):
    return _number_env(os.environ if environ is None else environ, "SPARK_LAMBDA_TMP_MIN_FREE_PCT",
                       TMP_MIN_FREE_PCT_DEFAULT, 0, 100)


def conflict_retries(environ=None):
    return _number_env(os.environ if environ is None else environ, "SPARK_LAMBDA_CONFLICT_RETRIES",
                       CONFLICT_RETRIES_DEFAULT, 0, 100, int)


def framework(environ=None):
    env = os.environ if environ is None else environ
    value = env.get("SPARK_FRAMEWORK", "").strip().upper()
    if value and value not in FRAMEWORKS:
        raise ConfigurationError(f"environment variable SPARK_FRAMEWORK={value!r} is not one of {', '.join(FRAMEWORKS)}")
    return value


def _endpoint(env, service):
    return env.get(f"AWS_ENDPOINT_URL_{service}", "").strip() or env.get("AWS_ENDPOINT_URL", "").strip()


def coordination(environ=None):
    """(mode, lock table) from SPARK_LAMBDA_COMMIT_COORDINATION / SPARK_LAMBDA_LOCK_TABLE, checked."""
    env = os.environ if environ is None else environ
    mode = env.get("SPARK_LAMBDA_COMMIT_COORDINATION", "").strip().lower() or "none"
    table = env.get("SPARK_LAMBDA_LOCK_TABLE", "").strip()
    if mode not in COORDINATIONS:
        raise ConfigurationError(f"environment variable SPARK_LAMBDA_COMMIT_COORDINATION={mode!r} is not one of "
                                 f"{', '.join(COORDINATIONS)}")
    if mode == "dynamodb" and not table:
        raise ConfigurationError("SPARK_LAMBDA_COMMIT_COORDINATION=dynamodb needs SPARK_LAMBDA_LOCK_TABLE (the DynamoDB "
                                 "table the SparkLambda construct creates): set it or redeploy the construct")
    if mode == "glue" and (env.get("SPARK_FRAMEWORK", "").strip().upper() != "ICEBERG"
                           or env.get("ICEBERG_CATALOG_TYPE", "").strip().lower() != "glue"):
        raise ConfigurationError("SPARK_LAMBDA_COMMIT_COORDINATION=glue needs SPARK_FRAMEWORK=ICEBERG with "
                                 "ICEBERG_CATALOG_TYPE=glue (Glue's optimistic commits serve Iceberg tables only)")
    return mode, table


def commit_settings(environ=None):
    """Spark settings that make concurrent writers of one table commit safely, per table format:
    ICEBERG + dynamodb  the Hadoop catalog with Iceberg's DynamoDbLockManager around each metadata commit (the bare
                        Hadoop catalog is unsafe on S3: its commit is a rename, which S3 does not make atomic); a
                        writer that lost the race retries on the new version (Iceberg's commit retries);
    ICEBERG + glue      Glue's optimistic commits on the table version (nothing to add);
    DELTA, HUDI         nothing here: their DynamoDB commit coordination (Delta's S3DynamoDBLogStore, Hudi's
                        DynamoDBBasedLockProvider) is not served by the registries this image is built from, so the
                        script takes the table's write lock in the same DynamoDB table (sparklambda.tables.write_lock,
                        as the sample job does).
    Conflicts that remain (two writers changing the same rows) are reported by the format and retried by the
    handler (see handler.commit_retry)."""
    env = os.environ if environ is None else environ
    mode, table = coordination(env)
    fw = env.get("SPARK_FRAMEWORK", "").strip().upper()
    conf = {}
    if mode == "dynamodb" and fw == "ICEBERG":
        prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
        conf[f"{prefix}.lock-impl"] = "org.apache.iceberg.aws.dynamodb.DynamoDbLockManager"
        conf[f"{prefix}.lock.table"] = table
        endpoint = _endpoint(env, "DYNAMODB")
        if endpoint:
            conf[f"{prefix}.dynamodb.endpoint"] = endpoint
    return conf


def spark_settings(environ=None):
    """The environment-dependent Spark settings (static defaults come from spark-defaults.conf)."""
    env = os.environ if environ is None else environ
    conf = {}
    endpoint = _endpoint(env, "S3")
    fw = env.get("SPARK_FRAMEWORK", "").strip().upper()
    catalog_type = env.get("ICEBERG_CATALOG_TYPE", "").strip().lower() or "hadoop"
    warehouse = env.get("SPARK_WAREHOUSE", "").strip().rstrip("/")
    database = env.get("GLUE_DATABASE", "").strip()
    if endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = "false" if endpoint.startswith("http://") else "true"
    region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip()
    if region:
        conf["spark.hadoop.fs.s3a.endpoint.region"] = region
    if warehouse:
        conf["spark.sql.warehouse.dir"] = warehouse
    glue_endpoint = _endpoint(env, "GLUE")
    if fw == "ICEBERG":
        if catalog_type not in ("glue", "hadoop"):
            raise ConfigurationError(f"environment variable ICEBERG_CATALOG_TYPE={catalog_type!r} is not glue or hadoop")
        prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
        conf[prefix] = "org.apache.iceberg.spark.SparkCatalog"
        conf[f"{prefix}.type"] = catalog_type
        if catalog_type == "glue":
            if not warehouse:
                raise ConfigurationError("ICEBERG_CATALOG_TYPE=glue needs SPARK_WAREHOUSE (s3://bucket/prefix) for new tables")
            conf[f"{prefix}.io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
            if endpoint:
                conf[f"{prefix}.s3.endpoint"] = endpoint
                conf[f"{prefix}.s3.path-style-access"] = "true"
            if glue_endpoint:
                # Iceberg's GlueCatalog builds its own AWS SDK v2 client: give it the endpoint as a catalog property
                # (AwsProperties "glue.endpoint") rather than relying on the SDK reading AWS_ENDPOINT_URL_GLUE.
                conf[f"{prefix}.glue.endpoint"] = glue_endpoint
        if warehouse:
            # The hadoop catalog goes through Hadoop's FileSystem: s3:// is mapped to s3a in spark-defaults.conf.
            conf[f"{prefix}.warehouse"] = warehouse
        if database:
            conf[f"{prefix}.default-namespace"] = database
    if database:
        # Readable by scripts as spark.conf.get("spark.lambda.database"); they may also take it from the event.
        conf["spark.lambda.database"] = database
    conf.update(commit_settings(env))
    return conf
