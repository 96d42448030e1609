# The handler's configuration: the environment variables the SparkLambda construct sets, read and checked here, and
# the environment-dependent Spark settings derived from them (static defaults come from spark-defaults.conf).
#
# Environment (set by the SparkLambda construct; see docker/conf/spark-defaults.conf for the Spark side):
#   SPARK_LAMBDA_SCRIPT_BUCKET, SPARK_LAMBDA_SCRIPT_KEY  required: the bucket and key of the PySpark script
#   SPARK_LAMBDA_FRAMEWORK        DELTA | HUDI | ICEBERG (the image's table format)
#   SPARK_LAMBDA_WAREHOUSE        optional s3://bucket/prefix where tables live
#   SPARK_LAMBDA_ICEBERG_CATALOG  glue | hadoop (default hadoop) for the Iceberg catalog `lake`
#   SPARK_LAMBDA_GLUE_DATABASE    optional database (namespace) for the tables; handed to Spark as the catalog default
#   SPARK_LAMBDA_COMMIT_COORDINATION  dynamodb | glue | none (default none): how concurrent writers of one table
#                                 commit safely (see commit_settings below)
#   SPARK_LAMBDA_LOCK_TABLE       the DynamoDB table of that coordination (required with dynamodb; key `entityId`,
#                                 shared by Iceberg's lock manager and the image's Delta and Hudi commit locks)
#   SPARK_LAMBDA_CONFLICT_RETRIES optional, default 8: how often a script that lost a commit race to a concurrent
#                                 writer is run again within the invocation (0 turns the retries off)
#   SPARK_LAMBDA_TMP_MIN_FREE_PCT optional, default 10: below this share of /tmp free after an invocation, the
#                                 SparkContext is stopped so the next invocation starts on a clean spark.local.dir
#   SPARK_LAMBDA_METRICS, SPARK_LAMBDA_METRICS_NAMESPACE  optional: the per-invocation CloudWatch metrics (off; the
#                                 namespace, default SparkLambda), read by metrics.py
#   AWS_ENDPOINT_URL_S3 / _GLUE / _DYNAMODB  local tests only: S3-, Glue- and DynamoDB-compatible endpoints (boto3
#                                 reads them natively; mapped here onto s3a, Iceberg's and each lock client's settings)
import os

from .errors import ConfigurationError

FRAMEWORKS = ("DELTA", "HUDI", "ICEBERG")
ICEBERG_CATALOG = "lake"
COORDINATIONS = ("dynamodb", "glue", "none")
TMP_MIN_FREE_PCT_DEFAULT = 10.0
# Below this share of free /tmp after an invocation, the handler has the JVM collect its garbage so that Spark's
# ContextCleaner deletes the shuffle and broadcast files no one can reach (handler.isolation.reclaim_tmp).
TMP_GC_FREE_PCT_DEFAULT = 50.0
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


def tmp_gc_free_pct(environ=None):
    return _number_env(os.environ if environ is None else environ, "SPARK_LAMBDA_TMP_GC_FREE_PCT",
                       TMP_GC_FREE_PCT_DEFAULT, 0, 100)


def conflict_retries(environ=None):
    return _number_env(os.environ if environ is None else environ, "SPARK_LAMBDA_CONFLICT_RETRIES",
                       CONFLICT_RETRIES_DEFAULT, 0, 100, int)


def framework(environ=None):
    env = os.environ if environ is None else environ
    value = env.get("SPARK_LAMBDA_FRAMEWORK", "").strip().upper()
    if value and value not in FRAMEWORKS:
        raise ConfigurationError(f"environment variable SPARK_LAMBDA_FRAMEWORK={value!r} is not one of {', '.join(FRAMEWORKS)}")
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
    if mode == "glue" and (env.get("SPARK_LAMBDA_FRAMEWORK", "").strip().upper() != "ICEBERG"
                           or env.get("SPARK_LAMBDA_ICEBERG_CATALOG", "").strip().lower() != "glue"):
        raise ConfigurationError("SPARK_LAMBDA_COMMIT_COORDINATION=glue needs SPARK_LAMBDA_FRAMEWORK=ICEBERG with "
                                 "SPARK_LAMBDA_ICEBERG_CATALOG=glue (Glue's optimistic commits serve Iceberg tables only)")
    return mode, table


COORDINATION_PACKAGE = "com.sparklambda.coordination"  # docker/java, built into spark-lambda-coordination.jar
# Where the handler writes Hudi's global write defaults (hudi-defaults.conf, read by Hudi from $HUDI_CONF_DIR): Hudi's
# concurrency settings are write options, not Spark settings, and this is Hudi's documented way to default them.
HUDI_CONF_DIR = "/tmp/hudi-conf"


# Hudi write defaults for every HUDI function, coordinated or not (hudi-defaults.conf; a script's write options
# override them per write).
HUDI_WRITE_DEFAULTS = {
    # Hudi's metadata table (a second Hudi table under .hoodie/metadata, written in step with every commit) indexes
    # the file listings of large tables. On Lambda-sized tables it costs more than it saves: measured on the sample
    # upsert (`make bench BENCH_ARGS=--profile`, 4 bucket-index file groups, moto S3), it made 62% of the S3 requests
    # (2,622 -> 992 for four upserts without it) and warm upserts took 5.4 -> 4.2 s (1,461 rows) and 15 -> 11.8 s
    # (10 MB). It is an index only: without it Hudi lists the table's few files itself, with the same commits,
    # timeline and concurrency control. Hudi removes an existing metadata table when a writer runs with it off, so
    # every writer of a table should agree: the EMR Serverless hand-off gets these same defaults; a script writing a
    # table that other engines write with the metadata table sets hoodie.metadata.enable=true in its write options.
    "hoodie.metadata.enable": "false",
    # Hudi 1.0 compresses its Parquet base files with gzip; Spark's own default (and so Delta's) is snappy. A
    # copy-on-write upsert rewrites the file groups it touches, so the codec is CPU on the critical path of every
    # write. Measured on the 10 MB input (interleaved environments of one cold and four warm upserts, 2 rounds):
    # first warm upsert 15.0 -> 14.5 s, later ones 17.8 -> 16.5 s, cold 21.8 -> 21.4 s; the files are larger on S3.
    # Readers of every engine read both codecs, and files of either may sit side by side in one table.
    "hoodie.parquet.compression.codec": "snappy",
    # Hudi merges an upsert's records with the stored ones through a record merger. Its default for event-time
    # ordering (the precombine field decides, what the sample job and Hudi's own default payload do) works on Avro
    # records: every incoming row and every row of a rewritten file group is converted from Spark's rows to Avro and
    # back. DefaultSparkRecordMerger is Hudi's own merger for the same ordering on Spark's rows (same merge strategy id,
    # so the table's configuration does not change; a writer without this option still writes the table the Avro way).
    # Measured on the 10 MB input (interleaved environments of one cold and two warm upserts, 2 rounds): cold
    # 23.6 -> 21.7 s, first warm 16.3 -> 14.7 s, later warm 18.4 -> 17.7 s; the sample CSV within noise.
    "hoodie.write.record.merge.custom.implementation.classes": "org.apache.hudi.DefaultSparkRecordMerger",
}


def hudi_write_defaults(environ=None):
    """Hudi write options (hudi-defaults.conf) of a HUDI function, empty for the other formats: HUDI_WRITE_DEFAULTS,
    and with DynamoDB coordination the options for concurrent writers: optimistic concurrency control with the
    image's DynamoDB lock provider, and failed writes cleaned lazily so that no writer rolls back another writer's
    in-flight commit (Hudi's concurrency-control guide)."""
    env = os.environ if environ is None else environ
    mode, table = coordination(env)
    if env.get("SPARK_LAMBDA_FRAMEWORK", "").strip().upper() != "HUDI":
        return {}
    if mode != "dynamodb":
        return dict(HUDI_WRITE_DEFAULTS)
    props = {
        **HUDI_WRITE_DEFAULTS,
        "hoodie.write.concurrency.mode": "optimistic_concurrency_control",
        "hoodie.cleaner.policy.failed.writes": "LAZY",
        "hoodie.write.lock.provider": f"{COORDINATION_PACKAGE}.HudiDynamoDbLockProvider",
        "hoodie.write.lock.dynamodb.table": table,
        # Upserts from several writers are only safe when a key always maps to the same file group: then two writers
        # upserting one key touch the same file group and OCC sees the conflict. With Hudi's default (bloom) index
        # each writer puts a key it has not seen committed into a new file group of its own, and the table ends up
        # with duplicate keys (measured: 1,097 duplicates from 4 writers). The bucket index hashes keys to a fixed
        # number of file groups; 4 suits Lambda-sized tables (Hudi's default, 256, makes 256 small files). A script
        # may still set its own index options per table.
        "hoodie.index.type": "BUCKET",
        "hoodie.index.bucket.engine": "SIMPLE",
        "hoodie.bucket.index.num.buckets": "4",
        # Hudi waits this long for the lock per try, and tries this often: bounded well inside a Lambda timeout.
        "hoodie.write.lock.wait_time_ms": "60000",
        "hoodie.write.lock.client.num_retries": "3",
    }
    region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip()
    if region:
        props["hoodie.write.lock.dynamodb.region"] = region
    endpoint = _endpoint(env, "DYNAMODB")
    if endpoint:
        props["hoodie.write.lock.dynamodb.endpoint_url"] = endpoint
    return props


def hudi_defaults_conf(environ=None):
    """The text of hudi-defaults.conf (Hudi's "key value" lines) for hudi_write_defaults(environ); "" when there are
    none. The handler writes it into HUDI_CONF_DIR for the Lambda JVM and stages it for EMR Serverless job runs."""
    props = hudi_write_defaults(environ)
    if not props:
        return ""
    lines = ["# Written by the Lambda handler: Hudi's write defaults (handler/config.py)"]
    lines += [f"{k} {v}" for k, v in props.items()]
    return "\n".join(lines) + "\n"


def commit_settings(environ=None):
    """Spark settings that make concurrent writers of one table commit safely, per table format:
    DELTA + dynamodb    the image's DynamoDbLockingS3LogStore for s3/s3a: the commit file N.json is written under a
                        DynamoDB lock on the table, so two writers can never both write version N (S3 alone has no
                        put-if-absent for Delta's default log store); Delta's optimistic transaction handles the rest;
    HUDI + dynamodb     optimistic concurrency control with the image's DynamoDB lock provider (written to
                        hudi-defaults.conf with Hudi's other write defaults, see hudi_write_defaults);
    ICEBERG + dynamodb  the Hadoop catalog with Iceberg's DynamoDbLockManager around each metadata commit (the bare
                        Hadoop catalog is unsafe on S3: its commit is a rename, which S3 does not make atomic);
    ICEBERG + glue      Glue's optimistic commits on the table version (nothing to add).
    All share the lock table (key entityId). Conflicts that remain (two writers changing the same rows) are reported
    by the format and retried by the handler (see handler.commit_retry)."""
    env = os.environ if environ is None else environ
    mode, table = coordination(env)
    fw = env.get("SPARK_LAMBDA_FRAMEWORK", "").strip().upper()
    region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip()
    endpoint = _endpoint(env, "DYNAMODB")
    conf = {}
    if mode != "dynamodb":
        return conf
    if fw == "DELTA":
        store = f"{COORDINATION_PACKAGE}.DynamoDbLockingS3LogStore"
        conf["spark.delta.logStore.s3a.impl"] = store
        conf["spark.delta.logStore.s3.impl"] = store
        conf["spark.hadoop.sparklambda.lock.table"] = table
        if region:
            conf["spark.hadoop.sparklambda.lock.region"] = region
        if endpoint:
            conf["spark.hadoop.sparklambda.lock.endpoint"] = endpoint
    elif fw == "ICEBERG":
        prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
        conf[f"{prefix}.lock-impl"] = "org.apache.iceberg.aws.dynamodb.DynamoDbLockManager"
        conf[f"{prefix}.lock.table"] = table
        # The lock is held only around one metadata rename: poll for it every 0.5 s instead of Iceberg's default 5 s,
        # which would add seconds to every contended commit of a short Lambda invocation.
        conf[f"{prefix}.lock.acquire-interval-ms"] = "500"
        if endpoint:
            conf[f"{prefix}.dynamodb.endpoint"] = endpoint
    return conf


def spark_settings(environ=None):
    """The environment-dependent Spark settings (static defaults come from spark-defaults.conf)."""
    env = os.environ if environ is None else environ
    conf = {}
    endpoint = _endpoint(env, "S3")
    fw = env.get("SPARK_LAMBDA_FRAMEWORK", "").strip().upper()
    catalog_type = env.get("SPARK_LAMBDA_ICEBERG_CATALOG", "").strip().lower() or "hadoop"
    warehouse = env.get("SPARK_LAMBDA_WAREHOUSE", "").strip().rstrip("/")
    database = env.get("SPARK_LAMBDA_GLUE_DATABASE", "").strip()
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
            raise ConfigurationError(f"environment variable SPARK_LAMBDA_ICEBERG_CATALOG={catalog_type!r} is not glue or hadoop")
        prefix = f"spark.sql.catalog.{ICEBERG_CATALOG}"
        conf[prefix] = "org.apache.iceberg.spark.SparkCatalog"
        conf[f"{prefix}.type"] = catalog_type
        if catalog_type == "glue":
            if not warehouse:
                raise ConfigurationError("SPARK_LAMBDA_ICEBERG_CATALOG=glue needs SPARK_LAMBDA_WAREHOUSE (s3://bucket/prefix) for new tables")
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
