// Package docker holds the build context of the Spark runtime image: the Dockerfile, the version lock, the jar
// fetch script, the Lambda-safe spark-class, the Spark defaults and the handler.
//
// The files are embedded so that the constructs can write an exact, self-contained build context into the cloud
// assembly (cdk.out) wherever the module is used from, including a read-only Go module cache. Only the files
// listed below are part of the context: downloaded jars, caches and test output that may sit in this directory on
// a developer machine never reach the image build or its asset hash.
package docker

import (
	"embed"
	"io/fs"
)

// Any file the Dockerfile COPYs must be listed here; TestDockerfileCopiesOnlyEmbeddedFiles in test/image_build_test.go
// checks that. The image's Python files are the packages under python/ (the handler and the script API sparklambda):
// python/*/*.py is the one list of them, which install-spark-home.sh copies into the task root, in the image and in
// the local runtime alike. Named by a pattern so that __init__.py is included and __pycache__ never is.
//
//go:embed Dockerfile versions.lock lock.sh fetch-jars.sh build-coordination.sh install-spark-home.sh spark-class cds-train.py cds-classes.txt
//go:embed conf/spark-defaults*.conf
//go:embed java/com/sparklambda/coordination/*.java python/*/*.py
var context embed.FS

// Context returns the image build context as a read-only file system rooted at the context directory.
func Context() fs.FS { return context }
