package sparklambda

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/sparklambda/spark-lambda-cdk/docker"
)

// The Spark settings of an EMR Serverless application, generated from the same source as the image's: the table
// format's docker/conf/spark-defaults-<FRAMEWORK>.conf (embedded in the module). The common
// docker/conf/spark-defaults.conf is not used: it configures Spark local mode inside Lambda's sandbox (local[*],
// /tmp paths, the loopback driver, s3a through hadoop-aws), which is wrong on EMR, where EMRFS serves s3:// and
// Spark runs on EMR Serverless's own workers.

// emrFormatJars are the table format's jars on the EMR release of EmrReleaseLabel (emr-7.x), as spark.jars (EMR
// Serverless User Guide: "Using Apache Iceberg with EMR Serverless", "Using Delta Lake OSS with EMR Serverless" (from
// EMR 7.0.0 delta-core.jar is named delta-spark.jar), "Using Apache Hudi with EMR Serverless"). The jars are in the
// release's image; they are not on the classpath unless spark.jars names them.
var emrFormatJars = map[Framework][]string{
	FrameworkIceberg: {"/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar"},
	FrameworkDelta:   {"/usr/share/aws/delta/lib/delta-spark.jar", "/usr/share/aws/delta/lib/delta-storage.jar"},
	FrameworkHudi:    {"/usr/lib/hudi/hudi-spark-bundle.jar"},
}

// EmrSparkJarsProperty is the Spark property that carries the table format's jars of the EMR release in the
// application's spark-defaults (see EmrSparkDefaults). A job run that sets spark.jars itself (--jars or --conf
// spark.jars) replaces the application's value and must repeat these jars.
const EmrSparkJarsProperty = "spark.jars"

// EmrSparkDefaults returns the spark-defaults classification of an EMR Serverless application for framework: every
// key and value of docker/conf/spark-defaults-<FRAMEWORK>.conf (the image's settings for the format: extensions,
// catalog, serializer), plus EmrSparkJarsProperty with the format's jars on the EMR release. It returns an error for
// an unknown framework or when the embedded file cannot be read or parsed, and when the file itself sets spark.jars
// (the image's jars are on its classpath already; a value there would hide the EMR jars).
//
// The values are the image's defaults; the handler passes what depends on the deployment (the warehouse location,
// the Glue or DynamoDB coordination settings) per job run, as it does in Lambda.
func EmrSparkDefaults(framework Framework) (map[string]string, error) {
	jars, known := emrFormatJars[framework]
	if !known {
		return nil, fmt.Errorf("unknown framework %q: use one of %s", framework, frameworkList())
	}
	properties, err := sparkDefaultsFile(docker.Context(), framework)
	if err != nil {
		return nil, err
	}
	if value, set := properties[EmrSparkJarsProperty]; set {
		return nil, fmt.Errorf("conf/spark-defaults-%s.conf sets %s (%q), which the EMR application sets to the "+
			"release's jars", framework, EmrSparkJarsProperty, value)
	}
	properties[EmrSparkJarsProperty] = strings.Join(jars, ",")
	return properties, nil
}

// sparkDefaultsFile parses conf/spark-defaults-<framework>.conf in fsys in Spark's properties-file form as these
// files use it: one "key value" per line, the key up to the first whitespace, the value the rest of the line with
// surrounding whitespace removed; '#' starts a comment line; blank lines are skipped. A key without a value, or a
// key given twice, is an error.
func sparkDefaultsFile(fsys fs.FS, framework Framework) (map[string]string, error) {
	path := fmt.Sprintf("conf/spark-defaults-%s.conf", framework)
	raw, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, err
	}
	properties := map[string]string{}
	for number, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, _ := strings.Cut(line, " ")
		if tab := strings.IndexByte(key, '\t'); tab >= 0 {
			key, value = line[:tab], line[tab+1:]
		}
		value = strings.TrimSpace(value)
		if value == "" {
			return nil, fmt.Errorf("%s:%d: %q has no value", path, number+1, key)
		}
		if _, twice := properties[key]; twice {
			return nil, fmt.Errorf("%s:%d: %q is set twice", path, number+1, key)
		}
		properties[key] = value
	}
	return properties, nil
}

// sortedKeys returns the keys of m in order (for a stable template).
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
