package sparklambda

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
)

// SparkLambdaProps, its defaults and limits, and the environment variables the construct sets for the image.

// Defaults and limits of SparkLambdaProps. Lambda's own limits: memory 128–10,240 MiB, timeout up to 900 s,
// ephemeral storage (/tmp) 512–10,240 MiB (AWS Lambda quotas). The lower bounds here are Spark's: the JVM,
// Python and the driver do not start in less than 2,048 MiB, and JVM plus SparkContext start takes tens of seconds.
const (
	// DefaultMemorySizeMiB is the default function memory, in MiB. 3,008 MiB gives about 1.7 vCPU
	// (Lambda allocates 1 vCPU per 1,769 MiB).
	DefaultMemorySizeMiB = 3008
	// MinMemorySizeMiB is the smallest memory accepted, in MiB: below it the Spark JVM cannot start.
	MinMemorySizeMiB = 2048
	// MaxMemorySizeMiB is Lambda's memory limit, in MiB.
	MaxMemorySizeMiB = 10240
	// DefaultTimeoutSeconds is the default function timeout, in seconds.
	DefaultTimeoutSeconds = 600
	// MinTimeoutSeconds is the shortest timeout accepted, in seconds: a cold JVM + SparkContext start alone takes
	// 10–30 s.
	MinTimeoutSeconds = 60
	// MaxTimeoutSeconds is Lambda's timeout limit, in seconds.
	MaxTimeoutSeconds = 900
	// DefaultEphemeralStorageMiB is the default size of /tmp, in MiB (Spark's local dir, shuffle and the script).
	DefaultEphemeralStorageMiB = 2048
	// MinEphemeralStorageMiB is Lambda's smallest /tmp, in MiB.
	MinEphemeralStorageMiB = 512
	// MaxEphemeralStorageMiB is Lambda's largest /tmp, in MiB.
	MaxEphemeralStorageMiB = 10240
	// DefaultMaxAzs is the default number of Availability Zones of a VPC the construct creates.
	DefaultMaxAzs = 2
	// DefaultLogRetention is the default retention of the function's log group (30 days).
	DefaultLogRetention = awslogs.RetentionDays_ONE_MONTH
)

// Environment variables the construct sets for the handler in the image (docker/python/handler reads them). Every
// variable the image reads is named SPARK_LAMBDA_* (README, "Environment variables").
const (
	// EnvScriptBucket names the bucket that holds the PySpark script.
	EnvScriptBucket = "SPARK_LAMBDA_SCRIPT_BUCKET"
	// EnvScriptKey names the S3 key of the PySpark script.
	EnvScriptKey = "SPARK_LAMBDA_SCRIPT_KEY"
	// EnvFramework names the table format of the image (HUDI, DELTA or ICEBERG).
	EnvFramework = "SPARK_LAMBDA_FRAMEWORK"
	// EnvWarehouse is the s3:// location where tables live (spark.sql.warehouse.dir, Iceberg warehouse).
	EnvWarehouse = "SPARK_LAMBDA_WAREHOUSE"
	// EnvGlueDatabase names the Glue Data Catalog database the scripts use.
	EnvGlueDatabase = "SPARK_LAMBDA_GLUE_DATABASE"
	// EnvIcebergCatalogType selects the Iceberg catalog implementation: "glue" or "hadoop".
	EnvIcebergCatalogType = "SPARK_LAMBDA_ICEBERG_CATALOG"

	// The EMR Serverless routing contract (SparkLambda.RouteLargeInputsTo sets all five, or none).

	// EnvEmrApplicationID is the id of the EMR Serverless application that runs events too large for Lambda
	// (StartJobRun's applicationId).
	EnvEmrApplicationID = "SPARK_LAMBDA_EMR_APPLICATION_ID"
	// EnvEmrExecutionRoleArn is the ARN of the application's job role (StartJobRun's executionRoleArn); the function
	// may pass exactly this role, to EMR Serverless only.
	EnvEmrExecutionRoleArn = "SPARK_LAMBDA_EMR_EXECUTION_ROLE_ARN"
	// EnvEmrThresholdBytes is a decimal integer number of bytes: an event whose S3 input objects sum to more than it
	// is handed to EMR Serverless instead of running in Lambda (EmrRoutingOptions.ThresholdMiB × 1,048,576).
	EnvEmrThresholdBytes = "SPARK_LAMBDA_EMR_THRESHOLD_BYTES"
	// EnvEmrStagingURI is an s3://bucket/prefix/ location ending in "/" where the handler writes what a job run needs
	// by reference (the event, the image's commit-coordination jars); the function may read and write there, the job
	// role read.
	EnvEmrStagingURI = "SPARK_LAMBDA_EMR_STAGING_URI"
	// EnvEmrPyFiles is the s3:// URI of a zip whose top-level folder is the script API package sparklambda/
	// (docker/python/sparklambda), for the job run's --py-files; the job role may read it.
	EnvEmrPyFiles = "SPARK_LAMBDA_EMR_PY_FILES"
)

// SparkLambdaProps configures a SparkLambda. Zero values mean "use the default"; every default is documented on
// its field.
type SparkLambdaProps struct {
	// Framework is the table format the function runs (HUDI, DELTA or ICEBERG). Required.
	Framework Framework

	// Image is the runtime image. Default: a new SparkImage for Framework. When given, it must come from
	// NewSparkImage (a struct literal has no image location; Validate rejects it) and its Framework must equal
	// Framework.
	Image *SparkImage

	// ScriptPath is a local PySpark file that the construct uploads as an S3 asset. Give either ScriptPath or
	// ScriptBucket + ScriptKey.
	ScriptPath string
	// ScriptBucket is an existing bucket that holds the PySpark script at ScriptKey.
	ScriptBucket awss3.IBucket
	// ScriptKey is the S3 key of the script in ScriptBucket, e.g. "scripts/job.py": one object, so no leading or
	// trailing "/", no "s3://bucket/" and no "*".
	ScriptKey string

	// MemorySizeMiB is the function memory in MiB. Default 3,008; valid 2,048–10,240.
	MemorySizeMiB int
	// TimeoutSeconds is the function timeout in seconds. Default 600; valid 60–900.
	TimeoutSeconds int
	// EphemeralStorageMiB is the size of /tmp in MiB. Default 2,048; valid 512–10,240.
	EphemeralStorageMiB int
	// LogRetention is how long the function's log group (and a created VPC's flow log) keeps events.
	// Default 30 days (awslogs.RetentionDays_ONE_MONTH).
	LogRetention awslogs.RetentionDays
	// ReservedConcurrency reserves (and caps) concurrent executions. Default nil: unreserved. Exactly 1 is required
	// by CommitCoordinationNone (one writer at a time instead of commit coordination).
	// Valid: 1 or more (0 would throttle every invocation). Reserving needs unreserved account concurrency of at
	// least 100 left over (an AWS Lambda rule), which new accounts may not have.
	ReservedConcurrency *int
	// ProvisionedConcurrency keeps this many execution environments initialized ahead of invocations. Default nil:
	// none (every new environment starts cold). Valid: 1 or more, and at most ReservedConcurrency when that is set
	// (Lambda rejects provisioned concurrency above the function's reserved concurrency).
	//
	// With it the construct publishes a version of the function (Function.CurrentVersion, a new one whenever the
	// configuration changes) and an alias ProvisionedAliasName ("live") on it with this provisioned concurrency,
	// exposed as SparkLambda.Alias; every trigger the construct adds (AddS3Trigger, AddSchedule, AddSqsTrigger,
	// AddKinesisTrigger, AddDynamoDBStreamTrigger, AddMskTrigger) and the alias's own asynchronous-invoke config
	// (retries, FailureQueue) target the alias, so their invocations run in the provisioned environments.
	// Invocations without the qualifier (function name alone) still run $LATEST on demand.
	//
	// Why: Lambda caps the init phase of an on-demand environment at 10 s, while it initializes provisioned
	// environments ahead of time (AWS Lambda Developer Guide, "Lambda execution environment lifecycle" and
	// "Configuring provisioned concurrency"); in a provisioned environment (AWS_LAMBDA_INITIALIZATION_TYPE
	// "provisioned-concurrency") the image's handler starts the Spark JVM in the init phase and warms the table
	// format up on a throwaway /tmp table (SPARK_LAMBDA_INIT_WARMUP, default auto), so both are done before the first
	// event arrives; such an init may take up to the function's timeout, at least 130 s.
	// Provisioned environments are billed while idle. Lambda also requires the account's unreserved concurrency to
	// stay at 100 or more after provisioning, which is checked at deploy time, not here.
	ProvisionedConcurrency *int
	// FunctionName is a physical name for the function. Default: generated by CloudFormation.
	// Valid: 1–64 characters of letters, digits, '-' and '_'.
	FunctionName string
	// Description of the function. Default: a description naming the framework.
	Description string
	// Environment adds variables for the script. It must not set the variables the construct owns, all named
	// SPARK_LAMBDA_* (SPARK_LAMBDA_SCRIPT_BUCKET, SPARK_LAMBDA_SCRIPT_KEY, SPARK_LAMBDA_FRAMEWORK,
	// SPARK_LAMBDA_WAREHOUSE, SPARK_LAMBDA_GLUE_DATABASE, SPARK_LAMBDA_ICEBERG_CATALOG,
	// SPARK_LAMBDA_COMMIT_COORDINATION, SPARK_LAMBDA_LOCK_TABLE, the SPARK_LAMBDA_EMR_* variables of
	// RouteLargeInputsTo; README "Environment variables" lists them all) or
	// Lambda's reserved ones (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_LAMBDA_*, LAMBDA_TASK_ROOT, _HANDLER and the like).
	// The owned ones also include SPARK_LAMBDA_COMMIT_COORDINATION and SPARK_LAMBDA_LOCK_TABLE. Keys follow Lambda's
	// rule: a letter, then letters, digits and '_' (Lambda rejects e.g. "MY-VAR" at deploy time; Validate at synth).
	Environment map[string]string

	// CommitCoordination is how concurrent invocations commit to one table safely. Default
	// (CommitCoordinationAutomatic): Glue's optimistic commits for ICEBERG with a GlueDatabase, otherwise a DynamoDB
	// lock table created for the function (SparkLambda.LockTable). CommitCoordinationNone is accepted only with
	// ReservedConcurrency 1; CommitCoordinationGlue only for ICEBERG with a GlueDatabase. See CommitCoordination.
	CommitCoordination CommitCoordination

	// FailureQueue receives what the function could not process after every retry: failed asynchronous invocations
	// (Lambda's on-failure destination), records that stream and Kafka triggers give up on, and events that
	// schedules could not deliver. Default: a new queue (SSE-SQS encryption, or SSE-KMS with EncryptionKey, TLS
	// enforced, 14 days retention,
	// retained when the stack is deleted), exposed as SparkLambda.FailureQueue. A queue you pass must accept messages from Lambda (the construct grants
	// the role sqs:SendMessage) and, for AddSchedule, from EventBridge (the CDK adds that queue policy only to a
	// queue defined in the same stack).
	FailureQueue awssqs.IQueue
	// AsyncRetryAttempts is how often Lambda retries a failed asynchronous invocation (S3 notifications,
	// EventBridge, schedules, `--invocation-type Event`) before it goes to FailureQueue. Default nil: 2; valid 0-2
	// (Lambda's range).
	AsyncRetryAttempts *int
	// AsyncMaxEventAgeSeconds is how long, in seconds, an asynchronous event may wait (throttled or between retries)
	// before it goes to FailureQueue; it is also the maximum event age of AddSchedule's EventBridge target.
	// Default 21,600 (6 hours); valid 60-21,600 (Lambda's range).
	AsyncMaxEventAgeSeconds int

	// WarehouseBucket and WarehousePrefix declare where tables live: the role may read and write objects under
	// the prefix, and the handler gets SPARK_LAMBDA_WAREHOUSE=s3://bucket/prefix. Default: none (grant table
	// locations with GrantReadWriteTable instead). WarehousePrefix needs WarehouseBucket.
	WarehouseBucket awss3.IBucket
	// WarehousePrefix is the key prefix of the warehouse in WarehouseBucket, e.g. "tables/". Default "" (the
	// whole bucket). Valid: "" or a key prefix that ends in "/", without a leading "/", "s3://" or "*" (the grant
	// covers prefix + "*", so "tables" would also grant "tables-old/").
	WarehousePrefix string
	// GlueDatabase is a Glue Data Catalog database the scripts use. The role may use that database and its
	// tables only, and the handler gets SPARK_LAMBDA_GLUE_DATABASE (and, for Iceberg,
	// SPARK_LAMBDA_ICEBERG_CATALOG=glue). Default: no Glue access; Iceberg then uses a Hadoop catalog in the
	// warehouse, which is safe for one writer at a time.
	// Valid: 1–255 characters of lowercase letters, digits and '_' (Glue's naming rule).
	GlueDatabase string

	// Vpc is an existing VPC to run in. Default: a new VPC with isolated subnets only, an S3 gateway endpoint and
	// a flow log (see CreateVpc). Conflicts with CreateVpc and NoVpc.
	Vpc awsec2.IVpc
	// VpcSubnets selects subnets of Vpc. Default: the CDK's default selection for Lambda (private subnets).
	// Needs Vpc.
	VpcSubnets *awsec2.SubnetSelection
	// AddS3Endpoint adds an S3 gateway endpoint to Vpc (for a VPC without one; once per VPC). Default false.
	// Needs Vpc. The endpoint is routed from every private (with egress) and isolated subnet of the VPC and from
	// the function's own subnets, so that every SparkLambda of the VPC reaches S3 through it whichever subnets it
	// runs in; a later SparkLambda that also sets AddS3Endpoint and runs in subnets with other route tables (e.g.
	// subnets selected one by one) adds those route tables to the endpoint. The same holds for
	// AddDynamoDBEndpoint.
	AddS3Endpoint bool
	// AddDynamoDBEndpoint adds a DynamoDB gateway endpoint to Vpc (once per VPC) for the lock table of
	// CommitCoordinationDynamoDB. Default false: the function then reaches DynamoDB through the VPC's own route (a
	// NAT gateway or an existing endpoint); its security group allows HTTPS to DynamoDB's managed prefix list either
	// way. A created VPC always gets the endpoint when the function uses a lock table. Needs Vpc and a resolved
	// CommitCoordination of "dynamodb".
	AddDynamoDBEndpoint bool
	// AddGlueEndpoint adds a Glue interface endpoint to Vpc (once per VPC) and lets the function reach it.
	// Default false: with Vpc and GlueDatabase, the function then reaches Glue through the VPC's own route (NAT
	// gateway or an existing endpoint), with egress HTTPS to any IPv4 address. A created VPC always gets the
	// endpoint when GlueDatabase is set. Needs Vpc and GlueDatabase.
	//
	// The endpoint has private DNS (the Glue API's public name resolves to it for the whole VPC: Spark's and the AWS
	// SDK's Glue clients need no endpoint configuration), so it admits HTTPS from the VPC's primary CIDR block: an
	// endpoint that admitted only this function's security group would silently drop the Glue calls of every other
	// workload in the VPC. It sits in one subnet per Availability Zone of the CDK's default selection (private
	// subnets). Vpc must know its CIDR block (a VPC built or looked up by the CDK does; Vpc_FromVpcAttributes needs
	// VpcCidrBlock): NewSparkLambda panics with a *PropsError otherwise. Workloads in a secondary CIDR block of the VPC are not admitted; add an ingress rule to the
	// endpoint's security group for them.
	AddGlueEndpoint bool
	// CreateVpc states explicitly that the construct creates its own VPC; that is also what happens when neither
	// Vpc nor NoVpc is set. Conflicts with Vpc and NoVpc.
	CreateVpc bool
	// MaxAzs is the number of Availability Zones of a created VPC. Default 2; valid 1–6.
	MaxAzs int
	// NoVpc runs the function outside any VPC (Lambda's default networking). Default false. Conflicts with Vpc,
	// CreateVpc, VpcSubnets and AddS3Endpoint.
	NoVpc bool

	// EncryptionKey is a customer managed KMS key for what the construct stores. Default nil: AWS-managed
	// encryption (CloudWatch Logs' own, Lambda's aws/lambda key, SSE-SQS, DynamoDB's aws/dynamodb key). With a key:
	//   - the function's log group (and a created VPC's flow log group) is encrypted with it. CloudWatch Logs
	//     needs the key policy to allow the service principal logs.<region>.amazonaws.com; for a kms.Key of the
	//     app the construct adds that statement (the CDK's key grant), limited by the encryption context to log
	//     groups of the stack's account and region (a condition on this log group's ARN would be a dependency
	//     cycle: the log group references the key). For an imported key (kms.Key_FromKeyArn) the construct cannot
	//     change the key policy and adds a warning: the key policy must allow it, or deployment fails;
	//   - the function's environment variables (Lambda's KmsKeyArn); the role may kms:Decrypt with the key;
	//   - the failure queue the construct creates (SSE-KMS; a FailureQueue you pass keeps its own encryption). The
	//     role may use the key to send to it; for AddSchedule the key policy also lets EventBridge
	//     (events.amazonaws.com, this account only) use it to deliver to the dead-letter queue (again only for a key
	//     of the app; an imported key's policy must allow it);
	//   - the DynamoDB lock table (customer managed encryption); the role may use the key on it.
	// The role's key grants are the CDK's (kms:Decrypt, kms:DescribeKey, kms:Encrypt, kms:ReEncrypt*,
	// kms:GenerateDataKey* on this key's ARN only); their two action wildcards carry a scoped cdk-nag suppression.
	EncryptionKey awskms.IKey
}

func (p *SparkLambdaProps) memorySizeMiB() int {
	return orDefault(p.MemorySizeMiB, DefaultMemorySizeMiB)
}
func (p *SparkLambdaProps) timeoutSeconds() int {
	return orDefault(p.TimeoutSeconds, DefaultTimeoutSeconds)
}
func (p *SparkLambdaProps) ephemeralStorageMiB() int {
	return orDefault(p.EphemeralStorageMiB, DefaultEphemeralStorageMiB)
}
func (p *SparkLambdaProps) maxAzs() int { return orDefault(p.MaxAzs, DefaultMaxAzs) }

func orDefault(value, fallback int) int {
	if value == 0 {
		return fallback
	}
	return value
}
