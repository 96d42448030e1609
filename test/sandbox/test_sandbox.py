# Tests of the Lambda sandbox (locallambda/lambda-sandbox.sh) and of the installed local runtime inside it:
# the sandbox's rules (non-root uid, read-only root, size-capped /tmp, no /dev/fd, 1024 open files, memory cap),
# the regression test (PySpark's STOCK spark-class fails there with the /dev/fd error, ours starts Spark), the
# per-framework table round trip with the lock's jars and the defaults, and the runtime's layout.
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from rt_helpers import DOCKER, ROOT, RUNTIME, frameworks, jar_rows, lock, run_sandboxed, runtime_env

SMOKE = str(ROOT / "test" / "sandbox" / "spark_smoke.py")


def smoke_result(p):
    lines = [line for line in p.stdout.splitlines() if line.startswith("SMOKE ")]
    assert len(lines) == 1, "no SMOKE line; rc=%s\nstdout:\n%s\nstderr (tail):\n%s" % (
        p.returncode, p.stdout[-3000:], p.stderr[-6000:])
    return json.loads(lines[0][len("SMOKE "):])


# --- the sandbox's rules ---------------------------------------------------------------------------------------

def test_sandbox_applies_lambdas_rules(root_required):
    script = r"""
        echo "uid=$(id -u) gid=$(id -g) user=$(id -un)"
        echo "nofile=$(ulimit -n) nofile_hard=$(ulimit -Hn)"
        echo "memsize=$AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
        touch /tmp/ok && echo tmp=writable
        touch /etc/nope 2>/dev/null && echo root=writable || echo root=readonly
        touch "$HOME_REPO/nope" 2>/dev/null && echo repo=writable || echo repo=readonly
        [ -e /dev/fd ] && echo devfd=present || echo devfd=absent
        [ -r /proc/self/status ] && echo proc=present
        df -k /tmp | awk 'NR == 2 { print "tmp_kb=" $2 }'
        echo "cwd=$(pwd)"
    """
    env = {**os.environ, "HOME_REPO": str(ROOT)}
    p = run_sandboxed(["sh", "-c", script], env=env, sandbox_opts=["--memory", "2048", "--tmp-size", "100"])
    assert p.returncode == 0, p.stderr
    out = dict(line.split("=", 1) for line in p.stdout.split() if "=" in line)
    assert out["uid"] == "993" and out["gid"] == "990" and out["user"] == "sbx_user1051"
    assert out["nofile"] == "1024" and out["nofile_hard"] == "1024"
    assert out["memsize"] == "2048"
    assert out["tmp"] == "writable" and out["root"] == "readonly" and out["repo"] == "readonly"
    assert out["devfd"] == "absent" and out["proc"] == "present"
    assert int(out["tmp_kb"]) == 100 * 1024
    assert out["cwd"] == "/"
    assert "lambda-sandbox: REPORT exit=0 memory_size=2048MB tmp_size=100MB" in p.stderr


def test_process_substitution_fails_in_the_sandbox(root_required):
    p = run_sandboxed(["bash", "-c", "cat <(echo hi)"])
    assert p.returncode != 0
    assert "/dev/fd/" in p.stderr and "No such file or directory" in p.stderr


def test_tmp_is_size_capped(root_required):
    p = run_sandboxed(["sh", "-c", "dd if=/dev/zero of=/tmp/big bs=1M count=40 2>&1; echo rc=$?"],
                      sandbox_opts=["--tmp-size", "16"])
    assert "No space left on device" in p.stdout
    assert "rc=0" not in p.stdout


def test_memory_cap_kills_a_process_over_the_function_memory(root_required):
    py = runtime_env("DELTA")["PYTHON"]
    code = "b = bytearray(400 * 1024 * 1024); print('allocated')"
    p = run_sandboxed([py, "-c", code], sandbox_opts=["--memory", "160", "--require-memory-cap"])
    if "no writable memory cgroup" in p.stderr:
        pytest.fail("no memory cgroup on this machine: " + p.stderr)
    assert p.returncode == 137, (p.returncode, p.stderr)
    assert "allocated" not in p.stdout
    assert "the memory cap of 160 MiB was hit" in p.stderr
    # and the same allocation fits under a larger cap
    p = run_sandboxed([py, "-c", code], sandbox_opts=["--memory", "1024", "--require-memory-cap"])
    assert p.returncode == 0 and "allocated" in p.stdout, p.stderr


def test_task_root_is_read_only_at_var_task(root_required, tmp_path):
    # pytest's tmp_path is under a 0700 directory: the sandbox uid cannot read it, and the sandbox says so.
    hidden = tmp_path / "task"
    hidden.mkdir()
    p = run_sandboxed(["true"], sandbox_opts=["--task-root", str(hidden)])
    assert p.returncode != 0 and "uid 993 cannot read --task-root" in p.stderr
    task = Path(tempfile.mkdtemp(prefix="task-", dir=RUNTIME))
    os.chmod(task, 0o755)
    (task / "handler.py").write_text("x = 1\n")
    os.chmod(task / "handler.py", 0o644)
    p = run_sandboxed(
        ["sh", "-c", 'echo "cwd=$(pwd) root=$LAMBDA_TASK_ROOT"; cat handler.py; touch new 2>/dev/null || echo readonly'],
        sandbox_opts=["--task-root", str(task)],
    )
    assert p.returncode == 0, p.stderr
    shutil.rmtree(task)
    assert "cwd=/var/task root=/var/task" in p.stdout and "x = 1" in p.stdout and "readonly" in p.stdout


def test_sandbox_leaves_no_process_behind(root_required):
    # A background sleeper inside the sandbox must die with it (pid namespace + --die-with-parent).
    marker = "lambda-sandbox-leak-check-%d" % os.getpid()
    script = ('bash -c "exec -a %s sleep 300" & '
              'for i in 1 2 3 4 5 6 7 8 9 10; do ps -eo args | grep -q "^%s" && break; sleep 0.2; done; '
              'ps -eo args | grep -c "^%s"') % (marker, marker, marker)
    p = run_sandboxed(["sh", "-c", script])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "1", "the sleeper did not start inside the sandbox: %r" % p.stdout
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert marker not in ps


# --- the regression test: stock spark-class vs ours --------------------------------------------------------------

def test_stock_spark_class_fails_in_the_sandbox_with_the_dev_fd_error(root_required):
    env = runtime_env("DELTA")
    stock_home = subprocess.run([env["PYTHON"], "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"],
                                capture_output=True, text=True, check=True).stdout.strip()
    stock = open(os.path.join(stock_home, "bin", "spark-class")).read()
    assert "org.apache.spark.launcher.Main" in stock and "< <(build_command" in stock, "not the stock script"
    env = {k: v for k, v in env.items() if k not in ("SPARK_HOME", "SPARK_CONF_DIR")}
    p = run_sandboxed([env["PYTHON"], SMOKE], env=env)
    assert p.returncode != 0
    assert "SMOKE " not in p.stdout
    assert "/dev/fd/" in p.stderr and "No such file or directory" in p.stderr
    assert "Java gateway process exited before sending its port number" in p.stderr


def test_our_spark_class_starts_spark_in_the_sandbox(root_required):
    env = runtime_env("DELTA")
    p = run_sandboxed([env["PYTHON"], SMOKE], env=env, sandbox_opts=["--memory", "2048"])
    assert p.returncode == 0, p.stderr[-6000:]
    r = smoke_result(p)
    assert r["count"] == 10
    assert r["spark_version"] == lock("version", "spark").strip()
    # the heap came from the function memory (65% of 2048 MiB; the JVM reports a little less or more)
    assert abs(r["max_heap_mb"] - 2048 * 65 // 100) < 64, r


def test_a_heap_too_large_for_the_memory_fails_and_leaves_the_message_in_tmp(root_required):
    env = {**runtime_env("DELTA"), "SPARK_LAMBDA_DRIVER_HEAP_MB": "4000"}
    script = '"$PYTHON" "$1"; rc=$?; echo "---"; cat /tmp/spark-class.err; exit $rc'
    p = run_sandboxed(["sh", "-c", script, "sh", SMOKE], env=env, sandbox_opts=["--memory", "2048"])
    assert p.returncode != 0
    err = p.stdout.split("---", 1)[1]
    assert "SPARK_LAMBDA_DRIVER_HEAP_MB=4000" in err and "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=2048" in err


def _shared_class_loads(p):
    """-Xlog:class+load lines of the JVM (on its stdout): {class: source} for Spark's and the table formats' classes."""
    loads = {}
    for line in p.stdout.splitlines():
        if "[class,load]" in line and " source: " in line:
            name, source = line.split("[class,load]", 1)[1].strip().split(" source: ", 1)
            loads[name] = source
    return loads


@pytest.mark.parametrize("fw", ["DELTA", "HUDI", "ICEBERG"])
def test_the_driver_jvm_maps_the_class_data_sharing_archive(root_required, fw):
    # The runtime's archive (made by install-spark-home.sh cds-archive, as in the image) is used in the sandbox: the
    # classes of Spark and of the table format come from it ("shared objects file (top)" is the dynamic archive),
    # not from the jars; without SPARK_LAMBDA_CDS_ARCHIVE they come from the jars. So do the S3, DynamoDB and Glue
    # client classes, which the training job never uses: they come from the class list docker/cds-classes.txt.
    env = {**runtime_env(fw), "SPARK_SUBMIT_OPTS": "-Xlog:class+load=info:stdout"}
    clients = ["org.apache.hadoop.fs.s3a.S3AFileSystem", "com.amazonaws.services.s3.AmazonS3Client",
               "com.amazonaws.services.dynamodbv2.AmazonDynamoDBClient"]
    if fw == "ICEBERG":  # its Glue catalog, on the AWS SDK for Java 2 of iceberg-aws-bundle
        clients += ["org.apache.iceberg.aws.glue.GlueCatalog", "software.amazon.awssdk.services.glue.GlueClient"]
    # Spark's compiler of generated code: pyspark ships Janino's jars signed, and the archive holds no class of a
    # signed jar, so install-spark-home.sh puts unsigned copies in SPARK_HOME.
    compiler = ["org.codehaus.janino.UnitCompiler", "org.codehaus.commons.compiler.CompileException"]
    assert os.path.isfile(env["SPARK_LAMBDA_CDS_ARCHIVE"]), env["SPARK_LAMBDA_CDS_ARCHIVE"]
    fmt_class = {"DELTA": "org.apache.spark.sql.delta.DeltaLog",
                 "HUDI": "org.apache.hudi.DefaultSource",
                 "ICEBERG": "org.apache.iceberg.spark.SparkCatalog"}[fw]
    loaded = clients + compiler
    with_archive = run_sandboxed([env["PYTHON"], SMOKE, "--table", *[a for c in loaded for a in ("--load-class", c)]],
                                 env=env, sandbox_opts=["--memory", "3008"])
    assert with_archive.returncode == 0, with_archive.stderr[-6000:]
    assert smoke_result(with_archive)["loaded_classes"] == loaded
    loads = _shared_class_loads(with_archive)
    for cls in ("org.apache.spark.SparkContext", "org.apache.spark.sql.SparkSession", fmt_class, *loaded):
        assert loads.get(cls) == "shared objects file (top)", (cls, loads.get(cls))
    shared = sum(1 for src in loads.values() if src == "shared objects file (top)")
    assert shared > 0.8 * sum(1 for c in loads if c.startswith("org.apache.")), "most classes should be shared"
    without = run_sandboxed([env["PYTHON"], SMOKE], env={k: v for k, v in env.items() if k != "SPARK_LAMBDA_CDS_ARCHIVE"},
                            sandbox_opts=["--memory", "3008"])
    assert without.returncode == 0, without.stderr[-6000:]
    assert _shared_class_loads(without)["org.apache.spark.SparkContext"] != "shared objects file (top)"


def test_a_missing_archive_is_reported_and_spark_starts_without_it(root_required):
    env = {**runtime_env("ICEBERG"), "SPARK_LAMBDA_CDS_ARCHIVE": "/tmp/no-such-archive.jsa"}
    p = run_sandboxed([env["PYTHON"], SMOKE], env=env, sandbox_opts=["--memory", "2048"])
    assert p.returncode == 0, p.stderr[-6000:]
    assert smoke_result(p)["count"] == 10
    assert "SPARK_LAMBDA_CDS_ARCHIVE=/tmp/no-such-archive.jsa is not a readable file" in p.stderr


# --- each framework: its jars and defaults work in the sandbox ---------------------------------------------------

EXTENSIONS = {
    "DELTA": "io.delta.sql.DeltaSparkSessionExtension",
    "HUDI": "org.apache.spark.sql.hudi.HoodieSparkSessionExtension",
    "ICEBERG": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
}


@pytest.mark.parametrize("fw", ["DELTA", "HUDI", "ICEBERG"])
def test_framework_table_roundtrip_in_the_sandbox(root_required, fw):
    env = runtime_env(fw)
    p = run_sandboxed([env["PYTHON"], SMOKE, "--table"], env=env, sandbox_opts=["--memory", "3008"])
    assert p.returncode == 0, p.stderr[-6000:]
    r = smoke_result(p)
    assert r["extensions"] == EXTENSIONS[fw]
    # 5 rows written, then 2 appended (Delta, Iceberg) or upserted on existing keys (Hudi)
    assert r["table_rows"] == (5 if fw == "HUDI" else 7)


# --- the runtime's layout matches the lock and the image -------------------------------------------------------

@pytest.mark.parametrize("fw", ["DELTA", "HUDI", "ICEBERG"])
def test_runtime_layout_matches_the_lock(fw):
    home = RUNTIME / ("spark-" + fw)
    jars = {p.name for p in (home / "jars").iterdir()}
    for name, version, sha in jar_rows(fw):
        f = "%s-%s.jar" % (name.split(":")[1], version)
        assert f in jars, f
        got = subprocess.run(["sha256sum", str(home / "jars" / f)], capture_output=True, text=True).stdout.split()[0]
        assert got == sha, f
    for other in set(frameworks()) - {fw}:
        for name, version, _ in jar_rows(other, "--only"):
            assert "%s-%s.jar" % (name.split(":")[1], version) not in jars
    conf = (home / "conf" / "spark-defaults.conf").read_text()
    assert conf == (DOCKER / "conf" / "spark-defaults.conf").read_text() + (
        DOCKER / "conf" / ("spark-defaults-%s.conf" % fw)).read_text()
    env = runtime_env(fw)
    assert env["SPARK_HOME"] == str(home) and env["SPARK_LAMBDA_FRAMEWORK"] == fw
    v = subprocess.run([env["PYTHON"], "-c", "import pyspark, py4j, sys; print(pyspark.__version__, '%d.%d' % sys.version_info[:2])"],
                       capture_output=True, text=True, check=True).stdout.split()
    assert v[0] == lock("version", "pyspark").strip()
    assert (RUNTIME / ("READY-" + fw)).exists()


def test_runtime_task_root_is_the_image_python_files():
    # The harness runs the handler from the runtime's task root, which docker/install-spark-home.sh fills as it fills
    # the image's LAMBDA_TASK_ROOT: exactly docker/python/*/*.py, package directories at the top.
    for fw in frameworks():
        assert runtime_env(fw)["RUNTIME_TASK_ROOT"] == str(RUNTIME / "task")
    root = RUNTIME / "task"
    installed = sorted(str(f.relative_to(root)) for f in root.rglob("*.py"))
    source = sorted(str(f.relative_to(DOCKER / "python")) for f in (DOCKER / "python").glob("*/*.py"))
    assert installed == source
    for rel in source:
        assert (root / rel).read_bytes() == (DOCKER / "python" / rel).read_bytes(), rel


def test_runtime_install_is_cached():
    p = subprocess.run(["bash", str(ROOT / "locallambda" / "install-runtime.sh"), "DELTA"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "up to date" in p.stdout
    assert "downloading" not in p.stdout and "building" not in p.stdout


def test_runtime_env_script_prints_exports_and_rejects_unknown_framework():
    p = subprocess.run(["sh", str(ROOT / "locallambda" / "runtime-env.sh"), "ICEBERG"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "export SPARK_HOME=%s" % (RUNTIME / "spark-ICEBERG") in p.stdout
    p = subprocess.run(["sh", str(ROOT / "locallambda" / "runtime-env.sh"), "ORC"], capture_output=True, text=True)
    assert p.returncode != 0 and "unknown framework 'ORC'" in p.stderr


def test_installed_runtime_uses_this_spark_class():
    # The image and the local runtime both use docker/spark-class; the local copy must be identical.
    for fw in frameworks():
        installed = RUNTIME / ("spark-" + fw) / "bin" / "spark-class"
        assert installed.read_bytes() == (DOCKER / "spark-class").read_bytes(), installed
        assert os.access(installed, os.X_OK)
