# Tests of docker/versions.lock, its reader docker/lock.sh, docker/fetch-jars.sh and the Dockerfile's agreement with
# the lock: complete sha256 values, the required jars per framework, the Hadoop / Scala / Spark pairings, and no
# version written into the Dockerfile that should come from the lock.
import re
import subprocess

import pytest

from lock_helpers import DOCKER, LOCKSH, frameworks, jar_rows, lock

HEX64 = re.compile(r"^[0-9a-f]{64}$")

REQUIRED = {
    "DELTA": {"io.delta:delta-spark_{scala}", "io.delta:delta-storage"},
    "HUDI": {"org.apache.hudi:hudi-spark{spark_mm}-bundle_{scala}"},
    "ICEBERG": {"org.apache.iceberg:iceberg-spark-runtime-{spark_mm}_{scala}", "org.apache.iceberg:iceberg-aws-bundle"},
}


def rows():
    return [line.split() for line in lock("rows").splitlines()]


def test_lock_parses_and_has_no_todo():
    text = (DOCKER / "versions.lock").read_text()
    assert "TODO" not in text
    all_rows = rows()
    assert all_rows, "no entries"
    for kind, scope, name, version, sha in all_rows:
        assert kind in {"runtime", "pypi", "jar", "buildjar", "emr"}, (kind, name)
        assert scope == "COMMON" or scope in frameworks(), (scope, name)
        if kind in {"runtime", "emr"}:
            assert sha == "-", name
        else:
            assert HEX64.match(sha), "%s %s has no 64-hex sha256: %r" % (kind, name, sha)


def test_frameworks_are_the_three_formats():
    assert frameworks() == ["DELTA", "HUDI", "ICEBERG"]


@pytest.mark.parametrize("fw", ["DELTA", "HUDI", "ICEBERG"])
def test_each_framework_has_its_required_jars(fw):
    scala = lock("version", "scala").strip()
    spark_mm = ".".join(lock("version", "spark").strip().split(".")[:2])
    names = {r[0] for r in jar_rows(fw)}
    required = {n.format(scala=scala, spark_mm=spark_mm) for n in REQUIRED[fw]}
    assert required <= names, "missing for %s: %s" % (fw, required - names)
    # COMMON jars come with every framework; other frameworks' jars never do.
    assert {"org.apache.hadoop:hadoop-aws", "com.amazonaws:aws-java-sdk-bundle"} <= names
    for other in set(frameworks()) - {fw}:
        assert not names & {r[0] for r in jar_rows(other, "--only")}


def test_hadoop_aws_matches_pysparks_hadoop_and_its_sdk():
    hadoop = lock("version", "hadoop").strip()
    assert hadoop == "3.3.4"  # PySpark 3.5.x bundles Hadoop 3.3.4
    assert lock("version", "org.apache.hadoop:hadoop-aws").strip() == hadoop
    # hadoop-aws 3.3.4 was built against aws-java-sdk-bundle 1.12.262
    assert lock("version", "com.amazonaws:aws-java-sdk-bundle").strip() == "1.12.262"


def test_pyspark_matches_spark_and_scala_suffixes_match():
    spark = lock("version", "spark").strip()
    assert lock("version", "pyspark").strip() == spark
    scala = lock("version", "scala").strip()
    spark_mm = ".".join(spark.split(".")[:2])
    for fw in frameworks():
        for name, _v, _s in jar_rows(fw):
            artifact = name.split(":")[1]
            m = re.search(r"_(2\.1[0-9])$", artifact)
            if m:
                assert m.group(1) == scala, "%s is built for Scala %s, the lock says %s" % (name, m.group(1), scala)
            m = re.search(r"spark-?(?:runtime-)?(3\.[0-9])", artifact)
            if m:
                assert m.group(1) == spark_mm, "%s is built for Spark %s, the lock says %s" % (name, m.group(1), spark)


# What the named EMR release ships (its `emr` rows, copied from the Amazon EMR Release Guide) against what the image
# pins: the open-source version is the part before EMR's "-amzn-N" suffix.
EMR_PINS = {
    "emr-spark": ["pyspark", "spark"],
    "emr-delta": ["delta-spark", "io.delta:delta-spark_{scala}", "io.delta:delta-storage"],
    "emr-hudi": ["org.apache.hudi:hudi-spark{spark_mm}-bundle_{scala}"],
    "emr-iceberg": ["org.apache.iceberg:iceberg-spark-runtime-{spark_mm}_{scala}", "org.apache.iceberg:iceberg-aws-bundle"],
}


def open_source(emr_version):
    return re.sub(r"-amzn-[0-9]+$", "", emr_version)


def test_lock_names_an_emr_7_release_with_a_row_per_component():
    release = lock("version", "emr-release").strip()
    assert re.fullmatch(r"emr-7\.[0-9]+\.[0-9]+", release), release
    emr_names = {name for kind, _scope, name, _v, _s in rows() if kind == "emr"}
    assert emr_names == set(EMR_PINS) | {"emr-scala"}, emr_names


@pytest.mark.parametrize("component", sorted(EMR_PINS))
def test_pinned_versions_are_the_emr_releases(component):
    scala = lock("version", "scala").strip()
    spark_mm = ".".join(lock("version", "spark").strip().split(".")[:2])
    want = open_source(lock("version", component).strip())
    for pin in EMR_PINS[component]:
        name = pin.format(scala=scala, spark_mm=spark_mm)
        got = lock("version", name).strip()
        assert got == want, "%s is %s in the lock, but %s ships %s %s: pin %s (or name another release)" % (
            name, got, lock("version", "emr-release").strip(), component, want, want)


def test_scala_is_the_emr_releases():
    emr_scala = lock("version", "emr-scala").strip()
    assert emr_scala.rsplit(".", 1)[0] == lock("version", "scala").strip()


def test_lock_sh_rejects_unknown_framework_listing_valid_ones():
    p = lock("jars", "PARQUET", check=False)
    assert p.returncode != 0
    assert "unknown framework 'PARQUET'" in p.stderr
    assert "DELTA HUDI ICEBERG" in p.stderr
    assert p.stdout == ""


def test_lock_sh_requirements_are_hash_pinned():
    lines = lock("requirements").splitlines()
    assert sorted(line.split("==")[0] for line in lines) == [
        "aws-lambda-powertools", "jmespath", "py4j", "pyspark", "typing-extensions"]
    assert lock("requirements", "COMMON").splitlines() == lines
    assert [line.split("==")[0] for line in lock("requirements", "DELTA").splitlines()] == ["delta-spark"]
    assert lock("requirements", "HUDI") == "" and lock("requirements", "ICEBERG") == ""
    for line in lines + lock("requirements", "DELTA").splitlines():
        assert re.match(r"^[a-z0-9_.-]+==[0-9][0-9a-z.]* --hash=sha256:[0-9a-f]{64}$", line), line


def test_delta_python_api_matches_the_delta_jars():
    assert lock("version", "delta-spark").strip() == lock("version", "io.delta:delta-spark_2.12").strip()


@pytest.mark.parametrize("reqs", ["requirements.in", "requirements-unit.txt"])
def test_harness_powertools_is_the_images(reqs):
    text = (DOCKER.parent / "locallambda" / reqs).read_text()
    assert f"aws-lambda-powertools=={lock('version', 'aws-lambda-powertools').strip()}" in text


def test_lock_sh_rejects_a_malformed_lock(tmp_path):
    bad = tmp_path / "versions.lock"
    bad.write_text("jar COMMON org.example:x 1.0\n")  # 4 columns
    p = subprocess.run(["sh", str(LOCKSH), "-f", str(bad), "jars", "DELTA"], capture_output=True, text=True)
    assert p.returncode != 0
    assert "expected 5 columns" in p.stderr


def test_lock_sh_runs_under_posix_shells(posix_shell):
    p = subprocess.run([*posix_shell, str(LOCKSH), "jars", "ICEBERG"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout == lock("jars", "ICEBERG")


def _fake_repo_with(tmp_path, group, artifact, version, content):
    d = tmp_path / "m2" / group.replace(".", "/") / artifact / version
    d.mkdir(parents=True)
    (d / ("%s-%s.jar" % (artifact, version))).write_bytes(content)
    return tmp_path / "m2"


def test_fetch_jars_fails_naming_jar_expected_and_actual_on_mismatch(tmp_path, posix_shell):
    # A repository holding a wrong file for the one HUDI-only jar, and a "Maven" that resolves nothing new.
    (name, version, expected), = jar_rows("HUDI", "--only")
    group, artifact = name.split(":")
    repo = _fake_repo_with(tmp_path, group, artifact, version, b"not the real jar")
    out = tmp_path / "out"
    p = subprocess.run(
        [*posix_shell, str(DOCKER / "fetch-jars.sh"), "--only", "HUDI", str(out)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "MVN": "true", "MAVEN_REPO_LOCAL": str(repo)},
    )
    assert p.returncode != 0
    actual = subprocess.run(["sha256sum"], input=b"not the real jar", capture_output=True).stdout.split()[0].decode()
    assert "SHA256 MISMATCH" in p.stderr
    assert name in p.stderr and expected in p.stderr and actual in p.stderr
    assert not (out / ("%s-%s.jar" % (artifact, version))).exists(), "a mismatching jar was left in the output"


def test_fetch_jars_copies_verified_jars_without_maven_when_cached(tmp_path):
    # The real files from the local Maven repository (fetched by make runtime); MVN=false proves no resolution ran.
    rows = jar_rows("DELTA", "--only")
    out = tmp_path / "out"
    p = subprocess.run(
        ["sh", str(DOCKER / "fetch-jars.sh"), "--only", "DELTA", str(out)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "MVN": "false", "HOME": str(__import__("pathlib").Path.home())},
    )
    assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in out.iterdir()) == sorted(
        "%s-%s.jar" % (n.split(":")[1], v) for n, v, _ in rows
    )


# --- the Dockerfile agrees with the lock -----------------------------------------------------------------------

def dockerfile():
    return (DOCKER / "Dockerfile").read_text()


def instructions():
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    out, cur = [], ""
    for line in dockerfile().splitlines():
        if line.lstrip().startswith("#") and not cur:
            continue
        cur += line.rstrip("\\") + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            if cur.strip():
                out.append(cur.strip())
            cur = ""
    return out


def test_dockerfile_writes_no_version_from_the_lock():
    versions = {r[3] for r in rows()}
    body = "\n".join(i for i in instructions() if not i.startswith("FROM ") and not i.startswith("ARG PYTHON_VERSION"))
    for v in sorted(versions):
        if "." not in v:
            continue  # "17" alone is too short to search for; checked below
        assert v not in body, "the Dockerfile hard-codes %s, which must come from the lock via lock.sh" % v
    assert not re.search(r"java-\d+-amazon-corretto", body), "the Java version must come from the lock"
    assert not re.search(r"(pyspark|py4j)\s*==", body), "the PyPI pins must come from lock.sh requirements"
    assert not re.search(r"\b[0-9a-f]{64}\b", body), "no sha256 may be written into the Dockerfile"


def test_dockerfile_base_images_agree_with_the_lock():
    ins = instructions()
    froms = [i for i in ins if i.startswith("FROM ")]
    stages = {f.split()[-1] for f in froms if " AS " in f}
    external = [f for f in froms if f.split()[1] not in stages]
    assert len(external) == 2 and all(f.startswith("FROM --platform=linux/amd64 ") for f in external), froms
    (py_arg,) = [i for i in ins if i.startswith("ARG PYTHON_VERSION=")]
    assert py_arg.split("=", 1)[1] == lock("version", "python").strip()
    lambda_from = [f for f in froms if "public.ecr.aws/lambda/python:" in f]
    assert lambda_from == ["FROM --platform=linux/amd64 public.ecr.aws/lambda/python:${PYTHON_VERSION}"]
    java = lock("version", "java").strip()
    maven_from = [f for f in froms if "maven:" in f]
    assert maven_from and all(re.search(r"maven:\d+\.\d+\.\d+-amazoncorretto-%s\b" % java, f) for f in maven_from)
    # the final stage is the Lambda image
    assert froms[-1] == lambda_from[0]


def test_dockerfile_reads_the_lock_through_lock_sh_and_verifies_jars():
    text = "\n".join(instructions())
    assert "sh lock.sh requirements COMMON" in text
    assert 'sh lock.sh requirements "${FRAMEWORK}"' in text
    assert "--require-hashes --no-deps" in (DOCKER / "install-spark-home.sh").read_text()
    assert "sh lock.sh version java" in text
    assert "--require-hashes" in text and "--no-cache-dir" in text and "--default-timeout=1000" in text
    assert "--retries" in text
    assert "sh fetch-jars.sh COMMON /jars" in text
    assert 'sh fetch-jars.sh --only "${FRAMEWORK}"' in text
    assert 'CMD ["handler.handler"]' in text
    assert "ENV SPARK_LAMBDA_FRAMEWORK=${FRAMEWORK}" in text


def test_dockerfile_copies_only_the_known_context_files():
    # Every COPY from the build context (not --from=stage); test/image_build_test.go keeps docker/embed.go's list in
    # sync with it.
    sources = []
    for i in instructions():
        if i.startswith("COPY ") and "--from=" not in i:
            parts = i.split()[1:]
            parts = [p for p in parts if not p.startswith("--")]
            sources += parts[:-1]
    expected = ["versions.lock", "lock.sh", "fetch-jars.sh", "build-coordination.sh", "java/", "conf/", "spark-class",
                "install-spark-home.sh", "python/", "cds-train.py", "cds-classes.txt"]
    assert sorted({s for s in sources if s != "./"}) == sorted(expected), sources
    for s in sources:
        if s != "./":
            assert (DOCKER / s).exists(), s
    assert (DOCKER / "python" / "handler" / "__init__.py").exists(), "handler.handler is the image's entry point"
    for fw in frameworks():
        assert (DOCKER / "conf" / ("spark-defaults-%s.conf" % fw)).exists()


def test_dockerfile_layers_go_from_big_and_stable_to_small():
    text = "\n".join(instructions())
    order = [
        text.index("amazon-corretto-headless"),
        text.index("--require-hashes"),
        text.index("COPY --from=jars-common"),
        text.index("COPY --from=jars "),
        text.index("COPY --from=conf /conf/"),
        text.index("COPY install-spark-home.sh spark-class"),
        text.index("install-spark-home.sh spark-home"),
        text.index("COPY python/"),
        text.index("install-spark-home.sh task-root"),
        text.index("install-spark-home.sh cds-archive"),
    ]
    assert order == sorted(order)


def test_dockerfile_installs_with_the_script_make_runtime_runs():
    # One build path: SPARK_HOME and the task root come from docker/install-spark-home.sh, as in the local runtime
    # (locallambda/install-runtime.sh). The Python files go to the base image's task root, where awslambdaric finds
    # handler.handler (CMD), and SPARK_HOME is the directory the image's ENV names.
    ins = instructions()
    runs = [i for i in ins if i.startswith("RUN ") and "install-spark-home.sh" in i]
    assert len(runs) == 3, runs
    spark_home, task_root, cds_archive = runs
    env_home = re.search(r"\bSPARK_HOME=(\S+)", "\n".join(i for i in ins if i.startswith("ENV "))).group(1)
    assert re.search(r"install-spark-home\.sh spark-home %s python3 \"\$\{FRAMEWORK\}\" " % re.escape(env_home),
                     spark_home), spark_home
    copy_python = [i.split() for i in ins if i.startswith("COPY python/")]
    assert len(copy_python) == 1, copy_python
    staged = copy_python[0][-1].rstrip("/")
    assert re.search(r'install-spark-home\.sh task-root "\$\{LAMBDA_TASK_ROOT\}" %s(\s|$)' % re.escape(staged),
                     task_root), task_root
    assert not any("LAMBDA_TASK_ROOT" in i for i in ins if i.startswith("COPY ")), "the script copies the handler"
    # The class-data sharing archive is made last (it is valid only for exactly the jars installed before it), in the
    # SPARK_HOME above, and the ENV that spark-class reads names the file the script writes.
    assert ins.index(cds_archive) == max(ins.index(r) for r in runs)
    assert re.search(r'install-spark-home\.sh cds-archive %s python3 "\$\{FRAMEWORK\}"' % re.escape(env_home),
                     cds_archive), cds_archive
    env_cds = re.search(r"\bSPARK_LAMBDA_CDS_ARCHIVE=(\S+)", "\n".join(i for i in ins if i.startswith("ENV "))).group(1)
    assert env_cds == env_home + "/cds/driver.jsa", env_cds
    runtime = (DOCKER.parent / "locallambda" / "install-runtime.sh").read_text()
    assert 'sh "$INSTALL" spark-home' in runtime and 'sh "$INSTALL" task-root' in runtime
    assert 'sh "$INSTALL" cds-archive' in runtime
