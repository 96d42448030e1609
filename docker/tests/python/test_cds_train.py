# Unit tests of the class-data sharing training run's class loading (docker/cds-train.py) without a JVM: the class
# list's parsing and the counts of loaded, absent and unloadable classes, with a stand-in for Py4J's JVM view.
import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("cds_train", Path(__file__).resolve().parents[2] / "cds-train.py")
cds_train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cds_train)


class FakeJvm:
    """The part of Py4J's JVM view that load_classes uses: the application class loader's getResource and
    Class.forName(name, initialize, loader), over a set of class files and a set of classes that fail to link."""

    def __init__(self, files, broken=()):
        self.files, self.broken, self.forName_calls = set(files), set(broken), []
        jvm = self

        class Loader:
            def getResource(self, path):
                return path if path in jvm.files else None

        class Class:
            @staticmethod
            def forName(name, initialize, loader):
                jvm.forName_calls.append((name, initialize))
                if name in jvm.broken:
                    raise RuntimeError(f"java.lang.NoClassDefFoundError: a dependency of {name}")
                return name

        class ClassLoader:
            @staticmethod
            def getSystemClassLoader():
                return Loader()

        self.java = type("java", (), {"lang": type("lang", (), {"Class": Class, "ClassLoader": ClassLoader})})


def test_class_names_skip_comments_and_blank_lines_and_use_dotted_names():
    lines = ["# java 17\n", "\n", "org/apache/hadoop/fs/s3a/S3AFileSystem\n", "  a/B$Inner  \n"]
    assert cds_train.class_names(lines) == ["org.apache.hadoop.fs.s3a.S3AFileSystem", "a.B$Inner"]


def test_load_classes_counts_loaded_absent_and_unloadable_without_initializing():
    jvm = FakeJvm(files={"a/Here.class", "a/Broken.class", "a/Here$Inner.class"}, broken={"a.Broken"})
    counts = cds_train.load_classes(jvm, ["a.Here", "a.Here$Inner", "other.Format", "a.Broken"])
    assert counts == (2, 1, 1)
    # Never initialized (no static initializer may run at build time), never looked up when absent.
    assert jvm.forName_calls == [("a.Here", False), ("a.Here$Inner", False), ("a.Broken", False)]


@pytest.mark.parametrize("argv", [["cds-train.py", "DELTA", "/tmp/w"], ["cds-train.py"]])
def test_the_class_list_argument_is_required(monkeypatch, argv):
    monkeypatch.setattr(cds_train.sys, "argv", argv)
    with pytest.raises(SystemExit, match="CLASS_LIST"):
        cds_train.main()
