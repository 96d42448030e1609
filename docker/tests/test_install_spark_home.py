# Tests of docker/install-spark-home.sh, the install steps the Dockerfile and `make runtime` share, under dash and
# busybox sh with a fake Python (it names a fake pyspark directory and records pip's arguments): SPARK_HOME's layout,
# our spark-class in place of pyspark's, the Spark defaults of the framework, the framework's Python packages, and
# the task root holding exactly the image's Python files where awslambdaric imports handler.handler.
import subprocess
import zipfile

import pytest

from lock_helpers import DOCKER

SCRIPT = DOCKER / "install-spark-home.sh"


@pytest.fixture
def fake_python(tmp_path):
    pyspark = tmp_path / "site" / "pyspark"
    (pyspark / "bin").mkdir(parents=True)
    (pyspark / "jars").mkdir()
    for name in ("spark-class", "spark-submit", "pyspark"):
        (pyspark / "bin" / name).write_text("#!/bin/sh\n# stock %s\n" % name)
    for name in ("spark-core_2.12-3.5.3.jar", "hadoop-client-api-3.3.4.jar"):
        write_jar(pyspark / "jars" / name, {"org/apache/spark/A.class": b"\xca\xfe\xba\xbe"})
    python = tmp_path / "python"
    # `python -c ...` names the fake pyspark, `python - ...` (a script on stdin) runs the real Python, anything else
    # is pip: its arguments are recorded.
    python.write_text('#!/bin/sh\n# fake interpreter\n'
                      'if [ "$1" = -c ]; then echo "%s"; exit 0; fi\n'
                      'if [ "$1" = - ]; then exec python3 "$@"; fi\n'
                      'printf "%%s\\n" "$@" > "%s"\n' % (pyspark, tmp_path / "pip-args"))
    python.chmod(0o755)
    return {"python": python, "pyspark": pyspark, "pip_args": tmp_path / "pip-args", "tmp": tmp_path}


def write_jar(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as jar:
        for name, data in entries.items():
            jar.writestr(name, data)


def run(shell, *args):
    return subprocess.run([*shell, str(SCRIPT), *args], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})


def test_spark_home_layout(posix_shell, fake_python):
    tmp = fake_python["tmp"]
    jars = tmp / "framework-jars"
    jars.mkdir()
    write_jar(jars / "delta-spark_2.12-3.2.1.jar", {"io/delta/A.class": b"\xca\xfe\xba\xbe"})
    reqs = tmp / "requirements-framework.txt"
    reqs.write_text("delta-spark==3.2.1 --hash=sha256:00\n")
    home, target = tmp / "spark", tmp / "pylib"
    p = run(posix_shell, "spark-home", str(home), str(fake_python["python"]), "DELTA", str(DOCKER / "conf"),
            str(reqs), str(target), str(jars))
    assert p.returncode == 0, p.stderr
    bin_dir = home / "bin"
    assert (bin_dir / "spark-submit").resolve() == fake_python["pyspark"] / "bin" / "spark-submit"
    assert not (bin_dir / "spark-class").is_symlink(), "pyspark's spark-class needs /dev/fd: ours replaces it"
    assert (bin_dir / "spark-class").read_bytes() == (DOCKER / "spark-class").read_bytes()
    assert (fake_python["pyspark"] / "bin" / "spark-class").read_text().endswith("# stock spark-class\n")
    assert sorted(f.name for f in (home / "jars").iterdir()) == [
        "delta-spark_2.12-3.2.1.jar", "hadoop-client-api-3.3.4.jar", "spark-core_2.12-3.5.3.jar"]
    conf = (DOCKER / "conf" / "spark-defaults.conf").read_text() + (DOCKER / "conf" / "spark-defaults-DELTA.conf").read_text()
    assert (home / "conf" / "spark-defaults.conf").read_text() == conf
    pip = fake_python["pip_args"].read_text().split("\n")
    assert pip[:3] == ["-m", "pip", "install"] and "--require-hashes" in pip and "--no-deps" in pip
    assert pip[pip.index("--target") + 1] == str(target) and pip[pip.index("-r") + 1] == str(reqs)


def test_spark_home_copies_signed_jars_without_their_signature(posix_shell, fake_python):
    # The class-data sharing archive leaves out every class of a signed jar (pyspark's Janino is one): SPARK_HOME
    # holds an unsigned copy with every other entry unchanged; unsigned jars stay links to pyspark's.
    tmp = fake_python["tmp"]
    manifest = b"Manifest-Version: 1.0\r\n\r\nName: org/codehaus/janino/Compiler.class\r\nSHA-256-Digest: x\r\n\r\n"
    kept = {"META-INF/MANIFEST.MF": manifest, "org/codehaus/janino/Compiler.class": b"\xca\xfe\xba\xbe" * 64,
            "META-INF/maven/org.codehaus.janino/janino/pom.xml": b"<project/>"}
    signed = fake_python["pyspark"] / "jars" / "janino-3.1.9.jar"
    write_jar(signed, {**kept, "META-INF/DUMMY.SF": b"sf", "META-INF/DUMMY.DSA": b"dsa", "META-INF/other.rsa": b"r",
                       "META-INF/SIG-X": b"s"})
    reqs = tmp / "requirements-framework.txt"
    reqs.write_text("")
    home = tmp / "spark"
    p = run(posix_shell, "spark-home", str(home), str(fake_python["python"]), "HUDI", str(DOCKER / "conf"),
            str(reqs), "-")
    assert p.returncode == 0, p.stderr
    copy = home / "jars" / "janino-3.1.9.jar"
    assert copy.is_file() and not copy.is_symlink()
    with zipfile.ZipFile(copy) as jar:
        assert {e.filename: jar.read(e) for e in jar.infolist()} == kept
    with zipfile.ZipFile(signed) as jar:
        assert "META-INF/DUMMY.SF" in jar.namelist(), "pyspark's own jar must stay as installed"
    assert (home / "jars" / "spark-core_2.12-3.5.3.jar").is_symlink()
    assert "janino-3.1.9.jar copied without its signature" in p.stdout
    assert not list((home / "jars").glob("*.unsigned"))


def test_spark_home_fails_on_a_jar_that_is_not_a_zip_file(posix_shell, fake_python):
    tmp = fake_python["tmp"]
    (fake_python["pyspark"] / "jars" / "broken.jar").write_text("not a zip")
    reqs = tmp / "requirements-framework.txt"
    reqs.write_text("")
    p = run(posix_shell, "spark-home", str(tmp / "spark"), str(fake_python["python"]), "HUDI", str(DOCKER / "conf"),
            str(reqs), "-")
    assert p.returncode != 0 and "could not copy the signed jars" in p.stderr and "broken.jar" in p.stderr


def test_spark_home_into_site_packages_and_without_framework_packages(posix_shell, fake_python):
    tmp = fake_python["tmp"]
    reqs = tmp / "requirements-framework.txt"
    reqs.write_text("delta-spark==3.2.1 --hash=sha256:00\n")
    p = run(posix_shell, "spark-home", str(tmp / "spark"), str(fake_python["python"]), "DELTA", str(DOCKER / "conf"),
            str(reqs), "-")
    assert p.returncode == 0, p.stderr
    assert "--target" not in fake_python["pip_args"].read_text().split("\n")
    fake_python["pip_args"].unlink()
    reqs.write_text("")
    p = run(posix_shell, "spark-home", str(tmp / "spark2"), str(fake_python["python"]), "HUDI", str(DOCKER / "conf"),
            str(reqs), "-")
    assert p.returncode == 0, p.stderr
    assert not fake_python["pip_args"].exists(), "no framework packages: pip must not run"


def test_spark_home_rejects_an_unknown_framework(posix_shell, fake_python):
    tmp = fake_python["tmp"]
    p = run(posix_shell, "spark-home", str(tmp / "spark"), str(fake_python["python"]), "ORC", str(DOCKER / "conf"),
            str(tmp / "none"), "-")
    assert p.returncode != 0 and "no Spark defaults for framework 'ORC'" in p.stderr


def test_task_root_holds_exactly_the_image_python_files(posix_shell, tmp_path):
    root = tmp_path / "task"
    p = run(posix_shell, "task-root", str(root), str(DOCKER / "python"))
    assert p.returncode == 0, p.stderr
    installed = sorted(str(f.relative_to(root)) for f in root.rglob("*") if f.is_file())
    source = sorted(str(f.relative_to(DOCKER / "python")) for f in (DOCKER / "python").glob("*/*.py"))
    assert installed == source
    assert (root / "handler" / "__init__.py").read_bytes() == (DOCKER / "python" / "handler" / "__init__.py").read_bytes()
    assert (root / "sparklambda" / "events.py").exists()
