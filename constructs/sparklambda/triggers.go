package sparklambda

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3notifications"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Triggers. Every helper wires failure handling by default, so that nothing a trigger delivers is dropped:
//   - asynchronous sources (AddS3Trigger, AddSchedule, and any other async invoke) go through the function's
//     event-invoke config: AsyncRetryAttempts retries, at most AsyncMaxEventAgeSeconds old, then FailureQueue;
//   - AddSchedule's EventBridge target also retries failed deliveries and sends undeliverable events to
//     FailureQueue (its dead-letter queue);
//   - AddSqsTrigger reports partial batch failures, and checks the queue's visibility timeout and redrive policy;
//   - AddKinesisTrigger and AddDynamoDBStreamTrigger bisect failing batches, retry a bounded number of times,
//     skip records past a maximum age, and send what they give up on to FailureQueue;
//   - AddMskTrigger sends records Lambda gives up on to FailureQueue.
// Each helper validates its options and panics with a *PropsError naming the option, the value, what is allowed
// and the fix.

// maxScheduleRetryAttempts is EventBridge's largest retry count for a target (also its default): 185.
const maxScheduleRetryAttempts = 185

// AddS3Trigger runs the function for every object created under prefix (and ending in suffix; "" for any) in
// bucket, and lets the function read those objects (GrantReadInput). Invocations are asynchronous: failures are
// retried and then kept in FailureQueue (see SparkLambdaProps.AsyncRetryAttempts).
//
// bucket may be one defined in the function's stack or one imported into it (awss3.Bucket_FromBucketName; the
// CDK then adds the notification through a custom resource and keeps the bucket's other notifications). It panics
// with a *PropsError when bucket is nil, when it is a bucket defined in another stack (its notification would
// reference the function while the function's grant references the bucket: a dependency cycle), or when prefix or
// suffix is not a literal key prefix/suffix (a leading "/", an "s3://" location or a "*" wildcard). S3 itself
// rejects, at deploy time, two notifications of one bucket whose prefixes and suffixes overlap.
//
// Unlike GrantReadInput's, prefix need not end in "/": an S3 notification filter matches any key that starts with
// it (e.g. "incoming/2024-"), and the read grant is exactly prefix + "*", which matches the same keys.
func (s *SparkLambda) AddS3Trigger(bucket awss3.IBucket, prefix, suffix string) {
	check := propsChecker{construct: "SparkLambda.AddS3Trigger"}
	if bucket == nil {
		check.addf("bucket is nil: pass the bucket whose new objects trigger the job")
	} else if _, defined := bucket.Node().DefaultChild().(awss3.CfnBucket); defined && !sameStack(bucket, s.Construct) {
		check.addf("bucket %s is defined in stack %s, but the function is in stack %s: the S3 notification lives in "+
			"the bucket's stack and references the function, while the function's read grant references the bucket "+
			"(a dependency cycle); create the SparkLambda in the bucket's stack, or import the bucket into the "+
			"function's stack with awss3.Bucket_FromBucketName",
			*bucket.Node().Path(), *awscdk.Stack_Of(bucket).StackName(), *awscdk.Stack_Of(s.Construct).StackName())
	}
	checkKeyPart(&check, "prefix", prefix, "incoming/")
	checkKeyPart(&check, "suffix", suffix, ".csv")
	if err := check.err(); err != nil {
		panic(err)
	}

	filter := &awss3.NotificationKeyFilter{}
	if prefix != "" {
		filter.Prefix = jsii.String(prefix)
	}
	if suffix != "" {
		filter.Suffix = jsii.String(suffix)
	}
	s.grantRead(bucket, prefix)
	bucket.AddEventNotification(awss3.EventType_OBJECT_CREATED, awss3notifications.NewLambdaDestination(s.invokeTarget), filter)
	suppressBucketNotificationsHandler(awscdk.Stack_Of(s.Construct))
}

// sameStack reports whether a and b belong to the same stack.
func sameStack(a, b constructs.IConstruct) bool {
	return *awscdk.Stack_Of(a).Node().Path() == *awscdk.Stack_Of(b).Node().Path()
}

// AddSchedule runs the function on schedule (e.g. awsevents.Schedule_Rate(awscdk.Duration_Hours(1), nil)) with
// event as the invocation's event (it reaches the script as --event <json>; nil sends EventBridge's own event).
// id names the EventBridge rule construct. EventBridge retries a failed delivery (throttling, a missing
// permission) up to 185 times within AsyncMaxEventAgeSeconds and then sends the event to FailureQueue (the target's
// dead-letter queue); once delivered, the invocation is asynchronous and its failures go to FailureQueue too. It
// panics with a *PropsError when schedule is nil.
func (s *SparkLambda) AddSchedule(id string, schedule awsevents.Schedule, event map[string]any) awsevents.Rule {
	if schedule == nil {
		panic(&PropsError{Construct: "SparkLambda.AddSchedule", Problems: []string{fmt.Sprintf("schedule of %q is nil: pass e.g. awsevents.Schedule_Rate(...)", id)}})
	}
	target := &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: s.FailureQueue,
		RetryAttempts:   jsii.Number(maxScheduleRetryAttempts),
		MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(float64(s.asyncMaxEventAgeSeconds))),
	}
	if event != nil {
		target.Event = awsevents.RuleTargetInput_FromObject(event)
	}
	if key := s.FailureQueue.EncryptionMasterKey(); key != nil {
		allowEventBridgeToUseKey(s.Construct, key)
	}
	return awsevents.NewRule(s.Construct, jsii.String(id), &awsevents.RuleProps{
		Schedule:    schedule,
		Description: jsii.String("Runs the Spark job on a schedule"),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.invokeTarget, target)},
	})
}
