# Unit tests of docker/spark-class under dash and busybox sh, with a fake JAVA_HOME whose bin/java prints its
# arguments one per line: exact argument pass-through, the heap formula and its overrides, the refusal (with the
# message also in the error file) of a heap that does not fit the function memory, and clear Java errors.
import os
import re
import subprocess

import pytest

from lock_helpers import DOCKER

SPARK_CLASS = DOCKER / "spark-class"
SUBMIT = "org.apache.spark.deploy.SparkSubmit"


@pytest.fixture
def fake(tmp_path):
    """A fake JAVA_HOME (java prints NUL-terminated args) and SPARK_HOME with a conf dir."""
    jh = tmp_path / "jdk"
    (jh / "bin").mkdir(parents=True)
    java = jh / "bin" / "java"
    java.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n')
    java.chmod(0o755)
    sh = tmp_path / "spark"
    (sh / "jars").mkdir(parents=True)
    (sh / "conf").mkdir()
    return {"java_home": jh, "spark_home": sh, "err": tmp_path / "spark-class.err", "tmp": tmp_path}


def run(shell, fake, args, extra_env=None, java_home=True, defaults=None):
    if defaults is not None:
        (fake["spark_home"] / "conf" / "spark-defaults.conf").write_text(defaults)
    env = {
        "PATH": "/usr/bin:/bin",
        "SPARK_HOME": str(fake["spark_home"]),
        "SPARK_LAMBDA_CLASS_ERROR_FILE": str(fake["err"]),
    }
    if java_home:
        env["JAVA_HOME"] = str(fake["java_home"])
    env.update(extra_env or {})
    p = subprocess.run([*shell, str(SPARK_CLASS), *args], capture_output=True, env=env)
    argv = p.stdout.decode().split("\0")[:-1] if p.stdout else []
    return p, argv


def heap_of(argv, main=SUBMIT):
    xmx = [a for a in argv[: argv.index(main)] if a.startswith("-Xmx")]
    assert len(xmx) == 1, argv
    return int(re.match(r"-Xmx(\d+)m$", xmx[0]).group(1))


def app_args(argv, main=SUBMIT):
    return argv[argv.index(main) + 1 :]


TRICKY = [
    "--conf",
    "spark.app.name=my app  with  spaces",
    "--conf",
    "spark.x=it's \"quoted\" $HOME `id` *",
    "pyspark-shell",
    "*",
    "",
    "a\nnewline",
    "--driver-memory",
    "99g",
    "-Xmx1g",
    "\\back\\slash",
    "tab\there",
]


def test_arguments_pass_through_exactly(posix_shell, fake):
    p, argv = run(posix_shell, fake, [SUBMIT, *TRICKY], {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008"})
    assert p.returncode == 0, p.stderr
    assert app_args(argv) == TRICKY
    # the classpath is jars/* + conf, literally (java expands the wildcard, not the shell); the conf directory after
    # the jars, as class-data sharing needs
    assert argv[0:2] == ["-cp", "%s/jars/*:%s/conf/" % (fake["spark_home"], fake["spark_home"])]
    # app args after the primary resource (pyspark-shell) are not read as Spark options: 99g is not the heap
    assert heap_of(argv) == 3008 * 65 // 100


def test_java_17_module_options_come_before_the_main_class(posix_shell, fake):
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"])
    assert p.returncode == 0, p.stderr
    before = argv[: argv.index(SUBMIT)]
    assert "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED" in before
    assert "-XX:+IgnoreUnrecognizedVMOptions" in before
    assert "-XX:+ExitOnOutOfMemoryError" in before


@pytest.mark.parametrize("mem,heap", [(1024, 665), (2048, 1331), (3008, 1955), (10240, 6656)])
def test_heap_is_65_percent_of_the_function_memory(posix_shell, fake, mem, heap):
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(mem)})
    assert p.returncode == 0, p.stderr
    assert heap_of(argv) == heap
    assert b"65% of AWS_LAMBDA_FUNCTION_MEMORY_SIZE" in p.stderr


def test_heap_defaults_to_1g_outside_lambda(posix_shell, fake):
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"])
    assert p.returncode == 0, p.stderr
    assert heap_of(argv) == 1024


def test_override_variable_wins(posix_shell, fake):
    env = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008", "SPARK_LAMBDA_DRIVER_HEAP_MB": "2500"}
    p, argv = run(posix_shell, fake, [SUBMIT, "--driver-memory", "1g", "pyspark-shell"], env, defaults="spark.driver.memory 512m\n")
    assert p.returncode == 0, p.stderr
    assert heap_of(argv) == 2500


@pytest.mark.parametrize(
    "args,defaults,expected",
    [
        (["--driver-memory", "2g", "pyspark-shell"], None, 2048),
        (["--driver-memory=1536m", "pyspark-shell"], None, 1536),
        (["--conf", "spark.driver.memory=3g", "pyspark-shell"], None, 3072),
        (["pyspark-shell"], "spark.driver.memory   1200m\n", 1200),
        (["pyspark-shell"], "spark.driver.memory=900\n", 900),
        (["--conf", "spark.driver.memory=700m", "pyspark-shell"], "spark.driver.memory 1200m\n", 700),
    ],
)
def test_spark_driver_memory_settings_are_honoured(posix_shell, fake, args, defaults, expected):
    p, argv = run(posix_shell, fake, [SUBMIT, *args], {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}, defaults=defaults)
    assert p.returncode == 0, p.stderr
    assert heap_of(argv) == expected
    assert app_args(argv) == args  # still passed on to SparkSubmit unchanged


def test_override_larger_than_memory_fails_with_message_and_error_file(posix_shell, fake):
    env = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048", "SPARK_LAMBDA_DRIVER_HEAP_MB": "4096"}
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], env)
    assert p.returncode != 0
    assert argv == [], "java must not start"
    msg = p.stderr.decode()
    for part in ("SPARK_LAMBDA_DRIVER_HEAP_MB=4096", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=2048", "4096 MiB", "Fix:", "1331 MiB"):
        assert part in msg, (part, msg)
    assert fake["err"].read_text().strip() == msg.strip()


def test_spark_driver_memory_larger_than_function_memory_fails(posix_shell, fake):
    p, argv = run(posix_shell, fake, [SUBMIT, "--driver-memory", "4g", "pyspark-shell"], {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008"})
    assert p.returncode != 0 and argv == []
    assert b"spark.driver.memory=4g" in p.stderr and b"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=3008" in p.stderr
    assert "spark.driver.memory" in fake["err"].read_text()


def test_a_stale_error_file_is_removed_on_a_good_start(posix_shell, fake):
    fake["err"].write_text("old failure\n")
    p, _ = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008"})
    assert p.returncode == 0
    assert not fake["err"].exists()


@pytest.mark.parametrize("bad", ["lots", "-5", "1.5", "0"])
def test_a_malformed_override_is_refused(posix_shell, fake, bad):
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"SPARK_LAMBDA_DRIVER_HEAP_MB": bad})
    assert p.returncode != 0 and argv == []
    assert b"SPARK_LAMBDA_DRIVER_HEAP_MB" in p.stderr


def test_missing_java_home_binary_fails_clearly(posix_shell, fake):
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"JAVA_HOME": str(fake["tmp"] / "nojdk")})
    assert p.returncode != 0 and argv == []
    assert b"JAVA_HOME=" in p.stderr and b"nojdk/bin/java is not an executable" in p.stderr
    assert "JAVA_HOME" in fake["err"].read_text()


def test_no_java_at_all_fails_clearly(posix_shell, fake, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"PATH": str(empty)}, java_home=False)
    assert p.returncode != 0 and argv == []
    assert b"no Java found: set JAVA_HOME or put java on PATH" in p.stderr
    assert "no Java found" in fake["err"].read_text()


def test_java_from_path_when_java_home_is_unset(posix_shell, fake):
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"PATH": "%s/bin:/usr/bin:/bin" % fake["java_home"]}, java_home=False)
    assert p.returncode == 0, p.stderr
    assert app_args(argv) == ["pyspark-shell"]


def test_driver_java_options_from_defaults_and_command_line(posix_shell, fake):
    defaults = "# comment\nspark.driver.extraJavaOptions   -Dderby.system.home=/tmp/derby -Da=1\nspark.driver.extraJavaOptionsX -Dno=1\n"
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], defaults=defaults)
    assert p.returncode == 0, p.stderr
    before = argv[: argv.index(SUBMIT)]
    assert "-Dderby.system.home=/tmp/derby" in before and "-Da=1" in before and "-Dno=1" not in before
    # --driver-java-options replaces the file's value, as with Spark's launcher
    p, argv = run(posix_shell, fake, [SUBMIT, "--driver-java-options", "-Db=2 -Dc=3", "pyspark-shell"], defaults=defaults)
    before = argv[: argv.index(SUBMIT)]
    assert "-Db=2" in before and "-Dc=3" in before and "-Da=1" not in before
    # -Xmx through java options is refused (the heap has one source of truth)
    p, argv = run(posix_shell, fake, [SUBMIT, "--conf", "spark.driver.extraJavaOptions=-Xmx9g", "pyspark-shell"])
    assert p.returncode != 0 and argv == [] and b"-Xmx" in p.stderr


def test_driver_jvm_flags_variable_replaces_the_images_choice(posix_shell, fake):
    defaults = "spark.driver.extraJavaOptions -Da=1\n"
    # set: its flags, after the heap and before the driver's java options (which a user sets on top of them)
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"],
                  {"SPARK_LAMBDA_DRIVER_JVM_FLAGS": "-XX:+UseParallelGC  -XX:TieredStopAtLevel=1"}, defaults=defaults)
    assert p.returncode == 0, p.stderr
    before = argv[: argv.index(SUBMIT)]
    assert before.index("-XX:+UseParallelGC") > before.index([a for a in before if a.startswith("-Xmx")][0])
    assert before.index("-XX:+UseParallelGC") < before.index("-XX:TieredStopAtLevel=1") < before.index("-Da=1")
    # set and empty: no GC or JIT flag at all (the JVM's own ergonomics), whatever the image's choice is
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"SPARK_LAMBDA_DRIVER_JVM_FLAGS": ""})
    assert p.returncode == 0, p.stderr
    assert not [a for a in argv[: argv.index(SUBMIT)] if re.match(r"-XX:(\+Use\w+GC|TieredStopAtLevel)", a)]
    # the heap has one source of truth, and quoted values cannot be split safely
    for bad in ("-Xmx4g", "-Dx='a b'"):
        p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"SPARK_LAMBDA_DRIVER_JVM_FLAGS": bad})
        assert p.returncode != 0 and argv == [] and b"SPARK_LAMBDA_DRIVER_JVM_FLAGS" in p.stderr, p.stderr


@pytest.mark.parametrize("mem, expected", [
    ("2048", ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]),  # the construct's minimum (about 1.2 vCPUs)
    ("2653", ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]),  # under 1.5 vCPUs
    ("2654", ["-XX:TieredStopAtLevel=1", "-XX:+UseParallelGC"]),  # 1.5 vCPUs: a second GC thread has a CPU
    ("3008", ["-XX:TieredStopAtLevel=1", "-XX:+UseParallelGC"]),  # the construct's default
    ("3538", ["-XX:TieredStopAtLevel=1", "-XX:+UseParallelGC"]),  # 2 vCPUs: the largest measured shape
    ("3539", []),  # more vCPUs than measured: the JVM's ergonomics
    ("10240", []),
    (None, []),  # outside Lambda (spark-submit, a cluster)
])
def test_the_images_gc_and_jit_flags_follow_the_functions_vcpus(posix_shell, fake, mem, expected):
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": mem} if mem else {})
    assert p.returncode == 0, p.stderr
    flags = [a for a in argv[: argv.index(SUBMIT)] if re.match(r"-XX:(\+Use\w+GC|TieredStopAtLevel)", a)]
    assert flags == expected
    # the variable replaces them, even when empty
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"],
                  {"SPARK_LAMBDA_DRIVER_JVM_FLAGS": "", **({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": mem} if mem else {})})
    assert not [a for a in argv[: argv.index(SUBMIT)] if re.match(r"-XX:(\+Use\w+GC|TieredStopAtLevel)", a)]


def test_extra_class_path_comes_first(posix_shell, fake):
    p, argv = run(posix_shell, fake, [SUBMIT, "--driver-class-path", "/x/a.jar:/x/b.jar", "pyspark-shell"])
    assert p.returncode == 0, p.stderr
    assert argv[1].startswith("/x/a.jar:/x/b.jar:%s/jars/*:" % fake["spark_home"])


def test_class_data_sharing_archive_is_mapped_only_when_named_and_readable(posix_shell, fake, tmp_path):
    archive = tmp_path / "driver.jsa"
    archive.write_bytes(b"x")
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"SPARK_LAMBDA_CDS_ARCHIVE": str(archive)})
    assert p.returncode == 0, p.stderr
    before = argv[: argv.index(SUBMIT)]
    assert "-XX:SharedArchiveFile=%s" % archive in before and "-Xshare:auto" in before
    assert not any(a.startswith("-XX:ArchiveClassesAtExit") for a in argv)
    # a named archive that is not there: reported, and java starts without it
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"SPARK_LAMBDA_CDS_ARCHIVE": str(tmp_path / "gone.jsa")})
    assert p.returncode == 0 and argv, p.stderr
    assert not any("SharedArchiveFile" in a for a in argv)
    assert b"is not a readable file: starting without class-data sharing" in p.stderr
    # none named: no CDS option at all
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"])
    assert not any("SharedArchiveFile" in a or "ArchiveClassesAtExit" in a for a in argv)


def test_the_training_run_dumps_the_archive_at_exit(posix_shell, fake, tmp_path):
    dump = tmp_path / "new.jsa"
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"],
                  {"SPARK_LAMBDA_CDS_DUMP": str(dump), "SPARK_LAMBDA_CDS_ARCHIVE": str(dump)})
    assert p.returncode == 0, p.stderr
    before = argv[: argv.index(SUBMIT)]
    assert "-XX:ArchiveClassesAtExit=%s" % dump in before
    assert not any("SharedArchiveFile" in a for a in argv)  # dumping wins over mapping
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], {"SPARK_LAMBDA_CDS_DUMP": "/tmp/a b.jsa"})
    assert p.returncode != 0 and argv == [] and b"without whitespace" in p.stderr


def test_env_of_the_caller_reaches_java(posix_shell, fake):
    java = fake["java_home"] / "bin" / "java"
    java.write_text('#!/bin/sh\nprintf "%s\\0%s\\0" "$_PYSPARK_DRIVER_CONN_INFO_PATH" "$PYSPARK_GATEWAY_SECRET"\n')
    env = {"_PYSPARK_DRIVER_CONN_INFO_PATH": "/tmp/x y/conn", "PYSPARK_GATEWAY_SECRET": "s3cr3t 'q'"}
    p, argv = run(posix_shell, fake, [SUBMIT, "pyspark-shell"], env)
    assert p.returncode == 0, p.stderr
    assert argv == ["/tmp/x y/conn", "s3cr3t 'q'"]


def test_the_script_has_no_bashisms_and_parses_in_posix_shells(posix_shell):
    text = SPARK_CLASS.read_text()
    assert text.startswith("#!/bin/sh\n")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for bashism in (r"<\(", r"\[\[", r"/dev/fd", r"\bdeclare\s", r"\blocal\s", r"\w=\(", r"\$\{!", r"^\s*function\s",
                    r"\$'", r"\bsource\s", r"==", r"\bpipefail\b"):
        assert not re.search(bashism, code, re.M), bashism
    assert subprocess.run([*posix_shell, "-n", str(SPARK_CLASS)]).returncode == 0
