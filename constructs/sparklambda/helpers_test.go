package sparklambda_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// newTestApp returns an app whose cloud assembly goes to a per-test temporary directory, with the cdk-nag
// AwsSolutions checks applied (their findings become error annotations).
func newTestApp(t *testing.T) awscdk.App {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	return app
}

// writeScript writes a small PySpark file for constructs that upload their script as an asset.
func writeScript(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.py")
	if err := os.WriteFile(path, []byte("print('hello from spark')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// suppressTestBucket documents the cdk-nag findings of a bare bucket that only exists as a grant target in tests.
func suppressTestBucket(bucket awss3.Bucket) {
	cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("Test fixture bucket that is never deployed; it only receives grants."),
	}}, jsii.Bool(false))
}

// suppressTestQueue documents the cdk-nag findings of a queue that only exists as a trigger source in tests.
func suppressTestQueue(queue awssqs.Queue) {
	cdknag.NagSuppressions_AddResourceSuppressions(queue, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("Test fixture queue that is never deployed; some deliberately have no dead-letter queue."),
	}}, jsii.Bool(false))
}
