package sparklambda

import (
	"fmt"
	"strings"
)

// Framework is a table format that a SparkImage bundles. Its value is the FRAMEWORK build argument of the image
// and a scope in docker/versions.lock, where the jars and versions for each framework are pinned.
type Framework string

const (
	// FrameworkHudi is Apache Hudi (hudi-spark3.5-bundle).
	FrameworkHudi Framework = "HUDI"
	// FrameworkDelta is Delta Lake (delta-spark + delta-storage).
	FrameworkDelta Framework = "DELTA"
	// FrameworkIceberg is Apache Iceberg (iceberg-spark-runtime-3.5 + iceberg-aws-bundle).
	FrameworkIceberg Framework = "ICEBERG"
)

// Frameworks returns every supported table format, in a stable order (HUDI, DELTA, ICEBERG).
func Frameworks() []Framework {
	return []Framework{FrameworkHudi, FrameworkDelta, FrameworkIceberg}
}

// ParseFramework turns a name such as "delta" or "ICEBERG" (case-insensitive, surrounding spaces ignored) into a
// Framework. It returns an error naming the valid values when the name is unknown.
func ParseFramework(name string) (Framework, error) {
	candidate := Framework(strings.ToUpper(strings.TrimSpace(name)))
	if candidate.Valid() {
		return candidate, nil
	}
	return "", fmt.Errorf("unknown framework %q: use one of %s", name, frameworkList())
}

// Valid reports whether f is one of Frameworks().
func (f Framework) Valid() bool {
	for _, known := range Frameworks() {
		if f == known {
			return true
		}
	}
	return false
}

func frameworkList() string {
	names := make([]string, 0, len(Frameworks()))
	for _, f := range Frameworks() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}
