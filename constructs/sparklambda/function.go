package sparklambda

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

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
	// FunctionName is a physical name for the function. Default: generated by CloudFormation.
	// Valid: 1–64 characters of letters, digits, '-' and '_'.
	FunctionName string
	// Description of the function. Default: a description naming the framework.
	Description string
	// Environment adds variables for the script. It must not set the variables the construct owns, all named
	// SPARK_LAMBDA_* (SPARK_LAMBDA_SCRIPT_BUCKET, SPARK_LAMBDA_SCRIPT_KEY, SPARK_LAMBDA_FRAMEWORK,
	// SPARK_LAMBDA_WAREHOUSE, SPARK_LAMBDA_GLUE_DATABASE, SPARK_LAMBDA_ICEBERG_CATALOG,
	// SPARK_LAMBDA_COMMIT_COORDINATION, SPARK_LAMBDA_LOCK_TABLE; README "Environment variables" lists them all) or
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

// SparkLambda is a Lambda function that runs a PySpark script from S3 in the Spark runtime image, with the
// triggering event as `--event <json>`. It owns its role (least privilege: the script object, declared input and
// table locations, its own log group, ENIs only when in a VPC, Glue only for a declared database, its lock table),
// its log group, its failure queue (unless given one), its commit coordination (a DynamoDB lock table, unless Glue
// or CommitCoordinationNone) and, by default, its network.
type SparkLambda struct {
	constructs.Construct

	// Function is the Lambda function (PackageType Image, x86_64).
	Function awslambda.DockerImageFunction
	// Role is the function's execution role.
	Role awsiam.Role
	// Image is the runtime image the function runs.
	Image *SparkImage
	// LogGroup receives the function's logs.
	LogGroup awslogs.LogGroup
	// Vpc is the VPC the function runs in, or nil with NoVpc.
	Vpc awsec2.IVpc
	// SecurityGroup is the function's security group (no inbound; outbound 443 to S3, and to DynamoDB and Glue
	// when the function uses them), or nil with NoVpc.
	SecurityGroup awsec2.SecurityGroup
	// CommitCoordination is the resolved commit coordination: CommitCoordinationDynamoDB, CommitCoordinationGlue or
	// CommitCoordinationNone (never CommitCoordinationAutomatic).
	CommitCoordination CommitCoordination
	// LockTable is the DynamoDB table of CommitCoordinationDynamoDB (pay per request, encrypted with the
	// AWS-managed key or SparkLambdaProps.EncryptionKey,
	// point-in-time recovery, destroyed with the stack: it holds only short-lived coordination entries), or nil with
	// any other coordination.
	LockTable awsdynamodb.Table
	// FailureQueue receives failed asynchronous invocations and what the triggers give up on: the queue of
	// SparkLambdaProps.FailureQueue, or the one the construct created.
	FailureQueue awssqs.IQueue
	// ScriptBucketName and ScriptKey locate the script the function runs.
	ScriptBucketName *string
	// ScriptKey is the S3 key of the script.
	ScriptKey *string

	network        *network
	timeoutSeconds int // the function timeout, for the triggers' checks
	// asyncMaxEventAgeSeconds is SparkLambdaProps.AsyncMaxEventAgeSeconds, resolved (also AddSchedule's maximum).
	asyncMaxEventAgeSeconds int
}

var (
	functionNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	glueNamePattern     = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)
	// environmentKeyPattern is Lambda's rule for environment variable names (the Environment API type:
	// [a-zA-Z]([a-zA-Z0-9_])+; one letter is accepted too).
	environmentKeyPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	ownedEnvironment      = []string{EnvScriptBucket, EnvScriptKey, EnvFramework, EnvWarehouse, EnvGlueDatabase, EnvIcebergCatalogType,
		EnvCommitCoordination, EnvLockTable}
	// Lambda's reserved environment variables, which a function configuration cannot set (AWS Lambda Developer
	// Guide, "Defined runtime environment variables"). Other AWS_* keys, such as AWS_MAX_ATTEMPTS, are allowed.
	reservedEnvironment = map[string]bool{
		"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
		"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
		"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
		"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
		"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
		"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
	}
)

// Validate checks props without building anything and returns a *PropsError listing every problem, or nil.
func (p *SparkLambdaProps) Validate() error {
	check := propsChecker{construct: "SparkLambda"}
	if p == nil {
		check.addf("props are nil: pass &SparkLambdaProps{Framework: ..., ScriptPath: ...}")
		return check.err()
	}
	if !p.Framework.Valid() {
		check.addf("Framework is %q, but it must be one of %s: it selects the image's table-format jars",
			p.Framework, frameworkList())
	}
	if p.Image != nil && (p.Image.Location == nil || p.Image.Repository == nil) {
		check.addf("Image has no image location (Location or Repository is nil): build it with " +
			"sparklambda.NewSparkImage(scope, id, &SparkImageProps{Framework: ...}), not as a struct literal, or leave Image nil")
	}
	if p.Image != nil && p.Framework.Valid() && p.Image.Framework != p.Framework {
		check.addf("Image is built for %s, but Framework is %s: pass an image of the same framework or leave Image nil",
			p.Image.Framework, p.Framework)
	}

	// Where the script comes from: exactly one source.
	switch {
	case p.ScriptPath == "" && p.ScriptBucket == nil && p.ScriptKey == "":
		check.addf("no script: set ScriptPath (a local .py file to upload) or ScriptBucket + ScriptKey (an object you already have)")
	case p.ScriptPath != "" && (p.ScriptBucket != nil || p.ScriptKey != ""):
		check.addf("ScriptPath %q conflicts with ScriptBucket/ScriptKey: give one script source, not both", p.ScriptPath)
	case p.ScriptPath != "":
		if info, err := os.Stat(p.ScriptPath); err != nil {
			check.addf("ScriptPath %q cannot be read (%v): give the path of an existing PySpark file", p.ScriptPath, err)
		} else if info.IsDir() {
			check.addf("ScriptPath %q is a directory: give the path of one PySpark file", p.ScriptPath)
		}
	case p.ScriptBucket == nil:
		check.addf("ScriptKey %q is set but ScriptBucket is nil: set the bucket that holds the script", p.ScriptKey)
	case strings.TrimSpace(p.ScriptKey) == "":
		check.addf("ScriptKey is empty: set the S3 key of the script in ScriptBucket, e.g. \"scripts/job.py\"")
	case strings.HasSuffix(p.ScriptKey, "/"):
		check.addf("ScriptKey %q must name one object, without a trailing \"/\", e.g. \"scripts/job.py\"", p.ScriptKey)
	default:
		checkKeyPart(&check, "ScriptKey", p.ScriptKey, "scripts/job.py")
	}

	check.intRange("MemorySizeMiB", p.memorySizeMiB(), MinMemorySizeMiB, MaxMemorySizeMiB, "MiB",
		"below 2048 MiB the Spark JVM cannot start; 10240 MiB is Lambda's limit")
	check.intRange("TimeoutSeconds", p.timeoutSeconds(), MinTimeoutSeconds, MaxTimeoutSeconds, "seconds",
		"a cold JVM and SparkContext start alone takes 10-30 s; 900 s is Lambda's limit")
	check.intRange("EphemeralStorageMiB", p.ephemeralStorageMiB(), MinEphemeralStorageMiB, MaxEphemeralStorageMiB, "MiB",
		"this is Lambda's range for /tmp")
	if p.ReservedConcurrency != nil && *p.ReservedConcurrency < 1 {
		check.addf("ReservedConcurrency is %d, but it must be 1 or more: 0 throttles every invocation; leave it nil for unreserved concurrency",
			*p.ReservedConcurrency)
	}
	if p.FunctionName != "" && !functionNamePattern.MatchString(p.FunctionName) {
		check.addf("FunctionName %q is invalid: use 1-64 letters, digits, '-' or '_' (Lambda's naming rule)", p.FunctionName)
	}
	if p.GlueDatabase != "" && !glueNamePattern.MatchString(p.GlueDatabase) {
		check.addf("GlueDatabase %q is invalid: use 1-255 lowercase letters, digits or '_' (Glue's naming rule)", p.GlueDatabase)
	}
	if p.WarehousePrefix != "" && p.WarehouseBucket == nil {
		check.addf("WarehousePrefix %q is set but WarehouseBucket is nil: set the bucket the tables live in", p.WarehousePrefix)
	}
	checkPrefix(&check, "WarehousePrefix", p.WarehousePrefix, "tables/")
	keys := make([]string, 0, len(p.Environment))
	for key := range p.Environment {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if !environmentKeyPattern.MatchString(key) {
			check.addf("Environment key %q is invalid: Lambda accepts only a letter followed by letters, digits and '_' "+
				"(deployment would fail); rename it, e.g. %q", key, environmentKeyFix(key))
		}
		for _, owned := range ownedEnvironment {
			if key == owned {
				check.addf("Environment sets %s, which the construct owns: use the matching prop instead (ScriptPath/ScriptBucket/ScriptKey, Framework, WarehouseBucket, GlueDatabase, CommitCoordination)", key)
			}
		}
		if reservedEnvironment[key] {
			check.addf("Environment sets %s, which Lambda reserves for the runtime: choose another name", key)
		}
	}

	// Network: one of "create a VPC" (default), "use this VPC", "no VPC".
	if p.Vpc != nil && p.CreateVpc {
		check.addf("Vpc is set and CreateVpc is true: choose one, either your existing VPC or a VPC the construct creates")
	}
	if p.NoVpc && (p.Vpc != nil || p.CreateVpc) {
		check.addf("NoVpc is true but Vpc or CreateVpc is also set: a function cannot run both outside and inside a VPC")
	}
	if p.VpcSubnets != nil && p.Vpc == nil {
		check.addf("VpcSubnets is set without Vpc: subnets can only be selected in an existing VPC; a created VPC uses its isolated subnets")
	}
	if p.AddS3Endpoint && p.Vpc == nil {
		check.addf("AddS3Endpoint is true without Vpc: the endpoint is added to an existing VPC; a created VPC always has one")
	}
	if p.AddGlueEndpoint && (p.Vpc == nil || p.GlueDatabase == "") {
		check.addf("AddGlueEndpoint is true without Vpc and GlueDatabase: the endpoint is added to an existing VPC for a declared Glue database; a created VPC gets one automatically")
	}
	p.validateCommitCoordination(&check)
	p.validateFailureHandling(&check)
	if p.MaxAzs != 0 && (p.Vpc != nil || p.NoVpc) {
		check.addf("MaxAzs is %d but the construct creates no VPC (Vpc or NoVpc is set): remove MaxAzs", p.MaxAzs)
	} else {
		check.intRange("MaxAzs", p.maxAzs(), 1, 6, "Availability Zones", "a created VPC spans 1 to 6 AZs")
	}
	return check.err()
}

// environmentKeyFix suggests a valid environment key for key: other characters become '_', and a key that does not
// start with a letter gets the prefix "V_".
func environmentKeyFix(key string) string {
	fixed := regexp.MustCompile(`[^A-Za-z0-9_]`).ReplaceAllString(key, "_")
	if fixed == "" || !(fixed[0] >= 'A' && fixed[0] <= 'Z' || fixed[0] >= 'a' && fixed[0] <= 'z') {
		fixed = "V_" + fixed
	}
	return fixed
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

// NewSparkLambda builds the function, its role, log group, image (unless given) and network. It panics with a
// *PropsError at synth time when props are invalid (see SparkLambdaProps.Validate).
func NewSparkLambda(scope constructs.Construct, id string, props *SparkLambdaProps) *SparkLambda {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	this := constructs.NewConstruct(scope, jsii.String(id))
	s := &SparkLambda{Construct: this, Image: props.Image, CommitCoordination: props.commitCoordination(),
		FailureQueue: props.FailureQueue, timeoutSeconds: props.timeoutSeconds(),
		asyncMaxEventAgeSeconds: props.asyncMaxEventAgeSeconds()}

	retention := props.LogRetention
	if retention == "" {
		retention = DefaultLogRetention
	}
	if s.Image == nil {
		s.Image = NewSparkImage(this, "Image", &SparkImageProps{Framework: props.Framework})
	}
	if props.EncryptionKey != nil {
		allowLogsToUseKey(this, props.EncryptionKey)
	}
	s.LogGroup = awslogs.NewLogGroup(this, jsii.String("LogGroup"), &awslogs.LogGroupProps{Retention: retention,
		EncryptionKey: props.EncryptionKey})
	s.Role = awsiam.NewRole(this, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("Spark %s Lambda execution role (least privilege)", props.Framework)),
	})
	s.LogGroup.GrantWrite(s.Role)

	s.network = newNetwork(this, props, retention)
	s.Vpc = s.network.vpc
	s.SecurityGroup = s.network.securityGroup
	if s.network.vpc != nil {
		// Lambda creates and deletes ENIs in the function's subnets with the execution role. The EC2 network
		// interface actions below do not support narrower resources in the way Lambda calls them (the AWS
		// managed policy AWSLambdaVPCAccessExecutionRole grants them on "*" too).
		s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("LambdaVpcNetworkInterfaces"),
			Actions: jsii.Strings("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
				"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
			Resources: jsii.Strings("*"),
		}))
		suppressEniWildcard(s.Role)
	}

	s.ScriptBucketName, s.ScriptKey = s.scriptLocation(props)
	// The handler reads the script with GetObject (and HeadObject, which needs the same permission) on this one
	// object only.
	s.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("ReadSparkScript"),
		Actions: jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":s3:::"), s.ScriptBucketName, jsii.String("/"), s.ScriptKey,
		})),
	}))
	if props.ScriptBucket != nil && props.ScriptBucket.EncryptionKey() != nil {
		// kms:Decrypt only (no wildcard action): enough to read an SSE-KMS object.
		props.ScriptBucket.EncryptionKey().GrantDecrypt(s.Role)
	}

	environment := map[string]*string{
		EnvScriptBucket: s.ScriptBucketName,
		EnvScriptKey:    s.ScriptKey,
		EnvFramework:    jsii.String(string(props.Framework)),
	}
	for key, value := range props.Environment {
		environment[key] = jsii.String(value)
	}
	if props.WarehouseBucket != nil {
		environment[EnvWarehouse] = jsii.String(fmt.Sprintf("s3://%s/%s", *props.WarehouseBucket.BucketName(), props.WarehousePrefix))
		s.GrantReadWriteTable(props.WarehouseBucket, props.WarehousePrefix)
	}
	if props.GlueDatabase != "" {
		environment[EnvGlueDatabase] = jsii.String(props.GlueDatabase)
		s.GrantGlueDatabase(props.GlueDatabase)
	}
	if props.Framework == FrameworkIceberg {
		catalog := "hadoop"
		if props.GlueDatabase != "" {
			catalog = "glue"
		}
		environment[EnvIcebergCatalogType] = jsii.String(catalog)
	}
	environment[EnvCommitCoordination] = jsii.String(string(s.CommitCoordination))
	if s.CommitCoordination == CommitCoordinationDynamoDB {
		s.LockTable = newLockTable(this, props.Framework, s.Role, props.EncryptionKey)
		environment[EnvLockTable] = s.LockTable.TableName()
	}

	description := props.Description
	if description == "" {
		description = fmt.Sprintf("Runs a PySpark script (Spark local mode, %s) with the triggering event", props.Framework)
	}
	var reserved *float64
	if props.ReservedConcurrency != nil {
		reserved = jsii.Number(float64(*props.ReservedConcurrency))
	}
	var functionName *string
	if props.FunctionName != "" {
		functionName = jsii.String(props.FunctionName)
	}
	var securityGroups *[]awsec2.ISecurityGroup
	if s.SecurityGroup != nil {
		securityGroups = &[]awsec2.ISecurityGroup{s.SecurityGroup}
	}
	s.Function = awslambda.NewDockerImageFunction(this, jsii.String("Function"), &awslambda.DockerImageFunctionProps{
		Code:                         s.Image.Code(),
		Architecture:                 awslambda.Architecture_X86_64(),
		MemorySize:                   jsii.Number(float64(props.memorySizeMiB())),
		Timeout:                      awscdk.Duration_Seconds(jsii.Number(float64(props.timeoutSeconds()))),
		EphemeralStorageSize:         awscdk.Size_Mebibytes(jsii.Number(float64(props.ephemeralStorageMiB()))),
		ReservedConcurrentExecutions: reserved,
		FunctionName:                 functionName,
		Description:                  jsii.String(description),
		Role:                         s.Role,
		LogGroup:                     s.LogGroup,
		Environment:                  &environment,
		Vpc:                          s.network.vpc,
		VpcSubnets:                   s.network.subnets,
		SecurityGroups:               securityGroups,
		EnvironmentEncryption:        props.EncryptionKey,
	})
	if props.EncryptionKey != nil {
		// Lambda decrypts the environment with this key; kms:Decrypt on the key only.
		props.EncryptionKey.GrantDecrypt(s.Role)
	}
	if s.FailureQueue == nil {
		s.FailureQueue = newFailureQueue(this, props.EncryptionKey)
	}
	configureAsyncInvoke(s.Function, s.FailureQueue, props)
	if key := s.FailureQueue.EncryptionMasterKey(); key != nil {
		// Lambda's on-failure destination and the event source mappings send with the role: the CDK's
		// grantSendMessages adds the key's encrypt/decrypt grant.
		suppressKmsKeyGrant(s.Role, key, "sending failed events to the failure queue "+*s.FailureQueue.Node().Path())
	}
	addCheckovSkips(s)
	return s
}

// scriptLocation uploads ScriptPath as an asset, or uses ScriptBucket + ScriptKey.
func (s *SparkLambda) scriptLocation(props *SparkLambdaProps) (*string, *string) {
	if props.ScriptPath != "" {
		asset := awss3assets.NewAsset(s.Construct, jsii.String("Script"), &awss3assets.AssetProps{Path: jsii.String(props.ScriptPath)})
		return asset.S3BucketName(), asset.S3ObjectKey()
	}
	return props.ScriptBucket.BucketName(), jsii.String(props.ScriptKey)
}

// GrantReadInput lets the function list and read objects under prefix in bucket (an input location), and decrypt
// them (kms:Decrypt only) when the bucket has a KMS key. An empty prefix means the whole bucket. It panics with a
// *PropsError naming GrantReadInput when bucket is nil or prefix is not "" or a key prefix ending in "/" (no
// leading "/", "s3://" or "*"): the grant covers prefix + "*", so "data" would also grant "data-old/".
func (s *SparkLambda) GrantReadInput(bucket awss3.IBucket, prefix string) awsiam.Grant {
	checkGrantArgs("SparkLambda.GrantReadInput", bucket, prefix, "data/")
	return s.grantRead(bucket, prefix)
}

// grantRead grants read on prefix + "*" in bucket without checking prefix (AddS3Trigger's filter prefix may
// legitimately end in something other than "/").
func (s *SparkLambda) grantRead(bucket awss3.IBucket, prefix string) awsiam.Grant {
	suppressS3PrefixGrant(s.Role, prefix)
	return bucket.GrantRead(s.Role, jsii.String(prefix+"*"))
}

// GrantReadWriteTable lets the function read, write and delete objects under prefix in bucket (a table location:
// table formats rewrite and expire files), and use the bucket's KMS key (the CDK's encrypt/decrypt grant on that
// key's ARN). An empty prefix means the whole bucket. It panics with a *PropsError naming GrantReadWriteTable when
// bucket is nil or prefix is not "" or a key prefix ending in "/" (no leading "/", "s3://" or "*").
func (s *SparkLambda) GrantReadWriteTable(bucket awss3.IBucket, prefix string) awsiam.Grant {
	checkGrantArgs("SparkLambda.GrantReadWriteTable", bucket, prefix, "tables/")
	suppressS3PrefixGrant(s.Role, prefix)
	grant := bucket.GrantReadWrite(s.Role, jsii.String(prefix+"*"))
	if key := bucket.EncryptionKey(); key != nil {
		suppressKmsKeyGrant(s.Role, key, "reading and writing table files in bucket "+*bucket.Node().Path())
	}
	return grant
}

// checkGrantArgs panics with a *PropsError for method when bucket is nil or prefix is not a valid grant prefix.
func checkGrantArgs(method string, bucket awss3.IBucket, prefix, example string) {
	check := propsChecker{construct: method}
	if bucket == nil {
		check.addf("bucket is nil: pass the bucket to grant access to")
	}
	checkPrefix(&check, "prefix", prefix, example)
	if err := check.err(); err != nil {
		panic(err)
	}
}

// glueTableActions are what Iceberg's GlueCatalog and Hudi/Delta catalog sync call on a database and its tables.
var glueTableActions = []string{
	"glue:GetDatabase", "glue:GetDatabases",
	"glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
	"glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition", "glue:BatchDeletePartition",
	"glue:CreatePartition", "glue:UpdatePartition", "glue:DeletePartition", "glue:BatchGetPartition",
}

// GrantGlueDatabase lets the function use the Glue Data Catalog database databaseName and its tables (and no
// other database) in the stack's account and region, and lets it reach the Glue API from its VPC: through a Glue
// interface endpoint when the construct created the VPC (isolated subnets have no other route) or
// AddGlueEndpoint is set, otherwise with egress HTTPS to any IPv4 address through the user's VPC route.
//
// It panics with a *PropsError naming GrantGlueDatabase when databaseName is not a Glue database name (1–255
// lowercase letters, digits or '_').
func (s *SparkLambda) GrantGlueDatabase(databaseName string) awsiam.Grant {
	if !glueNamePattern.MatchString(databaseName) {
		panic(&PropsError{Construct: "SparkLambda.GrantGlueDatabase", Problems: []string{fmt.Sprintf(
			"databaseName %q is invalid: use 1-255 lowercase letters, digits or '_' (Glue's naming rule)", databaseName)}})
	}
	stack := awscdk.Stack_Of(s.Construct)
	arn := func(resource string) *string {
		return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("glue"), Resource: jsii.String(resource),
			ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME})
	}
	s.network.allowGlue()
	suppressGlueTables(s.Role, databaseName)
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: s.Role,
		Actions: jsii.Strings(glueTableActions...),
		ResourceArns: &[]*string{
			arn("catalog"),
			arn("database/" + databaseName),
			arn("table/" + databaseName + "/*"),
		},
	})
}
