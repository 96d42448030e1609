# Unit tests of locallambda/cds_classes.py's pure logic: which lines of a JDK class list (-XX:DumpLoadedClassList)
# become docker/cds-classes.txt entries.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cds_classes  # noqa: E402


def test_only_class_names_a_loader_can_find_are_kept():
    text = "\n".join([
        "# NOTE: Do not modify this file.",
        "java/lang/Object id: 0",
        "org/apache/hadoop/fs/s3a/S3AFileSystem",
        "org/apache/hadoop/fs/s3a/S3AFileSystem",
        "@lambda-proxy java/lang/Module apply ()Ljava/util/function/BiFunction; ...",
        "@lambda-form-invoker [LF_RESOLVE] java.lang.invoke.DirectMethodHandle$Holder invokeStatic L7_L",
        "jdk/proxy2/$Proxy41",
        "org/apache/spark/sql/catalyst/trees/TreeNode$$Lambda$1234",
        "java/lang/invoke/LambdaForm$MH/0x00007fd0893c",
        "",
    ])
    assert cds_classes.class_names(text) == {"java/lang/Object", "org/apache/hadoop/fs/s3a/S3AFileSystem"}
