# Tests of docker/cds-classes.txt, the class list the class-data sharing training run (docker/cds-train.py) loads on
# top of its local-files-only job: recorded for the jars and Java of the lock (rerun `make cds-classes` after a
# version change), well-formed for the training run, and covering what a deployed function loads beyond that job.
from lock_helpers import DOCKER, frameworks, jar_rows, lock

CLASSES = DOCKER / "cds-classes.txt"


def header_and_names():
    lines = CLASSES.read_text().splitlines()
    return [line for line in lines if line.startswith("#")], [line for line in lines if not line.startswith("#")]


def test_the_list_was_recorded_for_the_locked_java_pyspark_and_jars():
    header, _ = header_and_names()
    recorded = {tuple(line.split()[1:]) for line in header if line.split()[1:2] in (["java"], ["pyspark"], ["jar"])}
    locked = {("java", lock("version", "java").strip()), ("pyspark", lock("version", "pyspark").strip())}
    locked |= {("jar", row[0], row[1]) for fw in frameworks() for row in jar_rows(fw)}
    assert recorded == locked, (
        "docker/cds-classes.txt was recorded for other versions than docker/versions.lock's: run `make cds-classes` "
        "and commit the result (a stale list only costs cold-start time, but nothing else notices it)\n"
        f"only in the list: {sorted(recorded - locked)}\nonly in the lock: {sorted(locked - recorded)}")


def test_the_list_holds_plain_sorted_class_names_only():
    _, names = header_and_names()
    assert names == sorted(set(names)), "sorted, one name a line, no duplicates (make cds-classes writes it so)"
    for name in names:
        # What a class loader can find by name: no JDK class-list directives (@lambda-proxy ...), no generated
        # proxies, lambdas or hidden classes, '/'-separated like the JDK's own class lists.
        assert name and " " not in name and "." not in name and not name.startswith("@"), name
        assert "$Proxy" not in name and "$$Lambda" not in name and "/0x" not in name, name


def test_the_list_covers_the_deployed_paths_that_the_training_job_never_runs():
    _, names = header_and_names()
    names = set(names)
    deployed = [
        "org/apache/hadoop/fs/s3a/S3AFileSystem",  # every table lives on S3
        "com/amazonaws/services/s3/AmazonS3Client",  # s3a's client (AWS SDK for Java 1, hadoop-aws 3.3.4)
        "software/amazon/awssdk/services/dynamodb/DynamoDbClient",  # commit coordination
        "org/apache/iceberg/aws/glue/GlueCatalog",  # Iceberg's deployed catalog
        "software/amazon/awssdk/services/glue/GlueClient",
    ]
    assert [c for c in deployed if c not in names] == []
    for fw, package in (("DELTA", "org/apache/spark/sql/delta/"), ("HUDI", "org/apache/hudi/"), ("ICEBERG", "org/apache/iceberg/")):
        assert fw in frameworks()
        assert sum(n.startswith(package) for n in names) > 300, f"too few {fw} classes: was {fw} recorded?"
