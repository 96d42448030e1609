package sparklambda

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

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
	// Alias is the alias ProvisionedAliasName ("live") on the function's current version, with
	// SparkLambdaProps.ProvisionedConcurrency provisioned environments, or nil without provisioned concurrency. The
	// construct's triggers invoke it (see InvokeTarget); invoke it yourself as "<function name>:live" (or its ARN) to
	// use the provisioned environments.
	Alias awslambda.Alias

	// invokeTarget is what the construct's triggers invoke: Alias with provisioned concurrency, Function otherwise
	// (see InvokeTarget).
	invokeTarget awslambda.IFunction
	// createdFailureQueue is the failure queue the construct created, or nil for SparkLambdaProps.FailureQueue.
	createdFailureQueue awssqs.Queue

	// dataGrants are the function's data grants (script, inputs, tables, Glue, lock table) and dataMirrors the job
	// roles routed from it (RouteLargeInputsTo), which get every one of them (grantData).
	dataGrants  []dataGrant
	dataMirrors []dataAccess

	framework Framework           // SparkLambdaProps.Framework
	emr       *SparkEmrServerless // the application of RouteLargeInputsTo, or nil

	network        *network
	vpcPolicy      awsiam.Policy // the ENI policy of a function in a VPC (grantVpcNetworkInterfaces), or nil
	timeoutSeconds int           // the function timeout, for the triggers' checks
	// asyncMaxEventAgeSeconds is SparkLambdaProps.AsyncMaxEventAgeSeconds, resolved (also AddSchedule's maximum).
	asyncMaxEventAgeSeconds int
}

// ProvisionedAliasName is the name of the alias that carries SparkLambdaProps.ProvisionedConcurrency.
const ProvisionedAliasName = "live"

// InvokeTarget is what invocations should address so that they use the provisioned environments: Alias when
// SparkLambdaProps.ProvisionedConcurrency is set, Function otherwise. Every trigger helper of the construct targets
// it; use it too for triggers you wire yourself (e.g. awseventstargets.NewLambdaFunction(spark.InvokeTarget(), ...)).
func (s *SparkLambda) InvokeTarget() awslambda.IFunction {
	return s.invokeTarget
}

// NewSparkLambda builds the function, its role, log group, image (unless given) and network. It panics with a
// *PropsError at synth time when props are invalid (see SparkLambdaProps.Validate).
func NewSparkLambda(scope constructs.Construct, id string, props *SparkLambdaProps) *SparkLambda {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	this := constructs.NewConstruct(scope, jsii.String(id))
	s := &SparkLambda{Construct: this, Image: props.Image, CommitCoordination: props.commitCoordination(), framework: props.Framework,
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

	s.network = newNetwork(this, props.networkSpec(retention))
	s.Vpc = s.network.vpc
	s.SecurityGroup = s.network.securityGroup

	s.ScriptBucketName, s.ScriptKey = s.scriptLocation(props)
	s.grantReadScript(props.ScriptBucket)

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
		s.LockTable = newLockTable(this, props.Framework, props.EncryptionKey)
		table, key := s.LockTable, props.EncryptionKey
		s.grantData(func(to dataAccess) awsiam.Grant {
			if to.network != nil {
				to.network.allowDynamoDB()
			}
			return grantLockTable(to.role, table, key)
		})
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
	s.grantVpcNetworkInterfaces()
	s.grantEnvironmentKey(props.EncryptionKey)
	if s.FailureQueue == nil {
		s.createdFailureQueue = newFailureQueue(this, props.EncryptionKey)
		s.FailureQueue = s.createdFailureQueue
	}
	// Lambda keeps one event-invoke config per qualifier: the unqualified function's covers `--invocation-type
	// Event` without a qualifier, the alias's covers the triggers, which invoke the alias.
	configureAsyncInvoke(s.Function, s.FailureQueue, props)
	s.invokeTarget = s.Function
	if props.ProvisionedConcurrency != nil {
		s.Alias = awslambda.NewAlias(this, jsii.String("Alias"), &awslambda.AliasProps{
			AliasName:                       jsii.String(ProvisionedAliasName),
			Version:                         s.Function.CurrentVersion(),
			ProvisionedConcurrentExecutions: jsii.Number(float64(*props.ProvisionedConcurrency)),
			Description: jsii.String(fmt.Sprintf("Current version with %d provisioned environments (JVM started in init)",
				*props.ProvisionedConcurrency)),
		})
		s.invokeTarget = s.Alias
		configureAsyncInvoke(s.Alias, s.FailureQueue, props)
	}
	s.coverFailureQueueKeyGrant()
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
