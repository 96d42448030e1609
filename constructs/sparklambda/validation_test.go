package sparklambda_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
)

// TestValidation checks that each kind of bad props is rejected with a message that names the prop, the value
// and what to do. Every case starts from valid props and breaks one thing.
func TestValidation(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Validation"), nil)
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-1234"), AvailabilityZones: jsii.Strings("eu-west-1a"),
		PrivateSubnetIds: jsii.Strings("subnet-1234"),
	})
	bucket := awss3.Bucket_FromBucketName(stack, jsii.String("Bucket"), jsii.String("scripts-bucket"))
	hudiImage := &sparklambda.SparkImage{Framework: sparklambda.FrameworkHudi}
	script := writeScript(t)
	negative, zero, one, three := -5, 0, 1, 3

	cases := []struct {
		name   string
		mutate func(p *sparklambda.SparkLambdaProps)
		want   []string // every fragment must appear in the message
	}{
		{"memory below Spark's floor", func(p *sparklambda.SparkLambdaProps) { p.MemorySizeMiB = 1024 },
			[]string{"MemorySizeMiB is 1024 MiB", "between 2048 and 10240 MiB", "JVM cannot start"}},
		{"memory above Lambda's limit", func(p *sparklambda.SparkLambdaProps) { p.MemorySizeMiB = 20000 },
			[]string{"MemorySizeMiB is 20000 MiB", "Lambda's limit"}},
		{"timeout too short", func(p *sparklambda.SparkLambdaProps) { p.TimeoutSeconds = 3 },
			[]string{"TimeoutSeconds is 3 seconds", "between 60 and 900"}},
		{"timeout too long", func(p *sparklambda.SparkLambdaProps) { p.TimeoutSeconds = 3600 },
			[]string{"TimeoutSeconds is 3600 seconds", "900 s is Lambda's limit"}},
		{"ephemeral storage too small", func(p *sparklambda.SparkLambdaProps) { p.EphemeralStorageMiB = 100 },
			[]string{"EphemeralStorageMiB is 100 MiB", "between 512 and 10240"}},
		{"ephemeral storage too large", func(p *sparklambda.SparkLambdaProps) { p.EphemeralStorageMiB = 20480 },
			[]string{"EphemeralStorageMiB is 20480 MiB"}},
		{"unknown framework", func(p *sparklambda.SparkLambdaProps) { p.Framework = "PARQUET" },
			[]string{`Framework is "PARQUET"`, "HUDI, DELTA, ICEBERG"}},
		{"empty framework", func(p *sparklambda.SparkLambdaProps) { p.Framework = "" },
			[]string{`Framework is ""`}},
		{"image of another framework", func(p *sparklambda.SparkLambdaProps) { p.Image = hudiImage },
			[]string{"Image is built for HUDI, but Framework is DELTA"}},
		{"no script", func(p *sparklambda.SparkLambdaProps) { p.ScriptPath = "" },
			[]string{"no script", "ScriptPath", "ScriptBucket + ScriptKey"}},
		{"two script sources", func(p *sparklambda.SparkLambdaProps) { p.ScriptBucket = bucket; p.ScriptKey = "a.py" },
			[]string{"conflicts with ScriptBucket/ScriptKey"}},
		{"missing script file", func(p *sparklambda.SparkLambdaProps) { p.ScriptPath = "/nonexistent/job.py" },
			[]string{`ScriptPath "/nonexistent/job.py" cannot be read`}},
		{"empty script key", func(p *sparklambda.SparkLambdaProps) { p.ScriptPath = ""; p.ScriptBucket = bucket; p.ScriptKey = "  " },
			[]string{"ScriptKey is empty"}},
		{"script key is a folder", func(p *sparklambda.SparkLambdaProps) {
			p.ScriptPath = ""
			p.ScriptBucket = bucket
			p.ScriptKey = "jobs/"
		}, []string{`ScriptKey "jobs/" must name one object`}},
		{"script key without bucket", func(p *sparklambda.SparkLambdaProps) { p.ScriptPath = ""; p.ScriptKey = "a.py" },
			[]string{`ScriptKey "a.py" is set but ScriptBucket is nil`}},
		{"existing VPC and create one", func(p *sparklambda.SparkLambdaProps) { p.Vpc = vpc; p.CreateVpc = true },
			[]string{"Vpc is set and CreateVpc is true"}},
		{"no VPC and a VPC", func(p *sparklambda.SparkLambdaProps) { p.Vpc = vpc; p.NoVpc = true },
			[]string{"NoVpc is true but Vpc or CreateVpc is also set"}},
		{"subnets without VPC", func(p *sparklambda.SparkLambdaProps) { p.VpcSubnets = &awsec2.SubnetSelection{} },
			[]string{"VpcSubnets is set without Vpc"}},
		{"S3 endpoint without VPC", func(p *sparklambda.SparkLambdaProps) { p.AddS3Endpoint = true },
			[]string{"AddS3Endpoint is true without Vpc"}},
		{"MaxAzs out of range", func(p *sparklambda.SparkLambdaProps) { p.MaxAzs = 9 },
			[]string{"MaxAzs is 9 Availability Zones", "between 1 and 6"}},
		{"MaxAzs with an existing VPC", func(p *sparklambda.SparkLambdaProps) { p.Vpc = vpc; p.MaxAzs = 3 },
			[]string{"MaxAzs is 3 but the construct creates no VPC"}},
		{"negative reserved concurrency", func(p *sparklambda.SparkLambdaProps) { p.ReservedConcurrency = &negative },
			[]string{"ReservedConcurrency is -5"}},
		{"zero reserved concurrency", func(p *sparklambda.SparkLambdaProps) { p.ReservedConcurrency = &zero },
			[]string{"ReservedConcurrency is 0", "throttles every invocation"}},
		{"bad function name", func(p *sparklambda.SparkLambdaProps) { p.FunctionName = "my function!" },
			[]string{`FunctionName "my function!" is invalid`}},
		{"bad Glue database name", func(p *sparklambda.SparkLambdaProps) { p.GlueDatabase = "Sales-DB" },
			[]string{`GlueDatabase "Sales-DB" is invalid`, "lowercase"}},
		{"warehouse prefix without bucket", func(p *sparklambda.SparkLambdaProps) { p.WarehousePrefix = "tables/" },
			[]string{`WarehousePrefix "tables/" is set but WarehouseBucket is nil`}},
		{"environment overrides an owned variable", func(p *sparklambda.SparkLambdaProps) {
			p.Environment = map[string]string{"SPARK_LAMBDA_SCRIPT_KEY": "other.py"}
		}, []string{"Environment sets SPARK_LAMBDA_SCRIPT_KEY, which the construct owns"}},
		{"Glue endpoint without a VPC", func(p *sparklambda.SparkLambdaProps) { p.GlueDatabase = "sales"; p.AddGlueEndpoint = true },
			[]string{"AddGlueEndpoint is true without Vpc and GlueDatabase"}},
		{"no commit coordination without reserved concurrency", func(p *sparklambda.SparkLambdaProps) {
			p.CommitCoordination = sparklambda.CommitCoordinationNone
		}, []string{`CommitCoordination is "none" but ReservedConcurrency is unreserved`, "fail or lose commits",
			"2 of 4 concurrent writers failed", "set ReservedConcurrency to 1", "leave CommitCoordination unset"}},
		{"no commit coordination with reserved concurrency above 1", func(p *sparklambda.SparkLambdaProps) {
			p.CommitCoordination = sparklambda.CommitCoordinationNone
			p.ReservedConcurrency = &three
		}, []string{`CommitCoordination is "none" but ReservedConcurrency is 3`}},
		{"Glue commits for Delta", func(p *sparklambda.SparkLambdaProps) {
			p.CommitCoordination = sparklambda.CommitCoordinationGlue
			p.GlueDatabase = "sales"
		}, []string{`CommitCoordination is "glue" but Framework is DELTA`, "only Iceberg tables in a Glue database"}},
		{"Glue commits for Iceberg without a Glue database", func(p *sparklambda.SparkLambdaProps) {
			p.Framework = sparklambda.FrameworkIceberg
			p.CommitCoordination = sparklambda.CommitCoordinationGlue
		}, []string{`CommitCoordination is "glue" but Framework is ICEBERG and GlueDatabase is ""`}},
		{"unknown commit coordination", func(p *sparklambda.SparkLambdaProps) { p.CommitCoordination = "zookeeper" },
			[]string{`CommitCoordination is "zookeeper"`, `"dynamodb", "glue" or "none"`}},
		{"DynamoDB endpoint without a VPC", func(p *sparklambda.SparkLambdaProps) { p.AddDynamoDBEndpoint = true },
			[]string{"AddDynamoDBEndpoint is true without Vpc"}},
		{"DynamoDB endpoint without a lock table", func(p *sparklambda.SparkLambdaProps) {
			p.Framework = sparklambda.FrameworkIceberg
			p.GlueDatabase = "sales"
			p.Vpc = vpc
			p.AddDynamoDBEndpoint = true
		}, []string{`AddDynamoDBEndpoint is true but CommitCoordination resolves to "glue"`}},
		{"environment overrides the lock table", func(p *sparklambda.SparkLambdaProps) {
			p.Environment = map[string]string{"SPARK_LAMBDA_LOCK_TABLE": "mine"}
		}, []string{"Environment sets SPARK_LAMBDA_LOCK_TABLE, which the construct owns"}},
		{"async retries above Lambda's maximum", func(p *sparklambda.SparkLambdaProps) { p.AsyncRetryAttempts = &three },
			[]string{"AsyncRetryAttempts is 3 retries", "between 0 and 2", "asynchronous invocations"}},
		{"async retries below zero", func(p *sparklambda.SparkLambdaProps) { p.AsyncRetryAttempts = &negative },
			[]string{"AsyncRetryAttempts is -5 retries"}},
		{"async event age below Lambda's minimum", func(p *sparklambda.SparkLambdaProps) { p.AsyncMaxEventAgeSeconds = 30 },
			[]string{"AsyncMaxEventAgeSeconds is 30 seconds", "between 60 and 21600"}},
		{"async event age above Lambda's maximum", func(p *sparklambda.SparkLambdaProps) { p.AsyncMaxEventAgeSeconds = 86400 },
			[]string{"AsyncMaxEventAgeSeconds is 86400 seconds"}},
		{"environment overrides a Lambda variable", func(p *sparklambda.SparkLambdaProps) {
			p.Environment = map[string]string{"AWS_REGION": "us-east-1"}
		}, []string{"Environment sets AWS_REGION, which Lambda reserves"}},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			props := &sparklambda.SparkLambdaProps{Framework: sparklambda.FrameworkDelta, ScriptPath: script}
			if err := props.Validate(); err != nil {
				t.Fatalf("baseline props are invalid: %v", err)
			}
			c.mutate(props)
			err := props.Validate()
			var propsErr *sparklambda.PropsError
			if !errors.As(err, &propsErr) {
				t.Fatalf("Validate() = %v, want a *PropsError", err)
			}
			for _, fragment := range c.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("message does not contain %q:\n%s", fragment, err)
				}
			}
		})
	}

	t.Run("non-reserved AWS_ variables are allowed", func(t *testing.T) {
		props := &sparklambda.SparkLambdaProps{Framework: sparklambda.FrameworkDelta, ScriptPath: script,
			Environment: map[string]string{"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}}
		if err := props.Validate(); err != nil {
			t.Errorf("Validate() = %v, want nil", err)
		}
	})

	t.Run("explicit commit coordination that fits is accepted", func(t *testing.T) {
		for name, props := range map[string]*sparklambda.SparkLambdaProps{
			"none with one writer": {Framework: sparklambda.FrameworkHudi, ScriptPath: script,
				CommitCoordination: sparklambda.CommitCoordinationNone, ReservedConcurrency: &one},
			"Glue for Iceberg in Glue": {Framework: sparklambda.FrameworkIceberg, ScriptPath: script, GlueDatabase: "sales",
				CommitCoordination: sparklambda.CommitCoordinationGlue},
			"DynamoDB for Iceberg in Glue": {Framework: sparklambda.FrameworkIceberg, ScriptPath: script, GlueDatabase: "sales",
				CommitCoordination: sparklambda.CommitCoordinationDynamoDB, Vpc: vpc, AddDynamoDBEndpoint: true},
			"no async retries": {Framework: sparklambda.FrameworkHudi, ScriptPath: script, AsyncRetryAttempts: &zero,
				AsyncMaxEventAgeSeconds: 60},
		} {
			if err := props.Validate(); err != nil {
				t.Errorf("%s: Validate() = %v, want nil", name, err)
			}
		}
	})

	t.Run("all problems are reported at once", func(t *testing.T) {
		props := &sparklambda.SparkLambdaProps{Framework: "X", MemorySizeMiB: 1, TimeoutSeconds: 1}
		var propsErr *sparklambda.PropsError
		if !errors.As(props.Validate(), &propsErr) || len(propsErr.Problems) != 4 {
			t.Fatalf("want 4 problems (framework, script, memory, timeout), got %v", props.Validate())
		}
	})

	t.Run("the constructor panics at synth time with the same error", func(t *testing.T) {
		defer func() {
			recovered := recover()
			err, ok := recovered.(*sparklambda.PropsError)
			if !ok || !strings.Contains(err.Error(), "MemorySizeMiB is 100 MiB") {
				t.Fatalf("recovered %v, want a *PropsError about MemorySizeMiB", recovered)
			}
		}()
		sparklambda.NewSparkLambda(stack, "Bad", &sparklambda.SparkLambdaProps{
			Framework: sparklambda.FrameworkDelta, ScriptPath: script, MemorySizeMiB: 100,
		})
	})

	t.Run("an image needs a known framework", func(t *testing.T) {
		defer func() {
			if err, ok := recover().(*sparklambda.PropsError); !ok || !strings.Contains(err.Error(), `Framework is "ORC"`) {
				t.Fatalf("want a *PropsError naming the framework, got %v", err)
			}
		}()
		sparklambda.NewSparkImage(stack, "BadImage", &sparklambda.SparkImageProps{Framework: "ORC"})
	})

	t.Run("ParseFramework", func(t *testing.T) {
		if f, err := sparklambda.ParseFramework(" iceberg "); err != nil || f != sparklambda.FrameworkIceberg {
			t.Errorf("ParseFramework(iceberg) = %v, %v", f, err)
		}
		if _, err := sparklambda.ParseFramework("orc"); err == nil || !strings.Contains(err.Error(), "HUDI, DELTA, ICEBERG") {
			t.Errorf("ParseFramework(orc) error = %v", err)
		}
	})
}

// TestTriggerValidation checks that each trigger helper rejects bad arguments at synth time with a *PropsError that
// names the argument, the value and the fix. Nothing is synthesized.
func TestTriggerValidation(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("TriggerValidation"), nil)
	other := awscdk.NewStack(app, jsii.String("Other"), nil)
	spark := sparklambda.NewSparkLambda(stack, "Job", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t), NoVpc: true, TimeoutSeconds: 900,
	})
	bucket := awss3.NewBucket(stack, jsii.String("Landing"), nil)
	shortVisibility := awssqs.NewQueue(stack, jsii.String("Short"), &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(900)),
	})
	defaultVisibility := awssqs.NewQueue(stack, jsii.String("Default"), nil)
	long := awssqs.NewQueue(stack, jsii.String("Long"), &awssqs.QueueProps{VisibilityTimeout: awscdk.Duration_Hours(jsii.Number(2))})
	fifo := awssqs.NewQueue(stack, jsii.String("Fifo"), &awssqs.QueueProps{
		Fifo: jsii.Bool(true), VisibilityTimeout: awscdk.Duration_Hours(jsii.Number(2)),
	})
	stream := awskinesis.Stream_FromStreamArn(stack, jsii.String("Stream"), jsii.String("arn:aws:kinesis:eu-west-1:123456789012:stream/clicks"))
	noStream := awsdynamodb.NewTable(stack, jsii.String("NoStream"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
	})
	const cluster = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0a1b2c3d-1"
	minusOne, five := -1, 5

	cases := []struct {
		name string
		add  func()
		want []string
	}{
		{"S3 prefix with a leading slash", func() { spark.AddS3Trigger(bucket, "/incoming/", "") },
			[]string{`prefix "/incoming/" starts with "/"`, "remove the leading"}},
		{"S3 prefix as an s3:// location", func() { spark.AddS3Trigger(bucket, "s3://landing/incoming/", "") },
			[]string{`prefix "s3://landing/incoming/" is an S3 location`, "object key only"}},
		{"S3 suffix with a wildcard", func() { spark.AddS3Trigger(bucket, "incoming/", "*.csv") },
			[]string{`suffix "*.csv" contains "*"`, "no wildcards"}},
		{"S3 bucket of another stack", func() {
			spark.AddS3Trigger(awss3.NewBucket(other, jsii.String("Elsewhere"), nil), "incoming/", "")
		}, []string{"bucket Other/Elsewhere is defined in stack Other, but the function is in stack TriggerValidation",
			"dependency cycle", "awss3.Bucket_FromBucketName"}},
		{"S3 nil bucket", func() { spark.AddS3Trigger(nil, "", "") }, []string{"bucket is nil"}},
		{"SQS visibility timeout below 6x the function timeout", func() { spark.AddSqsTrigger(shortVisibility, nil) },
			[]string{"queue TriggerValidation/Short has a visibility timeout of 900 s, but it must be at least 5400 s",
				"6x the function timeout of 900 s", "awscdk.Duration_Seconds(jsii.Number(5400))", "or lower TimeoutSeconds"}},
		{"SQS default visibility timeout", func() { spark.AddSqsTrigger(defaultVisibility, nil) },
			[]string{"queue TriggerValidation/Default has a visibility timeout of 30 s"}},
		{"SQS batch above 10 without a window", func() { spark.AddSqsTrigger(long, &sparklambda.SqsTriggerOptions{BatchSize: 50}) },
			[]string{"BatchSize is 50 but MaxBatchingWindowSeconds is 0", "at least 1 second"}},
		{"SQS batch above Lambda's maximum", func() {
			spark.AddSqsTrigger(long, &sparklambda.SqsTriggerOptions{BatchSize: 20000, MaxBatchingWindowSeconds: 400})
		}, []string{"BatchSize is 20000 messages", "MaxBatchingWindowSeconds is 400 seconds"}},
		{"SQS FIFO batch above 10", func() {
			spark.AddSqsTrigger(fifo, &sparklambda.SqsTriggerOptions{BatchSize: 20, MaxBatchingWindowSeconds: 1})
		}, []string{"BatchSize is 20 messages, but it must be between 1 and 10", "FIFO"}},
		{"SQS maximum concurrency of 1", func() { spark.AddSqsTrigger(long, &sparklambda.SqsTriggerOptions{MaxConcurrency: 1}) },
			[]string{"MaxConcurrency is 1 invocations", "between 2 and 1000"}},
		{"stream options out of range", func() {
			spark.AddKinesisTrigger(stream, &sparklambda.StreamTriggerOptions{BatchSize: 20000, RetryAttempts: &minusOne,
				MaxRecordAgeSeconds: 30, ParallelizationFactor: 11, StartingPosition: "AT_TIMESTAMP"})
		}, []string{"BatchSize is 20000 records", "RetryAttempts is -1 retries", "MaxRecordAgeSeconds is 30 seconds",
			"ParallelizationFactor is 11", `StartingPosition is "AT_TIMESTAMP"`}},
		{"DynamoDB table without a stream", func() { spark.AddDynamoDBStreamTrigger(noStream, nil) },
			[]string{"table TriggerValidation/NoStream has no stream", "StreamViewType_NEW_AND_OLD_IMAGES"}},
		{"MSK with a bad ARN and topic", func() { spark.AddMskTrigger("orders-cluster", "orders topic", nil) },
			[]string{`clusterArn "orders-cluster" is not an MSK cluster ARN`, `topic "orders topic" is not a Kafka topic name`}},
		{"MSK with a function timeout above 14 minutes", func() { spark.AddMskTrigger(cluster, "orders", nil) },
			[]string{"the function timeout is 900 s, but a Kafka event source mapping supports at most 840 s"}},
		{"MSK retry controls without provisioned mode", func() {
			spark.AddMskTrigger(cluster, "orders", &sparklambda.KafkaTriggerOptions{RetryAttempts: &five})
		}, []string{"without MinimumPollers", "only in provisioned mode"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				recovered := recover()
				err, ok := recovered.(*sparklambda.PropsError)
				if !ok {
					t.Fatalf("recovered %v, want a *PropsError", recovered)
				}
				for _, fragment := range c.want {
					if !strings.Contains(err.Error(), fragment) {
						t.Errorf("message does not contain %q:\n%s", fragment, err)
					}
				}
			}()
			c.add()
		})
	}
}
