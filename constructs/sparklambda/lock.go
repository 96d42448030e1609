package sparklambda

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/sparklambda/spark-lambda-cdk/docker"
)

// Reading docker/versions.lock, the one source of truth for versions, from the embedded build context (docker.Context),
// with the rules of docker/lock.sh: '#' starts a comment, blank lines are skipped and every entry has five
// whitespace-separated columns (kind scope name version sha256).

// lockEntry is one entry of docker/versions.lock.
type lockEntry struct {
	kind, scope, name, version, sha256 string
}

// readLock parses the lock file at path in fsys. A line with other than five columns is an error, as in lock.sh.
func readLock(fsys fs.FS, path string) ([]lockEntry, error) {
	raw, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, err
	}
	var entries []lockEntry
	for number, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(strings.SplitN(line, "#", 2)[0])
		switch len(fields) {
		case 0:
			continue
		case 5:
			entries = append(entries, lockEntry{fields[0], fields[1], fields[2], fields[3], fields[4]})
		default:
			return nil, fmt.Errorf("%s:%d: expected 5 columns, got %d", path, number+1, len(fields))
		}
	}
	return entries, nil
}

// lockVersion returns the version of the one lock entry of kind named name (lock.sh's `version NAME`), or an error
// when there is none or more than one.
func lockVersion(fsys fs.FS, kind, name string) (string, error) {
	entries, err := readLock(fsys, "versions.lock")
	if err != nil {
		return "", err
	}
	var versions []string
	for _, entry := range entries {
		if entry.kind == kind && entry.name == name {
			versions = append(versions, entry.version)
		}
	}
	if len(versions) != 1 {
		return "", fmt.Errorf("docker/versions.lock has %d %s entries named %q, want exactly 1", len(versions), kind, name)
	}
	return versions[0], nil
}

// EmrReleaseLabel is the Amazon EMR release label of every SparkEmrServerless application, e.g. "emr-7.12.0": the
// version of the lock entry `runtime COMMON emr-release` in docker/versions.lock (embedded in the module, so it is the
// lock of the module version you build with). It panics when the embedded lock has no such entry or more than one,
// which only a broken build of this module can cause.
func EmrReleaseLabel() string {
	label, err := lockVersion(docker.Context(), "runtime", "emr-release")
	if err != nil {
		panic(fmt.Errorf("EmrReleaseLabel: %w", err))
	}
	return label
}
