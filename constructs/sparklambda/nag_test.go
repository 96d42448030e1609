package sparklambda_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
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

// suppressTestQueue documents the cdk-nag findings of a queue that only exists as a trigger source in tests.
func suppressTestQueue(queue awssqs.Queue) {
	cdknag.NagSuppressions_AddResourceSuppressions(queue, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("Test fixture queue that is never deployed; some deliberately have no dead-letter queue."),
	}}, jsii.Bool(false))
}
