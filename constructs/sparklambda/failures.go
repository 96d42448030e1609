package sparklambda

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Failure handling of asynchronous invocations (S3 notifications, EventBridge rules and schedules, and any
// `aws lambda invoke --invocation-type Event`). Lambda's own limits: 0-2 retries and a maximum event age of
// 60-21,600 seconds (AWS Lambda Developer Guide, "Configuring error handling for asynchronous invocation").
const (
	// DefaultAsyncRetryAttempts is how often Lambda retries a failed asynchronous invocation by default (Lambda's
	// own default, made explicit).
	DefaultAsyncRetryAttempts = 2
	// MaxAsyncRetryAttempts is Lambda's largest retry count for asynchronous invocations.
	MaxAsyncRetryAttempts = 2
	// DefaultAsyncMaxEventAgeSeconds is how long, in seconds, an asynchronous event may wait in Lambda's queue
	// (throttled or being retried) before it goes to the failure queue: 6 hours, Lambda's maximum.
	DefaultAsyncMaxEventAgeSeconds = 21600
	// MinAsyncMaxEventAgeSeconds is Lambda's smallest maximum event age, in seconds.
	MinAsyncMaxEventAgeSeconds = 60
	// MaxAsyncMaxEventAgeSeconds is Lambda's largest maximum event age, in seconds.
	MaxAsyncMaxEventAgeSeconds = 21600
	// FailureQueueRetentionDays is how long the created failure queue keeps a message: 14 days, SQS's maximum.
	FailureQueueRetentionDays = 14
)

func (p *SparkLambdaProps) asyncRetryAttempts() int {
	if p.AsyncRetryAttempts == nil {
		return DefaultAsyncRetryAttempts
	}
	return *p.AsyncRetryAttempts
}

func (p *SparkLambdaProps) asyncMaxEventAgeSeconds() int {
	return orDefault(p.AsyncMaxEventAgeSeconds, DefaultAsyncMaxEventAgeSeconds)
}

// validateFailureHandling adds the problems of the async failure-handling props to check.
func (p *SparkLambdaProps) validateFailureHandling(check *propsChecker) {
	check.intRange("AsyncRetryAttempts", p.asyncRetryAttempts(), 0, MaxAsyncRetryAttempts, "retries",
		"this is Lambda's range for asynchronous invocations (S3, EventBridge, schedules)")
	check.intRange("AsyncMaxEventAgeSeconds", p.asyncMaxEventAgeSeconds(), MinAsyncMaxEventAgeSeconds,
		MaxAsyncMaxEventAgeSeconds, "seconds", "this is Lambda's range for the age of an asynchronous event")
}

// newFailureQueue creates the function's failure queue: encrypted with key (SSE-KMS) or, when key is nil, with
// SQS-managed keys (SSE-SQS, so Lambda, EventBridge and event source mappings can send to it without a KMS key
// policy), TLS enforced, messages kept for 14 days, and retained when the stack is deleted or the queue replaced, so
// that kept failures outlive the stack.
func newFailureQueue(scope constructs.Construct, key awskms.IKey) awssqs.Queue {
	encryption := awssqs.QueueEncryption_SQS_MANAGED
	if key != nil {
		encryption = awssqs.QueueEncryption_KMS
	}
	queue := awssqs.NewQueue(scope, jsii.String("FailureQueue"), &awssqs.QueueProps{
		Encryption:          encryption,
		EncryptionMasterKey: key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(FailureQueueRetentionDays)),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
	suppress(queue, "AwsSolutions-SQS3",
		"This queue is itself the dead-letter destination of the Spark function: Lambda's on-failure destination, "+
			"the event source mappings' on-failure destination and the EventBridge targets' dead-letter queue. "+
			"Nothing consumes it automatically, so there is no redrive to configure; it keeps failures for 14 days.")
	return queue
}

// configureAsyncInvoke sends asynchronous invocations that fail after retries, or that get too old, to queue.
func configureAsyncInvoke(function awslambda.IFunction, queue awssqs.IQueue, props *SparkLambdaProps) {
	function.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		OnFailure:     awslambdadestinations.NewSqsDestination(queue),
		RetryAttempts: jsii.Number(float64(props.asyncRetryAttempts())),
		MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(float64(props.asyncMaxEventAgeSeconds()))),
	})
}
