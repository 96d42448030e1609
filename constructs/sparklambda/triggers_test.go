package sparklambda_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// TestTriggers synthesizes one stack with every trigger helper wired to one function (and a second function with
// its own failure queue and async settings), and checks each helper's delivery and failure wiring.
func TestTriggers(t *testing.T) {
	app := newTestApp(t)
	stack := awscdk.NewStack(app, jsii.String("Triggers"), nil)
	landing := awss3.NewBucket(stack, jsii.String("Landing"), &awss3.BucketProps{
		EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
	})
	suppressTestBucket(landing)
	spark := sparklambda.NewSparkLambda(stack, "Job", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkHudi, ScriptPath: writeScript(t), NoVpc: true,
	})
	spark.AddS3Trigger(landing, "incoming/", ".csv")
	spark.AddS3Trigger(awss3.Bucket_FromBucketName(stack, jsii.String("Drops"), jsii.String("partner-drops")), "orders/", "")
	spark.AddSchedule("Nightly", awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: jsii.String("2"), Minute: jsii.String("0")}),
		map[string]any{"action": "compact", "tables": []string{"orders"}})

	dlq := newTestQueue(stack, "IngestDlq", nil)
	ingest := newTestQueue(stack, "Ingest", &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(3600)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(3)},
	})
	spark.AddSqsTrigger(ingest, &sparklambda.SqsTriggerOptions{BatchSize: 100, MaxBatchingWindowSeconds: 5, MaxConcurrency: 5})
	noDlq := newTestQueue(stack, "NoDlq", &awssqs.QueueProps{VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(4000))})
	spark.AddSqsTrigger(noDlq, nil)
	spark.AddSqsTrigger(awssqs.Queue_FromQueueArn(stack, jsii.String("Partner"),
		jsii.String("arn:aws:sqs:eu-west-1:123456789012:partner")), nil)

	stream := awskinesis.NewStream(stack, jsii.String("Clicks"), &awskinesis.StreamProps{
		Encryption: awskinesis.StreamEncryption_MANAGED,
	})
	spark.AddKinesisTrigger(stream, nil)
	changes := awsdynamodb.NewTable(stack, jsii.String("Orders"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Stream:       awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
	})
	replay := newTestQueue(stack, "Replay", nil)
	noRetries := 0
	spark.AddDynamoDBStreamTrigger(changes, &sparklambda.StreamTriggerOptions{
		RetryAttempts: &noRetries, ParallelizationFactor: 2, StartingPosition: "LATEST", OnFailure: replay,
	})
	const cluster = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0a1b2c3d-1"
	spark.AddMskTrigger(cluster, "orders", nil)
	five := 5
	spark.AddMskTrigger(cluster, "payments", &sparklambda.KafkaTriggerOptions{MinimumPollers: 1, RetryAttempts: &five})

	teamQueue := newTestQueue(stack, "TeamFailures", nil)
	noAsyncRetries := 0
	own := sparklambda.NewSparkLambda(stack, "Own", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t), NoVpc: true,
		FailureQueue: teamQueue, AsyncRetryAttempts: &noAsyncRetries, AsyncMaxEventAgeSeconds: 120,
	})
	own.AddSchedule("Hourly", awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(1))), nil)

	template := assertions.Template_FromStack(stack, nil)
	tpl := cdktest.TemplateJSON(t, template)
	failureQueue := getAtt(t, tpl, "JobFailureQueue", "Arn")

	t.Run("failure queue: encrypted, TLS only, 14 days, retained, exposed", func(t *testing.T) {
		if spark.FailureQueue == nil || own.FailureQueue != teamQueue {
			t.Fatalf("FailureQueue = %v / %v: want the created queue and the team's queue", spark.FailureQueue, own.FailureQueue)
		}
		queues := 0
		for id, queue := range cdktest.ResourcesOfType(tpl, "AWS::SQS::Queue") {
			if !strings.HasPrefix(id, "JobFailureQueue") {
				if strings.HasPrefix(id, "Own") {
					t.Errorf("a failure queue was created although FailureQueue was given: %s", id)
				}
				continue
			}
			queues++
			if queue["DeletionPolicy"] != "Retain" || queue["UpdateReplacePolicy"] != "Retain" {
				t.Errorf("failure queue %s is not retained: %v / %v", id, queue["DeletionPolicy"], queue["UpdateReplacePolicy"])
			}
			props := queue["Properties"].(map[string]any)
			if props["SqsManagedSseEnabled"] != true || props["MessageRetentionPeriod"] != 1209600.0 {
				t.Errorf("failure queue %s: SqsManagedSseEnabled %v, MessageRetentionPeriod %v", id, props["SqsManagedSseEnabled"], props["MessageRetentionPeriod"])
			}
		}
		if queues != 1 {
			t.Errorf("want 1 failure queue, got %d", queues)
		}
		denied := false
		for _, policy := range cdktest.ResourcesOfType(tpl, "AWS::SQS::QueuePolicy") {
			document := cdktest.JSONString(t, policy["Properties"])
			if strings.Contains(document, "JobFailureQueue") && strings.Contains(document, `"aws:SecureTransport":"false"`) &&
				strings.Contains(document, `"Effect":"Deny"`) {
				denied = true
			}
		}
		if !denied {
			t.Error("the failure queue does not deny requests without TLS")
		}
	})

	t.Run("async invocations: retries, maximum age, failures to the queue", func(t *testing.T) {
		configs := cdktest.ResourcesOfType(tpl, "AWS::Lambda::EventInvokeConfig")
		want := map[string]string{
			"JobFunction": `{"DestinationConfig":{"OnFailure":{"Destination":` + failureQueue + `}},"MaximumEventAgeInSeconds":21600,"MaximumRetryAttempts":2}`,
			"OwnFunction": `{"DestinationConfig":{"OnFailure":{"Destination":` + getAtt(t, tpl, "TeamFailures", "Arn") + `}},"MaximumEventAgeInSeconds":120,"MaximumRetryAttempts":0}`,
		}
		for id, config := range configs {
			props := config["Properties"].(map[string]any)
			function := cdktest.JSONString(t, props["FunctionName"])
			for prefix, expected := range want {
				if strings.Contains(function, prefix) {
					delete(props, "FunctionName")
					delete(props, "Qualifier")
					if got := cdktest.JSONString(t, props); got != expected {
						t.Errorf("%s event-invoke config = %s, want %s", id, got, expected)
					}
					delete(want, prefix)
				}
			}
		}
		if len(want) != 0 {
			t.Errorf("no event-invoke config for %v", want)
		}
		sends := false
		for _, statement := range rolePolicy(t, tpl, "JobRole") {
			if strings.Contains(cdktest.JSONString(t, statement["Action"]), "sqs:SendMessage") && cdktest.JSONString(t, statement["Resource"]) == failureQueue {
				sends = true
			}
		}
		if !sends {
			t.Error("the role may not send to the failure queue")
		}
	})

	t.Run("S3: notifications for a defined and an imported bucket, read grant on each prefix", func(t *testing.T) {
		notifications := map[string]string{}
		for _, resource := range cdktest.ResourcesOfType(tpl, "Custom::S3BucketNotifications") {
			props := resource["Properties"].(map[string]any)
			notifications[cdktest.JSONString(t, props["BucketName"])] = cdktest.JSONString(t, props)
		}
		if len(notifications) != 2 {
			t.Fatalf("want notifications on 2 buckets, got %v", notifications)
		}
		imported := notifications[`"partner-drops"`]
		for _, want := range []string{`"s3:ObjectCreated:*"`, `"Value":"orders/"`, `"Managed":false`} {
			if !strings.Contains(imported, want) {
				t.Errorf("imported bucket notification lacks %s: %s", want, imported)
			}
		}
		delete(notifications, `"partner-drops"`)
		for _, defined := range notifications {
			for _, want := range []string{`"s3:ObjectCreated:*"`, `"Value":"incoming/"`, `"Value":".csv"`} {
				if !strings.Contains(defined, want) {
					t.Errorf("bucket notification lacks %s: %s", want, defined)
				}
			}
		}
		read := ""
		for _, statement := range rolePolicy(t, tpl, "JobRole") {
			read += cdktest.JSONString(t, statement["Resource"])
		}
		for _, want := range []string{"/incoming/*", "partner-drops/orders/*"} {
			if !strings.Contains(read, want) {
				t.Errorf("the function cannot read the trigger prefix %s: %s", want, read)
			}
		}
		template.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"Principal": "s3.amazonaws.com", "Action": "lambda:InvokeFunction",
			"SourceArn": map[string]any{"Fn::Join": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ArrayWith(&[]any{":s3:::partner-drops"})})},
		})
	})

	t.Run("schedule: event, EventBridge retries and dead-letter queue", func(t *testing.T) {
		rules := map[string]map[string]any{}
		for id, rule := range cdktest.ResourcesOfType(tpl, "AWS::Events::Rule") {
			rules[id] = rule["Properties"].(map[string]any)
		}
		if len(rules) != 2 {
			t.Fatalf("want 2 schedule rules, got %d", len(rules))
		}
		for id, props := range rules {
			target := props["Targets"].([]any)[0].(map[string]any)
			queue, age := failureQueue, 21600.0
			if strings.HasPrefix(id, "Own") {
				queue, age = getAtt(t, tpl, "TeamFailures", "Arn"), 120.0
			} else {
				if props["ScheduleExpression"] != "cron(0 2 * * ? *)" {
					t.Errorf("ScheduleExpression = %v", props["ScheduleExpression"])
				}
				if input := target["Input"]; input != `{"action":"compact","tables":["orders"]}` {
					t.Errorf("schedule sends %v", input)
				}
			}
			if got := cdktest.JSONString(t, target["DeadLetterConfig"]); got != `{"Arn":`+queue+`}` {
				t.Errorf("%s DeadLetterConfig = %s, want the failure queue %s", id, got, queue)
			}
			retry := target["RetryPolicy"].(map[string]any)
			if retry["MaximumRetryAttempts"] != 185.0 || retry["MaximumEventAgeInSeconds"] != age {
				t.Errorf("%s RetryPolicy = %v, want 185 retries within %v s", id, retry, age)
			}
		}
		template.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"Principal": "events.amazonaws.com", "Action": "lambda:InvokeFunction",
		})
		// EventBridge may send to the created failure queue (the CDK adds this to a queue of the same stack).
		allowed := false
		for _, policy := range cdktest.ResourcesOfType(tpl, "AWS::SQS::QueuePolicy") {
			document := cdktest.JSONString(t, policy["Properties"])
			if strings.Contains(document, "JobFailureQueue") && strings.Contains(document, `"Service":"events.amazonaws.com"`) {
				allowed = true
			}
		}
		if !allowed {
			t.Error("EventBridge may not send to the failure queue")
		}
	})

	mappings := eventSourceMappings(t, tpl)

	t.Run("SQS: batches, partial batch failures", func(t *testing.T) {
		sqs := mappings["Ingest"]
		want := map[string]string{
			"BatchSize": "100", "MaximumBatchingWindowInSeconds": "5", "ScalingConfig": `{"MaximumConcurrency":5}`,
			"FunctionResponseTypes": `["ReportBatchItemFailures"]`,
		}
		assertProperties(t, "SQS mapping", sqs, want)
		defaults := mappings["NoDlq"]
		assertProperties(t, "default SQS mapping", defaults, map[string]string{
			"BatchSize": "10", "FunctionResponseTypes": `["ReportBatchItemFailures"]`, "MaximumBatchingWindowInSeconds": "null",
		})
	})

	t.Run("SQS: warnings for a queue without DLQ and an imported queue", func(t *testing.T) {
		warnings := ""
		for _, warning := range *assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_AnyValue()) {
			warnings += cdktest.JSONString(t, warning.Entry.Data) + "\n"
		}
		for _, want := range []string{
			"queue Triggers/NoDlq has no dead-letter queue",
			"queue Triggers/Partner is imported, so its visibility timeout and dead-letter queue cannot be checked",
			"at least 3600 s (6x the function timeout of 600 s)",
		} {
			if !strings.Contains(warnings, want) {
				t.Errorf("no warning %q in:\n%s", want, warnings)
			}
		}
		if strings.Contains(warnings, "Triggers/Ingest ") {
			t.Errorf("a warning about the queue with a DLQ and a long visibility timeout:\n%s", warnings)
		}
	})

	t.Run("Kinesis: bisect, bounded retries and age, on-failure queue", func(t *testing.T) {
		assertProperties(t, "Kinesis mapping", mappings["Clicks"], map[string]string{
			"StartingPosition": `"TRIM_HORIZON"`, "BatchSize": "100", "BisectBatchOnFunctionError": "true",
			"MaximumRetryAttempts": "3", "MaximumRecordAgeInSeconds": "3600", "ParallelizationFactor": "1",
			"FunctionResponseTypes": `["ReportBatchItemFailures"]`,
			"DestinationConfig":     `{"OnFailure":{"Destination":` + failureQueue + `}}`,
		})
	})

	t.Run("DynamoDB Streams: options, another on-failure queue", func(t *testing.T) {
		assertProperties(t, "DynamoDB mapping", mappings["Orders"], map[string]string{
			"StartingPosition": `"LATEST"`, "BisectBatchOnFunctionError": "true", "MaximumRetryAttempts": "0",
			"MaximumRecordAgeInSeconds": "3600", "ParallelizationFactor": "2",
			"FunctionResponseTypes": `["ReportBatchItemFailures"]`,
			"DestinationConfig":     `{"OnFailure":{"Destination":` + getAtt(t, tpl, "Replay", "Arn") + `}}`,
		})
	})

	t.Run("MSK: on-failure queue; retry controls only in provisioned mode", func(t *testing.T) {
		assertProperties(t, "on-demand MSK mapping", mappings["kafka:orders"], map[string]string{
			"EventSourceArn": `"` + cluster + `"`, "Topics": `["orders"]`, "StartingPosition": `"TRIM_HORIZON"`,
			"BatchSize": "100", "DestinationConfig": `{"OnFailure":{"Destination":` + failureQueue + `}}`,
			"BisectBatchOnFunctionError": "null", "MaximumRetryAttempts": "null", "ProvisionedPollerConfig": "null",
		})
		assertProperties(t, "provisioned MSK mapping", mappings["kafka:payments"], map[string]string{
			"Topics": `["payments"]`, "ProvisionedPollerConfig": `{"MinimumPollers":1}`,
			"BisectBatchOnFunctionError": "true", "MaximumRetryAttempts": "5", "MaximumRecordAgeInSeconds": "3600",
			"DestinationConfig": `{"OnFailure":{"Destination":` + failureQueue + `}}`,
		})
	})

	t.Run("cdk-nag", func(t *testing.T) { cdktest.AssertNoNagErrors(t, stack) })
}

// newTestQueue is an encrypted, TLS-only queue with the cdk-nag findings of a test fixture documented.
func newTestQueue(stack awscdk.Stack, id string, props *awssqs.QueueProps) awssqs.Queue {
	if props == nil {
		props = &awssqs.QueueProps{}
	}
	props.Encryption = awssqs.QueueEncryption_SQS_MANAGED
	props.EnforceSSL = jsii.Bool(true)
	queue := awssqs.NewQueue(stack, jsii.String(id), props)
	suppressTestQueue(queue)
	return queue
}

// eventSourceMappings returns the Properties of each AWS::Lambda::EventSourceMapping keyed by its source: the
// logical id prefix of the queue, stream or table it reads (e.g. "Ingest"), or "kafka:<topic>".
func eventSourceMappings(t *testing.T, template map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, mapping := range cdktest.ResourcesOfType(template, "AWS::Lambda::EventSourceMapping") {
		props := mapping["Properties"].(map[string]any)
		if topics, ok := props["Topics"].([]any); ok {
			out["kafka:"+topics[0].(string)] = props
			continue
		}
		arn, _ := props["EventSourceArn"].(map[string]any)
		source, _ := arn["Fn::GetAtt"].([]any)
		if len(source) == 0 {
			if arn, ok := props["EventSourceArn"].(string); ok && strings.Contains(arn, ":partner") {
				out["Partner"] = props
				continue
			}
			t.Fatalf("unexpected event source %v", props["EventSourceArn"])
		}
		for _, name := range []string{"Ingest", "NoDlq", "Clicks", "Orders"} {
			if strings.HasPrefix(source[0].(string), name) {
				out[name] = props
			}
		}
	}
	return out
}

// assertProperties compares the JSON of selected properties ("null" for an absent one).
func assertProperties(t *testing.T, what string, props map[string]any, want map[string]string) {
	t.Helper()
	if props == nil {
		t.Fatalf("no %s", what)
	}
	for key, value := range want {
		if got := cdktest.JSONString(t, props[key]); got != value {
			t.Errorf("%s %s = %s, want %s", what, key, got, value)
		}
	}
}

// getAtt returns the JSON of {"Fn::GetAtt": [<logical id starting with prefix>, attribute]} for the one resource
// whose logical id starts with prefix (and is not a policy of it).
func getAtt(t *testing.T, template map[string]any, prefix, attribute string) string {
	t.Helper()
	var found []string
	for id, value := range template["Resources"].(map[string]any) {
		kind := value.(map[string]any)["Type"].(string)
		if strings.HasPrefix(id, prefix) && !strings.HasSuffix(kind, "Policy") {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one resource %s*, got %v", prefix, found)
	}
	return cdktest.JSONString(t, map[string]any{"Fn::GetAtt": []any{found[0], attribute}})
}
