package sparklambda

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Limits of Lambda's event source mappings (AWS Lambda Developer Guide: "Using Lambda with Amazon SQS", "... with
// Kinesis Data Streams", "... with DynamoDB", "... with Amazon MSK", and the CreateEventSourceMapping API).
const (
	// DefaultSqsBatchSize is the default number of SQS messages per invocation (Lambda's default).
	DefaultSqsBatchSize = 10
	// DefaultStreamBatchSize is the default number of Kinesis, DynamoDB Streams or Kafka records per invocation
	// (Lambda's default).
	DefaultStreamBatchSize = 100
	// MaxBatchSize is Lambda's largest batch size for SQS standard queues, streams and Kafka.
	MaxBatchSize = 10000
	// MaxFifoBatchSize is Lambda's largest batch size for an SQS FIFO queue.
	MaxFifoBatchSize = 10
	// MaxBatchingWindowSeconds is Lambda's longest batching window, in seconds.
	MaxBatchingWindowSeconds = 300
	// MinSqsMaxConcurrency and MaxSqsMaxConcurrency bound an SQS mapping's maximum concurrency (Lambda's range).
	MinSqsMaxConcurrency = 2
	// MaxSqsMaxConcurrency is the largest maximum concurrency of an SQS mapping.
	MaxSqsMaxConcurrency = 1000
	// SqsVisibilityTimeoutFactor is how many function timeouts an SQS queue's visibility timeout must cover: AWS
	// recommends at least 6, so that a message is not delivered again while Lambda still retries a throttled batch.
	SqsVisibilityTimeoutFactor = 6
	// DefaultStreamRetryAttempts is how often a failing stream or Kafka batch is retried by default before its
	// records go to the on-failure queue (Lambda's own default, -1, retries until the records expire).
	DefaultStreamRetryAttempts = 3
	// MaxStreamRetryAttempts is Lambda's largest retry count for stream and Kafka mappings.
	MaxStreamRetryAttempts = 10000
	// DefaultMaxRecordAgeSeconds is, by default, how old in seconds a stream or Kafka record may get before Lambda
	// skips it and sends it to the on-failure queue: 1 hour.
	DefaultMaxRecordAgeSeconds = 3600
	// MinMaxRecordAgeSeconds is Lambda's smallest maximum record age, in seconds.
	MinMaxRecordAgeSeconds = 60
	// MaxMaxRecordAgeSeconds is Lambda's largest maximum record age, in seconds (7 days); Lambda's -1 (never skip)
	// is not offered, because a poison record would then block its shard until it expires.
	MaxMaxRecordAgeSeconds = 604800
	// MaxParallelizationFactor is Lambda's largest number of concurrent batches per shard.
	MaxParallelizationFactor = 10
	// MaxKafkaTimeoutSeconds is the longest function timeout an MSK or self-managed Kafka event source mapping
	// supports, in seconds (14 minutes).
	MaxKafkaTimeoutSeconds = 840
)

// sqsDefaultVisibilityTimeoutSeconds is SQS's visibility timeout when a queue sets none.
const sqsDefaultVisibilityTimeoutSeconds = 30

// SqsTriggerOptions configures AddSqsTrigger. The zero value gives Lambda's defaults: batches of 10 messages, no
// batching window, no concurrency cap.
type SqsTriggerOptions struct {
	// BatchSize is the largest number of messages per invocation. Default 10; valid 1-10,000 (1-10 for a FIFO
	// queue). Above 10, MaxBatchingWindowSeconds must be set (Lambda's rule).
	BatchSize int
	// MaxBatchingWindowSeconds is how long, in seconds, Lambda gathers messages before it invokes. Default 0;
	// valid 0-300.
	MaxBatchingWindowSeconds int
	// MaxConcurrency caps the concurrent invocations this queue causes. Default 0: no cap; valid 2-1,000.
	MaxConcurrency int
}

// AddSqsTrigger runs the function for batches of messages from queue, and returns the event source it adds. The
// mapping always reports partial batch failures (ReportBatchItemFailures): the handler returns the ids of the
// messages the script marked as failed, only those return to the queue, and the rest are deleted.
//
// For a queue defined in the CDK app it checks at synth time that the visibility timeout (SQS's default 30 s when
// unset) is at least 6x the function timeout (AWS's recommendation; Lambda itself rejects a visibility timeout
// below the function timeout when it creates the mapping), and warns (a CDK warning annotation) when the queue has
// no dead-letter queue: messages that fail maxReceiveCount times are otherwise deleted with no trace. For an
// imported queue neither check can run, and a warning says so. It panics with a *PropsError when queue is nil,
// an option is out of range, or the visibility timeout is too short.
func (s *SparkLambda) AddSqsTrigger(queue awssqs.IQueue, opts *SqsTriggerOptions) awslambdaeventsources.SqsEventSource {
	if opts == nil {
		opts = &SqsTriggerOptions{}
	}
	check := propsChecker{construct: "SparkLambda.AddSqsTrigger"}
	batchSize := orDefault(opts.BatchSize, DefaultSqsBatchSize)
	if queue == nil {
		check.addf("queue is nil: pass the SQS queue whose messages trigger the job")
	} else if fifo := queue.Fifo(); fifo != nil && *fifo {
		check.intRange("BatchSize", batchSize, 1, MaxFifoBatchSize, "messages", "this is Lambda's range for a FIFO queue")
	}
	check.intRange("BatchSize", batchSize, 1, MaxBatchSize, "messages", "this is Lambda's range for an SQS queue")
	check.intRange("MaxBatchingWindowSeconds", opts.MaxBatchingWindowSeconds, 0, MaxBatchingWindowSeconds, "seconds",
		"this is Lambda's range")
	if batchSize > 10 && opts.MaxBatchingWindowSeconds == 0 {
		check.addf("BatchSize is %d but MaxBatchingWindowSeconds is 0: Lambda requires a batching window of at least "+
			"1 second for batches above 10 messages; set MaxBatchingWindowSeconds (1-300) or BatchSize 10 or less", batchSize)
	}
	if opts.MaxConcurrency != 0 {
		check.intRange("MaxConcurrency", opts.MaxConcurrency, MinSqsMaxConcurrency, MaxSqsMaxConcurrency, "invocations",
			"this is Lambda's range for an SQS mapping's maximum concurrency; 0 means no cap")
	}
	if queue != nil {
		s.checkSqsQueue(&check, queue)
	}
	if err := check.err(); err != nil {
		panic(err)
	}

	props := &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(float64(batchSize)),
		ReportBatchItemFailures: jsii.Bool(true),
	}
	if opts.MaxBatchingWindowSeconds > 0 {
		props.MaxBatchingWindow = awscdk.Duration_Seconds(jsii.Number(float64(opts.MaxBatchingWindowSeconds)))
	}
	if opts.MaxConcurrency > 0 {
		props.MaxConcurrency = jsii.Number(float64(opts.MaxConcurrency))
	}
	source := awslambdaeventsources.NewSqsEventSource(queue, props)
	s.invokeTarget.AddEventSource(source)
	return source
}

// checkSqsQueue checks the visibility timeout of a queue defined in the CDK app and warns about a missing
// dead-letter queue; for an imported queue it warns that neither can be checked.
func (s *SparkLambda) checkSqsQueue(check *propsChecker, queue awssqs.IQueue) {
	minimum := SqsVisibilityTimeoutFactor * s.timeoutSeconds
	cfn, defined := queue.Node().DefaultChild().(awssqs.CfnQueue)
	if !defined {
		awscdk.Annotations_Of(s.Construct).AddWarningV2(jsii.String("@sparklambda:sqsQueueUnchecked"), jsii.String(fmt.Sprintf(
			"queue %s is imported, so its visibility timeout and dead-letter queue cannot be checked at synth time: "+
				"make sure its visibility timeout is at least %d s (%dx the function timeout of %d s) and that it has "+
				"a redrive policy to a dead-letter queue", *queue.Node().Path(), minimum, SqsVisibilityTimeoutFactor, s.timeoutSeconds)))
		return
	}
	timeout := float64(sqsDefaultVisibilityTimeoutSeconds)
	if value := cfn.VisibilityTimeout(); value != nil {
		timeout = *value
	}
	if *awscdk.Token_IsUnresolved(timeout) {
		awscdk.Annotations_Of(s.Construct).AddWarningV2(jsii.String("@sparklambda:sqsVisibilityUnresolved"), jsii.String(fmt.Sprintf(
			"queue %s has a visibility timeout only known at deploy time: make sure it is at least %d s (%dx the "+
				"function timeout of %d s)", *queue.Node().Path(), minimum, SqsVisibilityTimeoutFactor, s.timeoutSeconds)))
	} else if int(timeout) < minimum {
		check.addf("queue %s has a visibility timeout of %d s, but it must be at least %d s (%dx the function timeout "+
			"of %d s, AWS's recommendation; Lambda rejects one below the function timeout at deploy): set "+
			"VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(%d)) or more on the queue (SQS allows up to "+
			"43200 s), or lower TimeoutSeconds", *queue.Node().Path(), int(timeout), minimum,
			SqsVisibilityTimeoutFactor, s.timeoutSeconds, minimum)
	}
	if cfn.RedrivePolicy() == nil {
		awscdk.Annotations_Of(s.Construct).AddWarningV2(jsii.String("@sparklambda:sqsNoDeadLetterQueue"), jsii.String(fmt.Sprintf(
			"queue %s has no dead-letter queue: messages that fail maxReceiveCount times are deleted with no trace; "+
				"set DeadLetterQueue on the queue (e.g. to a queue that keeps messages 14 days)", *queue.Node().Path())))
	}
}

// StreamTriggerOptions configures AddKinesisTrigger and AddDynamoDBStreamTrigger. The zero value gives safe
// defaults: start at the oldest record, batches of 100, 3 retries with failing batches split in two, records older
// than 1 hour skipped, and everything given up on sent to the function's FailureQueue.
type StreamTriggerOptions struct {
	// StartingPosition is where a new mapping starts reading. Default awslambda.StartingPosition_TRIM_HORIZON (the
	// oldest record); valid TRIM_HORIZON or LATEST.
	StartingPosition awslambda.StartingPosition
	// BatchSize is the largest number of records per invocation. Default 100; valid 1-10,000.
	BatchSize int
	// MaxBatchingWindowSeconds is how long, in seconds, Lambda gathers records before it invokes. Default 0;
	// valid 0-300.
	MaxBatchingWindowSeconds int
	// RetryAttempts is how often a failing batch is retried (split in two each time) before its records go to
	// OnFailure. Default nil: 3; valid 0-10,000.
	RetryAttempts *int
	// MaxRecordAgeSeconds is how old, in seconds, a record may get before Lambda skips it and sends it to OnFailure.
	// Default 3,600; valid 60-604,800 (Lambda's range; DynamoDB Streams keep records 24 hours anyway).
	MaxRecordAgeSeconds int
	// ParallelizationFactor is how many batches of one shard Lambda processes at once. Default 1; valid 1-10.
	// Above 1, records of one shard reach concurrent invocations, which then write the same tables concurrently
	// (see CommitCoordination) and may commit out of order.
	ParallelizationFactor int
	// OnFailure receives a description of each batch Lambda gave up on (the shard, sequence numbers and the
	// reason; read the records from the stream with it). Default: the function's FailureQueue.
	OnFailure awssqs.IQueue
}

// resolve checks the options, adding problems to check, and returns them with the defaults applied (fallback is the
// default OnFailure queue).
func (o *StreamTriggerOptions) resolve(check *propsChecker, fallback awssqs.IQueue) *streamSettings {
	settings := &streamSettings{
		startingPosition: checkStartingPosition(check, o.StartingPosition),
		batchSize:        orDefault(o.BatchSize, DefaultStreamBatchSize),
		retryAttempts:    DefaultStreamRetryAttempts,
		maxRecordAge:     orDefault(o.MaxRecordAgeSeconds, DefaultMaxRecordAgeSeconds),
		parallelization:  orDefault(o.ParallelizationFactor, 1),
		onFailure:        o.OnFailure,
		batchingWindow:   o.MaxBatchingWindowSeconds,
	}
	if o.RetryAttempts != nil {
		settings.retryAttempts = *o.RetryAttempts
	}
	if settings.onFailure == nil {
		settings.onFailure = fallback
	}
	check.intRange("BatchSize", settings.batchSize, 1, MaxBatchSize, "records", "this is Lambda's range for streams")
	check.intRange("MaxBatchingWindowSeconds", settings.batchingWindow, 0, MaxBatchingWindowSeconds, "seconds", "this is Lambda's range")
	check.intRange("RetryAttempts", settings.retryAttempts, 0, MaxStreamRetryAttempts, "retries",
		"this is Lambda's range for streams (its -1, retry until the record expires, would let one bad record block its shard)")
	check.intRange("MaxRecordAgeSeconds", settings.maxRecordAge, MinMaxRecordAgeSeconds, MaxMaxRecordAgeSeconds, "seconds",
		"this is Lambda's range for streams (its -1, never skip, would let one bad record block its shard)")
	check.intRange("ParallelizationFactor", settings.parallelization, 1, MaxParallelizationFactor, "batches per shard",
		"this is Lambda's range")
	return settings
}

// streamSettings are StreamTriggerOptions with the defaults applied.
type streamSettings struct {
	startingPosition                                                        awslambda.StartingPosition
	batchSize, batchingWindow, retryAttempts, maxRecordAge, parallelization int
	onFailure                                                               awssqs.IQueue
}

// addStreamMapping adds the event source mapping of a Kinesis or DynamoDB stream (arn) with settings, named after
// source as the CDK's own event sources name theirs. The caller grants the stream read.
func (s *SparkLambda) addStreamMapping(kind string, source constructs.IConstruct, arn *string, settings *streamSettings) awslambda.EventSourceMapping {
	options := &awslambda.EventSourceMappingOptions{
		EventSourceArn:          arn,
		StartingPosition:        settings.startingPosition,
		BatchSize:               jsii.Number(float64(settings.batchSize)),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(float64(settings.retryAttempts)),
		MaxRecordAge:            awscdk.Duration_Seconds(jsii.Number(float64(settings.maxRecordAge))),
		ParallelizationFactor:   jsii.Number(float64(settings.parallelization)),
		ReportBatchItemFailures: jsii.Bool(true),
		OnFailure:               s.onFailureDestination(settings.onFailure),
	}
	if settings.batchingWindow > 0 {
		options.MaxBatchingWindow = awscdk.Duration_Seconds(jsii.Number(float64(settings.batchingWindow)))
	}
	return s.invokeTarget.AddEventSourceMapping(jsii.String(kind+":"+*awscdk.Names_NodeUniqueId(source.Node())), options)
}

// checkStartingPosition returns position, or TRIM_HORIZON for the zero value, and rejects AT_TIMESTAMP and
// unknown values.
func checkStartingPosition(check *propsChecker, position awslambda.StartingPosition) awslambda.StartingPosition {
	switch position {
	case "":
		return awslambda.StartingPosition_TRIM_HORIZON
	case awslambda.StartingPosition_TRIM_HORIZON, awslambda.StartingPosition_LATEST:
		return position
	}
	check.addf("StartingPosition is %q, but it must be TRIM_HORIZON (the oldest record, the default) or LATEST: "+
		"AT_TIMESTAMP needs a timestamp these helpers do not take; add the event source yourself with "+
		"awslambdaeventsources for it", position)
	return position
}

// AddKinesisTrigger runs the function for batches of records from stream, lets it read the stream, and returns the
// event source mapping it adds.
// Failing batches are split in two and retried (BisectBatchOnError), at most RetryAttempts times and while their
// records are younger than MaxRecordAgeSeconds; the mapping also reports partial batch failures (the handler
// returns the sequence number of the first record the script marked as failed, and Lambda retries from there).
// What Lambda gives up on goes to opts.OnFailure (default FailureQueue). opts may be nil. It panics with a
// *PropsError when stream is nil or an option is out of range.
func (s *SparkLambda) AddKinesisTrigger(stream awskinesis.IStream, opts *StreamTriggerOptions) awslambda.EventSourceMapping {
	if opts == nil {
		opts = &StreamTriggerOptions{}
	}
	check := propsChecker{construct: "SparkLambda.AddKinesisTrigger"}
	if stream == nil {
		check.addf("stream is nil: pass the Kinesis data stream whose records trigger the job")
	}
	settings := opts.resolve(&check, s.FailureQueue)
	if err := check.err(); err != nil {
		panic(err)
	}
	s.grantReadKinesisStream(stream)
	return s.addStreamMapping("KinesisEventSource", stream, stream.StreamArn(), settings)
}

// AddDynamoDBStreamTrigger runs the function for batches of change records from table's DynamoDB stream, lets it
// read the stream, and returns the event source mapping it adds, with the same failure handling as
// AddKinesisTrigger. opts may be nil. It panics with a *PropsError when table is nil, when it has no stream (set
// Stream on the table, e.g. awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES, or import it with TableStreamArn), or
// when an option is out of range.
func (s *SparkLambda) AddDynamoDBStreamTrigger(table awsdynamodb.ITable, opts *StreamTriggerOptions) awslambda.EventSourceMapping {
	if opts == nil {
		opts = &StreamTriggerOptions{}
	}
	check := propsChecker{construct: "SparkLambda.AddDynamoDBStreamTrigger"}
	switch {
	case table == nil:
		check.addf("table is nil: pass the DynamoDB table whose stream triggers the job")
	case table.TableStreamArn() == nil:
		check.addf("table %s has no stream: set Stream on the table (e.g. awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES), "+
			"or import it with awsdynamodb.Table_FromTableAttributes and its TableStreamArn", *table.Node().Path())
	}
	settings := opts.resolve(&check, s.FailureQueue)
	if err := check.err(); err != nil {
		panic(err)
	}
	s.grantReadDynamoDBStream(table)
	return s.addStreamMapping("DynamoDBEventSource", table, table.TableStreamArn(), settings)
}

// KafkaTriggerOptions configures AddMskTrigger. The zero value gives on-demand pollers starting at the oldest
// record, batches of 100, IAM authentication, and records Lambda gives up on sent to the function's FailureQueue.
//
// Lambda applies its Kafka error-handling controls (retry count, maximum record age, batch splitting) only to a
// mapping in provisioned mode (AWS Lambda Developer Guide, "Configuring error handling controls for Kafka event
// sources"), so they are set only when MinimumPollers is. In on-demand mode Lambda retries a failing batch until it
// succeeds or its records leave the topic's retention, then sends it to OnFailure.
type KafkaTriggerOptions struct {
	// StartingPosition is where a new mapping starts reading. Default TRIM_HORIZON; valid TRIM_HORIZON or LATEST.
	StartingPosition awslambda.StartingPosition
	// BatchSize is the largest number of records per invocation. Default 100; valid 1-10,000.
	BatchSize int
	// MaxBatchingWindowSeconds is how long, in seconds, Lambda gathers records before it invokes. Default 0
	// (Lambda's 500 ms for Kafka); valid 0-300.
	MaxBatchingWindowSeconds int
	// ConsumerGroupID is the Kafka consumer group. Default: Lambda's (the mapping's id). Valid: 1-200 of
	// [a-zA-Z0-9-/*:_+=.@].
	ConsumerGroupID string
	// Secret holds SASL/SCRAM-512 credentials for the cluster (the function may read it). Default nil: IAM
	// authentication with the function's role.
	Secret awssecretsmanager.ISecret
	// OnFailure receives a description of each batch Lambda gave up on. Default: the function's FailureQueue. The
	// MSK cluster's VPC needs a route to SQS (an SQS interface endpoint or a NAT gateway).
	OnFailure awssqs.IQueue
	// MinimumPollers turns on provisioned mode with this many event pollers always ready. Default 0: on-demand.
	// Valid 1-200.
	MinimumPollers int
	// MaximumPollers caps the pollers in provisioned mode. Default 0: Lambda's default (200). Valid
	// MinimumPollers-2,000; needs MinimumPollers.
	MaximumPollers int
	// RetryAttempts is how often a failing batch is retried (split in two each time) before its records go to
	// OnFailure. Default nil: 3 in provisioned mode; valid 0-10,000; needs MinimumPollers.
	RetryAttempts *int
	// MaxRecordAgeSeconds is how old, in seconds, a record may get before Lambda skips it and sends it to
	// OnFailure. Default 3,600 in provisioned mode; valid 60-604,800; needs MinimumPollers.
	MaxRecordAgeSeconds int
}

var (
	kafkaTopicPattern    = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)
	consumerGroupPattern = regexp.MustCompile(`^[a-zA-Z0-9\-/*:_+=.@]{1,200}$`)
)

// AddMskTrigger runs the function for batches of records of topic on the Amazon MSK cluster clusterArn, and
// returns the event source it adds (the CDK's ManagedKafkaEventSource, which grants the role
// kafka:DescribeCluster/GetBootstrapBrokers on the cluster and attaches AWSLambdaMSKExecutionRole for the pollers'
// network interfaces). Records Lambda gives up on go to opts.OnFailure (default FailureQueue); see
// KafkaTriggerOptions for retries. The mapping does not report partial batch failures: a record the script marks
// as failed fails the whole invocation, so the batch is retried. opts may be nil.
//
// It panics with a *PropsError when clusterArn is not an MSK cluster ARN, topic is not a Kafka topic name, an
// option is out of range, or the function timeout is above 840 s (Kafka event source mappings support at most
// 14 minutes).
func (s *SparkLambda) AddMskTrigger(clusterArn string, topic string, opts *KafkaTriggerOptions) awslambdaeventsources.ManagedKafkaEventSource {
	if opts == nil {
		opts = &KafkaTriggerOptions{}
	}
	check := propsChecker{construct: "SparkLambda.AddMskTrigger"}
	arnIsToken := *awscdk.Token_IsUnresolved(clusterArn)
	if !arnIsToken && (!strings.HasPrefix(clusterArn, "arn:") || !strings.Contains(clusterArn, ":kafka:") || !strings.Contains(clusterArn, ":cluster/")) {
		check.addf("clusterArn %q is not an MSK cluster ARN: pass e.g. \"arn:aws:kafka:eu-west-1:123456789012:cluster/orders/...\" "+
			"(awsmsk's CfnCluster.AttrArn() works too)", clusterArn)
	}
	if !kafkaTopicPattern.MatchString(topic) {
		check.addf("topic %q is not a Kafka topic name: use 1-249 letters, digits, '.', '_' or '-'", topic)
	}
	if s.timeoutSeconds > MaxKafkaTimeoutSeconds {
		check.addf("the function timeout is %d s, but a Kafka event source mapping supports at most %d s (14 minutes): "+
			"set TimeoutSeconds to %d or less", s.timeoutSeconds, MaxKafkaTimeoutSeconds, MaxKafkaTimeoutSeconds)
	}
	startingPosition := checkStartingPosition(&check, opts.StartingPosition)
	batchSize := orDefault(opts.BatchSize, DefaultStreamBatchSize)
	check.intRange("BatchSize", batchSize, 1, MaxBatchSize, "records", "this is Lambda's range for Kafka")
	check.intRange("MaxBatchingWindowSeconds", opts.MaxBatchingWindowSeconds, 0, MaxBatchingWindowSeconds, "seconds", "this is Lambda's range")
	if opts.ConsumerGroupID != "" && !consumerGroupPattern.MatchString(opts.ConsumerGroupID) {
		check.addf("ConsumerGroupID %q is invalid: use 1-200 of letters, digits and -/*:_+=.@ (Lambda's rule)", opts.ConsumerGroupID)
	}
	provisioned := opts.MinimumPollers != 0
	if provisioned {
		check.intRange("MinimumPollers", opts.MinimumPollers, 1, 200, "pollers", "this is Lambda's range in provisioned mode")
		if opts.MaximumPollers != 0 {
			check.intRange("MaximumPollers", opts.MaximumPollers, opts.MinimumPollers, 2000, "pollers",
				"it must be at least MinimumPollers and at most Lambda's 2000")
		}
	} else if opts.MaximumPollers != 0 || opts.RetryAttempts != nil || opts.MaxRecordAgeSeconds != 0 {
		check.addf("MaximumPollers, RetryAttempts or MaxRecordAgeSeconds is set without MinimumPollers: Lambda applies " +
			"them to Kafka only in provisioned mode; set MinimumPollers (1-200), or remove them (in on-demand mode a " +
			"failing batch is retried until its records expire, then sent to OnFailure)")
	}
	retryAttempts, maxRecordAge := DefaultStreamRetryAttempts, orDefault(opts.MaxRecordAgeSeconds, DefaultMaxRecordAgeSeconds)
	if opts.RetryAttempts != nil {
		retryAttempts = *opts.RetryAttempts
	}
	if provisioned {
		check.intRange("RetryAttempts", retryAttempts, 0, MaxStreamRetryAttempts, "retries", "this is Lambda's range")
		check.intRange("MaxRecordAgeSeconds", maxRecordAge, MinMaxRecordAgeSeconds, MaxMaxRecordAgeSeconds, "seconds", "this is Lambda's range")
	}
	if err := check.err(); err != nil {
		panic(err)
	}

	onFailure := opts.OnFailure
	if onFailure == nil {
		onFailure = s.FailureQueue
	}
	props := &awslambdaeventsources.ManagedKafkaEventSourceProps{
		ClusterArn:       jsii.String(clusterArn),
		Topic:            jsii.String(topic),
		StartingPosition: startingPosition,
		BatchSize:        jsii.Number(float64(batchSize)),
		Secret:           opts.Secret,
		OnFailure:        s.onFailureDestination(onFailure),
	}
	if opts.MaxBatchingWindowSeconds > 0 {
		props.MaxBatchingWindow = awscdk.Duration_Seconds(jsii.Number(float64(opts.MaxBatchingWindowSeconds)))
	}
	if opts.ConsumerGroupID != "" {
		props.ConsumerGroupId = jsii.String(opts.ConsumerGroupID)
	}
	if provisioned {
		pollers := &awslambdaeventsources.ProvisionedPollerConfig{MinimumPollers: jsii.Number(float64(opts.MinimumPollers))}
		if opts.MaximumPollers != 0 {
			pollers.MaximumPollers = jsii.Number(float64(opts.MaximumPollers))
		}
		props.ProvisionedPollerConfig = pollers
		props.BisectBatchOnError = jsii.Bool(true)
		props.RetryAttempts = jsii.Number(float64(retryAttempts))
		props.MaxRecordAge = awscdk.Duration_Seconds(jsii.Number(float64(maxRecordAge)))
	}
	source := awslambdaeventsources.NewManagedKafkaEventSource(props)
	s.invokeTarget.AddEventSource(source)
	suppressMskExecutionRole(s.Role)
	return source
}

// onFailureDestination is queue as an event source mapping's on-failure destination. The CDK grants the role
// sqs:SendMessage on it, and for a queue encrypted with a customer managed key the key's encrypt/decrypt grant, whose
// action wildcards get the same scoped suppression as the failure queue's.
func (s *SparkLambda) onFailureDestination(queue awssqs.IQueue) awslambdaeventsources.SqsDlq {
	if key := queue.EncryptionMasterKey(); key != nil {
		suppressKmsKeyGrant(s.Role, key, "sending what a trigger gives up on to queue "+*queue.Node().Path())
	}
	return awslambdaeventsources.NewSqsDlq(queue)
}
