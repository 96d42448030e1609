package test

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sparklambda/spark-lambda-cdk/apps/sample"
	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/docker"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// fakeDocker writes an executable named name into a new directory; it records its arguments, one per line, in
// the file $FAKE_DOCKER_LOG and prints some build noise on stdout, as docker does.
func fakeDocker(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\n# Test double for the docker CLI: records its arguments.\n" +
		"for arg in \"$@\"; do printf '%s\\n' \"$arg\" >> \"$FAKE_DOCKER_LOG\"; done\necho '#1 building...'\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// runAssetExecutable runs an image asset's executable the way the CDK CLI does (cdk-assets: working directory =
// the cloud assembly directory, the local image tag read from stdout) and returns stdout and the recorded args.
func runAssetExecutable(t *testing.T, outdir string, executable []any, env ...string) (string, []string) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "args")
	args := make([]string, len(executable))
	for i, arg := range executable {
		args[i] = arg.(string)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = outdir
	cmd.Env = append(os.Environ(), append(env, "FAKE_DOCKER_LOG="+log)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("asset executable failed: %v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("the fake docker was not called: %v", err)
	}
	return strings.TrimSpace(string(stdout)), strings.Split(strings.TrimSpace(string(raw)), "\n")
}

// TestImageBuildCommand proves, from each <stack>.assets.json alone, the build the CDK CLI will run: buildx for
// linux/amd64, no provenance or SBOM attestations (Lambda rejects image indexes), loaded into the local image
// store, the framework's build argument, and a tag printed on stdout that cdk-assets then pushes.
func TestImageBuildCommand(t *testing.T) {
	app := synthSample(t)
	docker := fakeDocker(t, "docker")
	for _, framework := range sparklambda.Frameworks() {
		t.Run(string(framework), func(t *testing.T) {
			manifest := cdktest.ReadJSON(t, filepath.Join(app.outdir, sample.StackName(framework)+".assets.json"))
			images := manifest["dockerImages"].(map[string]any)
			if len(images) != 1 {
				t.Fatalf("want one image asset, got %d", len(images))
			}
			for hash, value := range images {
				source := value.(map[string]any)["source"].(map[string]any)
				if source["platform"] != "linux/amd64" {
					t.Errorf("platform = %v, want linux/amd64", source["platform"])
				}
				if _, ok := source["directory"]; ok {
					t.Error("asset is a directory build: its flags would depend on the CDK CLI version")
				}
				executable := source["executable"].([]any)
				command := cdktest.JSONString(t, executable)
				for _, flag := range []string{"--platform linux/amd64", "--provenance=false", "--sbom=false"} {
					if !strings.Contains(command, flag) {
						t.Errorf("executable lacks %s: %s", flag, command)
					}
				}

				stdout, args := runAssetExecutable(t, app.outdir, executable, "PATH="+filepath.Dir(docker)+":"+os.Getenv("PATH"))
				want := []string{"buildx", "build", "--platform", "linux/amd64", "--provenance=false", "--sbom=false",
					"--load", "--build-arg", "FRAMEWORK=" + string(framework), "--tag", "cdkasset-" + hash, "asset." + hash}
				if !slices.Equal(args, want) {
					t.Errorf("docker called with\n  %q\nwant\n  %q", args, want)
				}
				if stdout != "cdkasset-"+hash {
					t.Errorf("stdout = %q, want only the local tag cdkasset-%s (cdk-assets pushes what it reads)", stdout, hash)
				}
				if _, err := os.Stat(filepath.Join(app.outdir, "asset."+hash, "Dockerfile")); err != nil {
					t.Errorf("build context is not in the cloud assembly: %v", err)
				}
			}
		})
	}

	t.Run("CDK_DOCKER selects another client", func(t *testing.T) {
		manifest := cdktest.ReadJSON(t, filepath.Join(app.outdir, sample.StackName(sparklambda.FrameworkDelta)+".assets.json"))
		for _, value := range manifest["dockerImages"].(map[string]any) {
			executable := value.(map[string]any)["source"].(map[string]any)["executable"].([]any)
			other := fakeDocker(t, "podman")
			_, args := runAssetExecutable(t, app.outdir, executable, "CDK_DOCKER="+other, "PATH=/usr/bin:/bin")
			if len(args) < 2 || args[0] != "buildx" {
				t.Errorf("CDK_DOCKER client called with %q", args)
			}
		}
	})
}

// copySource matches the sources of a Dockerfile COPY from the build context (not --from another stage).
var copySource = regexp.MustCompile(`^COPY\s+(?:--(?:chmod|chown|link)\S*\s+)*([^-].*)\s+\S+$`)

// TestDockerfileCopiesOnlyEmbeddedFiles keeps docker/embed.go in step with the Dockerfile: every file the
// Dockerfile copies from the context must be in the embedded context the constructs write into cdk.out.
func TestDockerfileCopiesOnlyEmbeddedFiles(t *testing.T) {
	context := docker.Context()
	dockerfile, err := fs.ReadFile(context, "Dockerfile")
	if err != nil {
		t.Fatalf("the embedded build context has no Dockerfile: %v", err)
	}
	copies := 0
	scanner := bufio.NewScanner(strings.NewReader(string(dockerfile)))
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		match := copySource.FindStringSubmatch(line)
		if match == nil || strings.Contains(line, "--from") {
			continue
		}
		for _, source := range strings.Fields(match[1]) {
			copies++
			if strings.HasSuffix(source, "/") { // a directory: it must be embedded and not empty
				source = strings.TrimSuffix(source, "/") + "/*"
			}
			matches, err := fs.Glob(context, source)
			if err != nil || len(matches) == 0 {
				t.Errorf("Dockerfile copies %q, which is not embedded by docker/embed.go", source)
			}
		}
	}
	if copies == 0 {
		t.Fatal("found no COPY from the build context in the Dockerfile; the check would prove nothing")
	}
}

// TestEmbeddedPythonFilesAreTheImagesPythonFiles: docker/python/*/*.py is the one list of the image's Python files
// (the handler package and the script API): the embedded context must hold exactly the ones on disk, so a module
// added to a package can never be missing from the image while the local runtime and the tests have it.
func TestEmbeddedPythonFilesAreTheImagesPythonFiles(t *testing.T) {
	embedded, err := fs.Glob(docker.Context(), "python/*/*.py")
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := filepath.Glob(filepath.Join("..", "docker", "python", "*", "*.py"))
	if err != nil {
		t.Fatal(err)
	}
	for i, path := range onDisk {
		onDisk[i] = filepath.ToSlash(strings.TrimPrefix(path, filepath.Join("..", "docker")+string(filepath.Separator)))
	}
	if strings.Join(embedded, "\n") != strings.Join(onDisk, "\n") {
		t.Errorf("embedded Python files differ from docker/python on disk:\nembedded: %v\non disk:  %v", embedded, onDisk)
	}
	for _, required := range []string{"python/handler/__init__.py", "python/sparklambda/events.py"} {
		if _, err := fs.Stat(docker.Context(), required); err != nil {
			t.Errorf("the image lacks %s: %v", required, err)
		}
	}
}
