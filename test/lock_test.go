package test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
)

// TestFrameworksMatchTheLock keeps the constructs' Framework list equal to the framework scopes of
// docker/versions.lock, the one source of truth for the version matrix.
func TestFrameworksMatchTheLock(t *testing.T) {
	file, err := os.Open(filepath.Join("..", "docker", "versions.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var scopes []string
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		fields := strings.Fields(strings.SplitN(scanner.Text(), "#", 2)[0])
		if len(fields) >= 2 && fields[0] == "jar" && fields[1] != "COMMON" && !slices.Contains(scopes, fields[1]) {
			scopes = append(scopes, fields[1])
		}
	}
	var frameworks []string
	for _, f := range sparklambda.Frameworks() {
		frameworks = append(frameworks, string(f))
	}
	slices.Sort(scopes)
	slices.Sort(frameworks)
	if !slices.Equal(scopes, frameworks) {
		t.Errorf("versions.lock has jars for %v, the constructs know %v", scopes, frameworks)
	}
}

// TestEmrReleaseLabelIsTheLocks checks that the constructs read the EMR Serverless release label the way lock.sh
// (the Dockerfile's and make's reader) does: `lock.sh version emr-release` and sparklambda.EmrReleaseLabel agree.
func TestEmrReleaseLabelIsTheLocks(t *testing.T) {
	out, err := exec.Command("sh", filepath.Join("..", "docker", "lock.sh"), "version", "emr-release").Output()
	if err != nil {
		t.Fatalf("lock.sh version emr-release: %v", err)
	}
	want := strings.TrimSpace(string(out))
	if got := sparklambda.EmrReleaseLabel(); got != want || !strings.HasPrefix(got, "emr-") {
		t.Errorf("EmrReleaseLabel() = %q, lock.sh says %q (want an emr-x.y.z label)", got, want)
	}
}
