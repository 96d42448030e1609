package sparklambda_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppressTestBucket documents the cdk-nag findings of a bare bucket that only exists as a grant target in tests.
func suppressTestBucket(bucket awss3.Bucket) {
	cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("Test fixture bucket that is never deployed; it only receives grants."),
	}}, jsii.Bool(false))
}
