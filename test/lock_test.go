package test

import (
	"bufio"
	"os"
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
