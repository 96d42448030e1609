package sparklambda

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// Triggers. SQS, Kinesis, MSK and DynamoDB streams need nothing beyond the CDK's own event sources (they grant
// the consume permissions themselves): `spark.Function.AddEventSource(awslambdaeventsources.NewSqsEventSource(...))`.
// S3 and schedules need a grant or an event payload as well, which the helpers below add.

// AddS3Trigger runs the function for every object created under prefix (and ending in suffix, "" for any) in
// bucket, and lets the function read those objects (GrantReadInput). The bucket must be defined in the same
// stack (an S3 notification is a property of the bucket). It panics when bucket is nil.
func (s *SparkLambda) AddS3Trigger(bucket awss3.Bucket, prefix, suffix string) {
	if bucket == nil {
		panic(&PropsError{Construct: "SparkLambda.AddS3Trigger", Problems: []string{"bucket is nil: pass the bucket whose new objects trigger the job"}})
	}
	filter := &awss3.NotificationKeyFilter{}
	if prefix != "" {
		filter.Prefix = jsii.String(prefix)
	}
	if suffix != "" {
		filter.Suffix = jsii.String(suffix)
	}
	s.GrantReadInput(bucket, prefix)
	s.Function.AddEventSource(awslambdaeventsources.NewS3EventSource(bucket, &awslambdaeventsources.S3EventSourceProps{
		Events:  &[]awss3.EventType{awss3.EventType_OBJECT_CREATED},
		Filters: &[]*awss3.NotificationKeyFilter{filter},
	}))
	suppressBucketNotificationsHandler(awscdk.Stack_Of(s.Construct))
}

// AddSchedule runs the function on schedule (e.g. awsevents.Schedule_Rate(awscdk.Duration_Hours(1), nil)) with
// event as the invocation's event (it reaches the script as --event <json>; nil sends EventBridge's own event).
// id names the EventBridge rule construct. The rule retries per EventBridge's defaults.
func (s *SparkLambda) AddSchedule(id string, schedule awsevents.Schedule, event map[string]any) awsevents.Rule {
	if schedule == nil {
		panic(&PropsError{Construct: "SparkLambda.AddSchedule", Problems: []string{fmt.Sprintf("schedule of %q is nil: pass e.g. awsevents.Schedule_Rate(...)", id)}})
	}
	target := &awseventstargets.LambdaFunctionProps{}
	if event != nil {
		target.Event = awsevents.RuleTargetInput_FromObject(event)
	}
	return awsevents.NewRule(s.Construct, jsii.String(id), &awsevents.RuleProps{
		Schedule:    schedule,
		Description: jsii.String("Runs the Spark job on a schedule"),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Function, target)},
	})
}
