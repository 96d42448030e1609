// Package consumer is a second CDK app that uses the module the way a platform team does, not the way the sample
// app does: its own VPC with a NAT gateway (public, private-with-egress "app" and isolated "spark" subnets), S3
// gateway endpoint requested by the constructs without choosing subnets, two SparkLambdas in different subnet groups
// of that VPC (the ingest job with provisioned concurrency and alarms), buckets encrypted with customer managed
// keys, an existing script bucket with its own key, Glue (with a Glue interface endpoint) for one function only, and
// one EncryptionKey for what the constructs store. The tests in this package synthesize it and check cdk-nag,
// routes, endpoints, environments and roles.
package consumer

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
)

// Names the consumer app uses (and its tests check).
const (
	// ScriptBucketName is the team's existing script bucket (imported, with its own KMS key).
	ScriptBucketName = "team-spark-scripts"
	// ScriptBucketKeyArn is the ARN of the script bucket's own KMS key.
	ScriptBucketKeyArn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	// CurateScriptKey is the key of the curation job's script in the script bucket.
	CurateScriptKey = "jobs/curate.py"
	// GlueDatabase is the Glue database of the curation job.
	GlueDatabase = "curated"
	// IngestTablesPrefix and CurateTablesPrefix are the jobs' table locations in the lake bucket.
	IngestTablesPrefix = "raw_tables/"
	// CurateTablesPrefix is the curation job's table location in the lake bucket.
	CurateTablesPrefix = "curated/"
)

// App is the consumer's stack and what its tests look at.
type App struct {
	Stack awscdk.Stack
	Vpc   awsec2.Vpc
	// Key is the stack's EncryptionKey for both functions.
	Key awskms.Key
	// Ingest runs in the "app" subnets (the CDK's default selection) and writes Delta tables.
	Ingest *sparklambda.SparkLambda
	// Curate runs in the isolated "spark" subnets, writes Iceberg tables through Glue, and reads its script from the
	// existing script bucket.
	Curate *sparklambda.SparkLambda
	// OtherWorkload is a security group of another team's workload in the same VPC, which must still reach the Glue
	// endpoint the constructs add.
	OtherWorkload awsec2.SecurityGroup
}

// Build adds the consumer stack to app; ingestScript is the path of the ingest job's local PySpark file.
func Build(app awscdk.App, ingestScript string) *App {
	stack := awscdk.NewStack(app, jsii.String("Consumer"), &awscdk.StackProps{
		Description: jsii.String("A platform team's stack using the Spark Lambda constructs"),
	})
	c := &App{Stack: stack}
	rotated := &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)}

	c.Key = awskms.NewKey(stack, jsii.String("SparkKey"), rotated)
	// The team's flow log goes to a log group encrypted with the same key the constructs get as EncryptionKey (whose
	// key policy the constructs extend for CloudWatch Logs).
	flowLogs := awslogs.NewLogGroup(stack, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		EncryptionKey: c.Key, Retention: awslogs.RetentionDays_ONE_YEAR,
	})
	c.Vpc = awsec2.NewVpc(stack, jsii.String("Network"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(1),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
			{Name: jsii.String("app"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(22)},
			{Name: jsii.String("spark"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(22)},
		},
		FlowLogs: &map[string]*awsec2.FlowLogOptions{"FlowLog": {
			Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
		}},
	})
	c.OtherWorkload = awsec2.NewSecurityGroup(stack, jsii.String("OtherWorkload"), &awsec2.SecurityGroupProps{
		Vpc: c.Vpc, Description: jsii.String("Another team service in the same VPC"),
	})

	raw := encryptedBucket(stack, "Raw", awskms.NewKey(stack, jsii.String("RawKey"), rotated))
	lake := encryptedBucket(stack, "Lake", awskms.NewKey(stack, jsii.String("LakeKey"), rotated))
	scripts := awss3.Bucket_FromBucketAttributes(stack, jsii.String("Scripts"), &awss3.BucketAttributes{
		BucketName:    jsii.String(ScriptBucketName),
		EncryptionKey: awskms.Key_FromKeyArn(stack, jsii.String("ScriptsKey"), jsii.String(ScriptBucketKeyArn)),
	})

	ingestProvisioned := 1
	c.Ingest = sparklambda.NewSparkLambda(stack, "Ingest", &sparklambda.SparkLambdaProps{
		Framework:       sparklambda.FrameworkDelta,
		ScriptPath:      ingestScript,
		Vpc:             c.Vpc,
		AddS3Endpoint:   true, // no VpcSubnets: the CDK's default selection for Lambda, the "app" subnets
		WarehouseBucket: lake,
		WarehousePrefix: IngestTablesPrefix,
		EncryptionKey:   c.Key,
		// New files are processed by warm environments: the S3 trigger invokes the alias "live".
		ProvisionedConcurrency: &ingestProvisioned,
	})
	c.Ingest.AddS3Trigger(raw, "incoming/2024-", ".csv")
	c.Ingest.AddAlarms(nil)
	c.Ingest.GrantReadInput(raw, "reference/")

	c.Curate = sparklambda.NewSparkLambda(stack, "Curate", &sparklambda.SparkLambdaProps{
		Framework:       sparklambda.FrameworkIceberg,
		ScriptBucket:    scripts,
		ScriptKey:       CurateScriptKey,
		Vpc:             c.Vpc,
		VpcSubnets:      &awsec2.SubnetSelection{SubnetGroupName: jsii.String("spark")},
		AddS3Endpoint:   true,
		GlueDatabase:    GlueDatabase,
		AddGlueEndpoint: true,
		WarehouseBucket: lake,
		WarehousePrefix: CurateTablesPrefix,
		EncryptionKey:   c.Key,
	})
	c.Curate.GrantReadInput(lake, IngestTablesPrefix)
	c.Curate.AddSchedule("Hourly", awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(1))), nil)

	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	return c
}

// encryptedBucket is one of the team's buckets: SSE-KMS with its own key, TLS only, no public access.
func encryptedBucket(scope constructs.Construct, id string, key awskms.IKey) awss3.Bucket {
	bucket := awss3.NewBucket(scope, jsii.String(id), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_KMS,
		EncryptionKey:     key,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Versioned:         jsii.Bool(true),
	})
	// The consumer's own fixture, not the construct's: a real team would log access to a central bucket.
	cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("Test fixture of the consumer app, never deployed: server access logs go to the team's central log bucket in real stacks."),
	}}, jsii.Bool(false))
	sparklambda.AddCheckovSkip(bucket.Node().DefaultChild().(awscdk.CfnResource), "CKV_AWS_18",
		"Test fixture of the consumer app, never deployed: server access logs go to the team's central log bucket in real stacks.")
	return bucket
}
