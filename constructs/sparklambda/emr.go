package sparklambda

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsemrserverless"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SparkEmrServerless is an EMR Serverless Spark application (AWS::EMRServerless::Application, x86_64, the release
// label of docker/versions.lock) that runs the same PySpark scripts as a SparkLambda when a job outgrows Lambda (see
// SparkLambda.RouteLargeInputsTo), with the table format's Spark settings of the image, and a job role that gets the
// same least-privilege data grants as the function, through the same grant helpers.
//
// It owns the job role, a CloudWatch log group for the job runs' logs, a bucket for the job runs' logs (unless
// given one) and, by default, its network. Job runs are started by the caller (the SparkLambda handler, with
// StartJobRun), which passes JobRole as the execution role.
type SparkEmrServerless struct {
	constructs.Construct

	// Application is the EMR Serverless application (the CDK's L1 construct).
	Application awsemrserverless.CfnApplication
	// ApplicationId is the application's id (StartJobRun's applicationId).
	ApplicationId *string
	// ApplicationArn is the application's ARN, arn:<partition>:emr-serverless:<region>:<account>:/applications/<id>.
	ApplicationArn *string
	// Framework is the table format of the application's Spark settings.
	Framework Framework
	// ReleaseLabel is the application's EMR release label (EmrReleaseLabel, from docker/versions.lock).
	ReleaseLabel string
	// JobRole is the job runs' execution role: trusted by emr-serverless.amazonaws.com for this application only
	// (aws:SourceAccount and aws:SourceArn conditions), allowed to write the job runs' logs and what the Grant*
	// methods and RouteLargeInputsTo grant it.
	JobRole awsiam.Role
	// LogGroup receives the job runs' driver logs (stdout and stderr), encrypted with EncryptionKey when given.
	LogGroup awslogs.LogGroup
	// Bucket is SparkEmrServerlessProps.LogBucket or the bucket the construct created for the job runs' logs
	// (under LogPrefix); RouteLargeInputsTo stages events and jars there by default.
	Bucket awss3.IBucket
	// LogPrefix is the key prefix of the logs in Bucket, ending in "/".
	LogPrefix string
	// Vpc is the VPC of the job runs' network interfaces, or nil with NoVpc.
	Vpc awsec2.IVpc
	// SecurityGroup is the job runs' security group (no inbound; outbound HTTPS to S3, and to DynamoDB and Glue once
	// they are granted), or nil with NoVpc.
	SecurityGroup awsec2.SecurityGroup

	network       *network
	encryptionKey awskms.IKey
	routed        []*SparkLambda // the functions routed to this application (RouteLargeInputsTo)
	ownBucket     awss3.Bucket   // Bucket when the construct created it (lifecycle rules may be added), else nil
}

// EmrServerlessServicePrincipal is the service principal that assumes the job role.
const EmrServerlessServicePrincipal = "emr-serverless.amazonaws.com"

// NewSparkEmrServerless builds the application, its job role, log group, log bucket (unless given) and network. It
// panics with a *PropsError at synth time when props are invalid (see SparkEmrServerlessProps.Validate), and with an
// error when the embedded version lock or Spark defaults cannot be read (a broken build of this module).
func NewSparkEmrServerless(scope constructs.Construct, id string, props *SparkEmrServerlessProps) *SparkEmrServerless {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	sparkDefaults, err := EmrSparkDefaults(props.Framework)
	if err != nil {
		panic(fmt.Errorf("SparkEmrServerless: %w", err))
	}
	this := constructs.NewConstruct(scope, jsii.String(id))
	e := &SparkEmrServerless{Construct: this, Framework: props.Framework, ReleaseLabel: EmrReleaseLabel(),
		LogPrefix: props.logPrefix(), encryptionKey: props.EncryptionKey}
	retention := props.logRetention()

	if props.EncryptionKey != nil {
		allowLogsToUseKey(this, props.EncryptionKey)
	}
	e.LogGroup = awslogs.NewLogGroup(this, jsii.String("LogGroup"), &awslogs.LogGroupProps{Retention: retention,
		EncryptionKey: props.EncryptionKey})
	e.Bucket = props.LogBucket
	if e.Bucket == nil {
		e.ownBucket = newEmrBucket(this, props.EncryptionKey, e.LogPrefix, retention)
		e.Bucket = e.ownBucket
	}
	e.network = newNetwork(this, props.networkSpec())
	e.Vpc, e.SecurityGroup = e.network.vpc, e.network.securityGroup

	e.Application = awsemrserverless.NewCfnApplication(this, jsii.String("Application"), &awsemrserverless.CfnApplicationProps{
		Type:                   jsii.String("SPARK"),
		ReleaseLabel:           jsii.String(e.ReleaseLabel),
		Architecture:           jsii.String("X86_64"),
		AutoStartConfiguration: &awsemrserverless.CfnApplication_AutoStartConfigurationProperty{Enabled: jsii.Bool(props.AutoStart == nil || *props.AutoStart)},
		AutoStopConfiguration: &awsemrserverless.CfnApplication_AutoStopConfigurationProperty{
			Enabled:            jsii.Bool(true),
			IdleTimeoutMinutes: jsii.Number(float64(props.autoStopIdleMinutes())),
		},
		MaximumCapacity: &awsemrserverless.CfnApplication_MaximumAllowedResourcesProperty{
			Cpu:    jsii.String(fmt.Sprintf("%d vCPU", props.maximumVcpu())),
			Memory: jsii.String(fmt.Sprintf("%d GB", props.maximumMemoryGB())),
			Disk:   jsii.String(fmt.Sprintf("%d GB", props.maximumDiskGB())),
		},
		InitialCapacity:         initialCapacity(props.PreInitializedCapacity),
		MonitoringConfiguration: e.monitoringConfiguration(),
		RuntimeConfiguration: &[]*awsemrserverless.CfnApplication_ConfigurationObjectProperty{{
			Classification: jsii.String("spark-defaults"),
			Properties:     sparkDefaultsProperties(sparkDefaults),
		}},
		NetworkConfiguration: e.networkConfiguration(),
	})
	e.ApplicationId, e.ApplicationArn = e.Application.AttrApplicationId(), e.Application.AttrArn()

	e.JobRole = awsiam.NewRole(this, jsii.String("JobRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String(EmrServerlessServicePrincipal), &awsiam.ServicePrincipalOpts{
			// The confused-deputy guard of the IAM User Guide: only this account's application may pass the role.
			// Both the application's ARN and its job runs' ARNs (below it) are accepted as the source.
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(this).Account()},
				"ArnLike":      map[string]any{"aws:SourceArn": []*string{e.ApplicationArn, jsii.String(*e.ApplicationArn + "/*")}},
			},
		}),
		Description: jsii.String(fmt.Sprintf("Spark %s EMR Serverless job role (least privilege)", props.Framework)),
	})
	e.grantLogs()
	addEmrCheckovSkips(e)
	return e
}

// monitoringConfiguration sends the job runs' logs to Bucket under LogPrefix and to LogGroup (driver stdout and
// stderr, EMR Serverless's default log types), both encrypted with the construct's key when it has one.
func (e *SparkEmrServerless) monitoringConfiguration() *awsemrserverless.CfnApplication_MonitoringConfigurationProperty {
	var keyArn *string
	if e.encryptionKey != nil {
		keyArn = e.encryptionKey.KeyArn()
	}
	return &awsemrserverless.CfnApplication_MonitoringConfigurationProperty{
		S3MonitoringConfiguration: &awsemrserverless.CfnApplication_S3MonitoringConfigurationProperty{
			LogUri:           jsii.String(fmt.Sprintf("s3://%s/%s", *e.Bucket.BucketName(), e.LogPrefix)),
			EncryptionKeyArn: keyArn,
		},
		CloudWatchLoggingConfiguration: &awsemrserverless.CfnApplication_CloudWatchLoggingConfigurationProperty{
			Enabled:          jsii.Bool(true),
			LogGroupName:     e.LogGroup.LogGroupName(),
			EncryptionKeyArn: keyArn,
		},
	}
}

// networkConfiguration attaches the job runs to the construct's subnets and security group, or returns nil (NoVpc).
func (e *SparkEmrServerless) networkConfiguration() *awsemrserverless.CfnApplication_NetworkConfigurationProperty {
	if e.network.vpc == nil {
		return nil
	}
	return &awsemrserverless.CfnApplication_NetworkConfigurationProperty{
		SubnetIds:        e.network.vpc.SelectSubnets(e.network.subnets).SubnetIds,
		SecurityGroupIds: &[]*string{e.network.securityGroup.SecurityGroupId()},
	}
}

// initialCapacity is the L1's InitialCapacity for capacity (nil for none): one entry per kind with workers.
func initialCapacity(capacity *EmrPreInitializedCapacity) any {
	if capacity == nil {
		return nil
	}
	var entries []any
	for _, kind := range []struct {
		key     string
		workers EmrWorkers
	}{{"Driver", capacity.Driver}, {"Executor", capacity.Executor}} {
		if kind.workers.Count == 0 {
			continue
		}
		vcpu, memory, disk := kind.workers.workerSize()
		entries = append(entries, &awsemrserverless.CfnApplication_InitialCapacityConfigKeyValuePairProperty{
			Key: jsii.String(kind.key),
			Value: &awsemrserverless.CfnApplication_InitialCapacityConfigProperty{
				WorkerCount:         jsii.Number(float64(kind.workers.Count)),
				WorkerConfiguration: &awsemrserverless.CfnApplication_WorkerConfigurationProperty{Cpu: jsii.String(vcpu), Memory: jsii.String(memory), Disk: jsii.String(disk)},
			},
		})
	}
	return entries
}

// sparkDefaultsProperties is properties as the L1's Properties map, in a stable order.
func sparkDefaultsProperties(properties map[string]string) *map[string]*string {
	out := make(map[string]*string, len(properties))
	for _, key := range sortedKeys(properties) {
		out[key] = jsii.String(properties[key])
	}
	return &out
}

// newEmrBucket creates the bucket of the job runs' logs: SSE-S3 (SSE-KMS with key), TLS only, public access blocked,
// versioned, and the objects under logPrefix (and their old versions) expiring after retention.
func newEmrBucket(scope constructs.Construct, key awskms.IKey, logPrefix string, retention awslogs.RetentionDays) awss3.Bucket {
	encryption := awss3.BucketEncryption_S3_MANAGED
	if key != nil {
		encryption = awss3.BucketEncryption_KMS
	}
	days := awscdk.Duration_Days(jsii.Number(retentionDays(retention)))
	bucket := awss3.NewBucket(scope, jsii.String("Bucket"), &awss3.BucketProps{
		Encryption:        encryption,
		EncryptionKey:     key,
		BucketKeyEnabled:  jsii.Bool(key != nil),
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("ExpireJobRunLogs"),
			Prefix:                      jsii.String(logPrefix),
			Expiration:                  days,
			NoncurrentVersionExpiration: days,
		}},
	})
	suppressEmrBucket(bucket)
	return bucket
}

// retentionDays is the number of days of a CloudWatch Logs retention (awslogs.RetentionDays names them; the numbers
// are CloudWatch Logs' retention values). A never-expiring or unknown retention keeps the S3 logs 10 years.
func retentionDays(retention awslogs.RetentionDays) float64 {
	days := map[awslogs.RetentionDays]float64{
		awslogs.RetentionDays_ONE_DAY: 1, awslogs.RetentionDays_THREE_DAYS: 3, awslogs.RetentionDays_FIVE_DAYS: 5,
		awslogs.RetentionDays_ONE_WEEK: 7, awslogs.RetentionDays_TWO_WEEKS: 14, awslogs.RetentionDays_ONE_MONTH: 30,
		awslogs.RetentionDays_TWO_MONTHS: 60, awslogs.RetentionDays_THREE_MONTHS: 90,
		awslogs.RetentionDays_FOUR_MONTHS: 120, awslogs.RetentionDays_FIVE_MONTHS: 150,
		awslogs.RetentionDays_SIX_MONTHS: 180, awslogs.RetentionDays_ONE_YEAR: 365,
		awslogs.RetentionDays_THIRTEEN_MONTHS: 400, awslogs.RetentionDays_EIGHTEEN_MONTHS: 545,
		awslogs.RetentionDays_TWO_YEARS: 731, awslogs.RetentionDays_THREE_YEARS: 1096,
		awslogs.RetentionDays_FIVE_YEARS: 1827, awslogs.RetentionDays_SIX_YEARS: 2192,
		awslogs.RetentionDays_SEVEN_YEARS: 2557, awslogs.RetentionDays_EIGHT_YEARS: 2922,
		awslogs.RetentionDays_NINE_YEARS: 3288,
	}
	if value, known := days[retention]; known {
		return value
	}
	return 3653
}

// grantLogs lets the job role write the job runs' logs: objects under LogPrefix in Bucket (the CDK's bucket write
// grant), log streams of LogGroup, and describe the log groups of the account and region (EMR Serverless looks the log
// group up by name), and use the construct's key for both.
func (e *SparkEmrServerless) grantLogs() {
	e.Bucket.GrantWrite(e.JobRole, jsii.String(e.LogPrefix+"*"), nil)
	suppressS3PrefixGrantFor(e.JobRole, e.LogPrefix, "EMR Serverless writes each job run's log files under a "+
		"path named by the job run id")
	e.LogGroup.GrantWrite(e.JobRole)
	e.LogGroup.Grant(e.JobRole, jsii.String("logs:DescribeLogStreams"))
	stack := awscdk.Stack_Of(e.Construct)
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: e.JobRole,
		Actions: jsii.Strings("logs:DescribeLogGroups"),
		ResourceArns: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"),
			Resource: jsii.String("log-group"), ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})),
	})
	suppressDescribeLogGroups(e.JobRole)
	if e.encryptionKey != nil {
		e.encryptionKey.GrantEncryptDecrypt(e.JobRole)
		suppressKmsKeyGrant(e.JobRole, e.encryptionKey, "writing the EMR Serverless job runs' logs")
	}
}

// access is the job role as a grantee of the data grants.
func (e *SparkEmrServerless) access() dataAccess {
	return dataAccess{scope: e.Construct, role: e.JobRole, network: e.network}
}

// GrantReadInput lets the job runs list and read objects under prefix in bucket, with the statements
// SparkLambda.GrantReadInput gives a function. It panics with a *PropsError naming GrantReadInput when bucket is nil
// or prefix is not "" or a key prefix ending in "/" (no leading "/", "s3://" or "*").
func (e *SparkEmrServerless) GrantReadInput(bucket awss3.IBucket, prefix string) awsiam.Grant {
	checkGrantArgs("SparkEmrServerless.GrantReadInput", bucket, prefix, "data/")
	return grantReadPrefix(e.JobRole, bucket, prefix)
}

// GrantReadWriteTable lets the job runs read, write and delete objects under prefix in bucket (a table location),
// with the statements SparkLambda.GrantReadWriteTable gives a function. It panics with a *PropsError naming
// GrantReadWriteTable when bucket is nil or prefix is not "" or a key prefix ending in "/".
func (e *SparkEmrServerless) GrantReadWriteTable(bucket awss3.IBucket, prefix string) awsiam.Grant {
	checkGrantArgs("SparkEmrServerless.GrantReadWriteTable", bucket, prefix, "tables/")
	return grantReadWritePrefix(e.JobRole, bucket, prefix)
}

// GrantGlueDatabase lets the job runs use the Glue Data Catalog database databaseName and its tables, with the
// statements SparkLambda.GrantGlueDatabase gives a function, and lets them reach the Glue API from the application's
// VPC (as for SparkLambda: an endpoint in a created VPC or with AddGlueEndpoint, else the VPC's route). It panics with
// a *PropsError naming GrantGlueDatabase when databaseName is not a Glue database name.
func (e *SparkEmrServerless) GrantGlueDatabase(databaseName string) awsiam.Grant {
	checkGlueDatabaseArg("SparkEmrServerless.GrantGlueDatabase", databaseName)
	return grantGlueDatabase(e.access(), databaseName)
}
