package sparklambda

import (
	"testing"
	"testing/fstest"

	"github.com/sparklambda/spark-lambda-cdk/docker"
)

// The asset hash decides whether ECR gets a new image: it must change with the framework, any context file and
// the build flags, and must not depend on anything else.
func TestImageSourceHash(t *testing.T) {
	base := fstest.MapFS{
		"Dockerfile":    {Data: []byte("FROM scratch\n")},
		"versions.lock": {Data: []byte("runtime COMMON spark 3.5.3 -\n")},
		"embed.go":      {Data: []byte("package docker\n")},
	}
	hashOf := func(t *testing.T, fsys fstest.MapFS, framework Framework) string {
		t.Helper()
		files, err := contextFiles(fsys)
		if err != nil {
			t.Fatal(err)
		}
		return imageSourceHash(framework, imageBuildScriptTemplate, files)
	}
	reference := hashOf(t, base, FrameworkDelta)

	if again := hashOf(t, base, FrameworkDelta); again != reference {
		t.Errorf("hash is not deterministic: %s != %s", again, reference)
	}
	if other := hashOf(t, base, FrameworkHudi); other == reference {
		t.Error("hash does not change with the framework")
	}
	changed := fstest.MapFS{"Dockerfile": {Data: []byte("FROM scratch\nRUN true\n")}, "versions.lock": base["versions.lock"]}
	if hashOf(t, changed, FrameworkDelta) == reference {
		t.Error("hash does not change with a context file")
	}
	withoutGo := fstest.MapFS{"Dockerfile": base["Dockerfile"], "versions.lock": base["versions.lock"]}
	if hashOf(t, withoutGo, FrameworkDelta) != reference {
		t.Error("the Go embedding file is not part of the image but changes its hash")
	}

	files, _ := contextFiles(base)
	if imageSourceHash(FrameworkDelta, imageBuildScriptTemplate+" --no-cache", files) == reference {
		t.Error("hash does not change with the build command")
	}
}

// The real embedded context holds the files the Dockerfile needs and nothing else.
func TestEmbeddedContext(t *testing.T) {
	files, err := contextFiles(docker.Context())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.path] = true
		if f.path == "spark-class" && f.mode != 0o755 {
			t.Errorf("spark-class must be executable in the context, mode %o", f.mode)
		}
	}
	for _, required := range []string{"Dockerfile", "versions.lock"} {
		if !seen[required] {
			t.Errorf("build context lacks %s (have %v)", required, seen)
		}
	}
}
