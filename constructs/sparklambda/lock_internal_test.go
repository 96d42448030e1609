package sparklambda

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLockAndSparkConfReaders checks the readers of the embedded version lock and Spark defaults on small files: what
// they accept and each malformed input they reject.
func TestLockAndSparkConfReaders(t *testing.T) {
	lock := func(text string) fstest.MapFS { return fstest.MapFS{"versions.lock": {Data: []byte(text)}} }
	if got, err := lockVersion(lock("# c\n\nruntime COMMON emr-release emr-7.12.0 - # trailing\n"), "runtime", "emr-release"); err != nil || got != "emr-7.12.0" {
		t.Errorf("lockVersion = %q, %v", got, err)
	}
	for name, text := range map[string]string{
		"four columns": "runtime COMMON emr-release emr-7.12.0\n",
		"missing":      "runtime COMMON spark 3.5.3 -\n",
		"twice":        "runtime COMMON emr-release a -\nruntime COMMON emr-release b -\n",
	} {
		if got, err := lockVersion(lock(text), "runtime", "emr-release"); err == nil {
			t.Errorf("%s: lockVersion = %q, want an error", name, got)
		}
	}

	conf := func(text string) fstest.MapFS {
		return fstest.MapFS{"conf/spark-defaults-DELTA.conf": {Data: []byte(text)}}
	}
	got, err := sparkDefaultsFile(conf("# comment\nspark.a   x\nspark.b\tan extra value \n\n"), FrameworkDelta)
	if err != nil || len(got) != 2 || got["spark.a"] != "x" || got["spark.b"] != "an extra value" {
		t.Errorf("sparkDefaultsFile = %v, %v", got, err)
	}
	for name, text := range map[string]string{"no value": "spark.a\n", "twice": "spark.a x\nspark.a y\n"} {
		if _, err := sparkDefaultsFile(conf(text), FrameworkDelta); err == nil || !strings.Contains(err.Error(), "spark.a") {
			t.Errorf("%s: sparkDefaultsFile error = %v", name, err)
		}
	}
}
