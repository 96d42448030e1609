// Package sample composes the sample app: one stack per table format, each with a KMS key for the function's logs,
// environment, failure queue, lock table and alarm topic, an encrypted bucket that holds
// the sample PySpark script, the sample data and the table location, and a SparkLambda wired to it: new CSV files
// under incoming/ run the job through an S3 trigger, events too large for Lambda go to an EMR Serverless application
// of the same format (RouteLargeInputsTo), the function's alarms notify an SNS topic, and the InvokeCommand output
// runs it once on the sample data.
// apps/sparkapp is the CDK app (package main) that cdk.json runs; the tests in test/ synthesize this package.
package sample

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
)

// FrameworkContextKey is the CDK context key that picks one table format: `cdk synth -c framework=DELTA`.
const FrameworkContextKey = "framework"

// Keys (S3 prefixes) in the sample bucket.
const (
	// ScriptsPrefix holds the sample PySpark scripts (assets/scripts).
	ScriptsPrefix = "scripts/"
	// DataPrefix holds the sample input data (assets/data).
	DataPrefix = "data/"
	// TablesPrefix is the table location (the Spark warehouse).
	TablesPrefix = "tables/"
	// IncomingPrefix is where new CSV files (IncomingSuffix) trigger the job through S3 notifications.
	IncomingPrefix = "incoming/"
)

// IncomingSuffix is the key suffix of the files that trigger the job under IncomingPrefix.
const IncomingSuffix = ".csv"

// SampleScript is the sample PySpark script (in assets/scripts) that every stack runs; it reads SPARK_LAMBDA_FRAMEWORK
// to pick the table format, so the same file runs on Lambda and, unchanged, on EMR Serverless.
const SampleScript = "table_job.py"

// SampleData is the sample CSV (in assets/data) that the sample event points at.
const SampleData = "seattle-weather.csv"

// StackName returns the stack name of a framework's sample stack, e.g. "SparkLambda-Delta".
func StackName(framework sparklambda.Framework) string {
	name := strings.ToLower(string(framework))
	return "SparkLambda-" + strings.ToUpper(name[:1]) + name[1:]
}

// SelectedFrameworks returns the frameworks the app synthesizes: the one named by the `framework` context value,
// or all of them. It returns an error naming the valid values for an unknown name.
func SelectedFrameworks(app awscdk.App) ([]sparklambda.Framework, error) {
	value := app.Node().TryGetContext(jsii.String(FrameworkContextKey))
	if value == nil {
		return sparklambda.Frameworks(), nil
	}
	name, ok := value.(string)
	if !ok {
		return nil, fmt.Errorf("context %q is %v: pass a name, e.g. -c %s=DELTA", FrameworkContextKey, value, FrameworkContextKey)
	}
	framework, err := sparklambda.ParseFramework(name)
	if err != nil {
		return nil, fmt.Errorf("context %q: %w", FrameworkContextKey, err)
	}
	return []sparklambda.Framework{framework}, nil
}

// Build adds the sample stacks for the selected frameworks to app, with the sample files from assetsDir
// (the repository's assets/ directory), and applies the cdk-nag AwsSolutions checks to the app.
func Build(app awscdk.App, assetsDir string) ([]awscdk.Stack, error) {
	// Grant the S3 logging service through a bucket policy, not the legacy AccessControl ACL (cfn-lint W3045).
	// Feature flags must be set before the first construct is added.
	app.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	frameworks, err := SelectedFrameworks(app)
	if err != nil {
		return nil, err
	}
	stacks := make([]awscdk.Stack, 0, len(frameworks))
	for _, framework := range frameworks {
		stacks = append(stacks, NewStack(app, StackName(framework), framework, assetsDir))
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return stacks, nil
}

// NewStack builds one framework's sample stack. The stack is environment-agnostic: it synthesizes without AWS
// credentials, account or region.
func NewStack(scope constructs.Construct, id string, framework sparklambda.Framework, assetsDir string) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Description: jsii.String(fmt.Sprintf("Sample: PySpark on AWS Lambda writing %s tables", framework)),
	})

	accessLogs := awss3.NewBucket(stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(accessLogs, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("This is the server access log bucket of the data bucket; logging it into itself would loop."),
	}}, jsii.Bool(false))
	sparklambda.AddCheckovSkip(accessLogs.Node().DefaultChild().(awss3.CfnBucket), "CKV_AWS_18",
		"This is the server access log bucket of the data bucket; logging it into itself would loop.")

	bucket := awss3.NewBucket(stack, jsii.String("Data"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Versioned:              jsii.Bool(true),
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: jsii.String("data-bucket/"),
	})

	deployment := awss3deployment.NewBucketDeployment(stack, jsii.String("SampleFiles"), &awss3deployment.BucketDeploymentProps{
		Sources:           &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(assetsDir), nil)},
		DestinationBucket: bucket,
		// Keep the tables the function wrote when the sample files change.
		Prune: jsii.Bool(false),
	})

	suppressBucketDeployment(stack)

	// One customer managed key per stack (rotated yearly) for what the construct stores: the function's log group,
	// its environment, its failure queue and its lock table; and for the alarm topic. The sample bucket keeps
	// S3-managed encryption.
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String(fmt.Sprintf("Spark Lambda sample (%s): logs, environment, failure queue, lock table, alarm topic", framework)),
		EnableKeyRotation: jsii.Bool(true),
	})

	props := &sparklambda.SparkLambdaProps{
		EncryptionKey:   key,
		Framework:       framework,
		ScriptBucket:    bucket,
		ScriptKey:       ScriptsPrefix + SampleScript,
		WarehouseBucket: bucket,
		WarehousePrefix: TablesPrefix,
	}
	var database awsglue.CfnDatabase
	if framework == sparklambda.FrameworkIceberg {
		database = awsglue.NewCfnDatabase(stack, jsii.String("GlueDatabase"), &awsglue.CfnDatabaseProps{
			CatalogId: stack.Account(),
			DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
				Name:        jsii.String(GlueDatabaseName),
				Description: jsii.String("Iceberg tables written by the Spark Lambda sample"),
				LocationUri: jsii.String(fmt.Sprintf("s3://%s/%s", *bucket.BucketName(), TablesPrefix)),
			},
		})
		props.GlueDatabase = GlueDatabaseName
	}
	spark := sparklambda.NewSparkLambda(stack, "Spark", props)
	if database != nil {
		spark.Function.Node().AddDependency(database)
	}
	spark.GrantReadInput(bucket, DataPrefix)
	spark.Function.Node().AddDependency(deployment)
	// Every CSV dropped under incoming/ runs the job (asynchronously: retries, then the failure queue). The trigger
	// also lets the function read incoming/.
	spark.AddS3Trigger(bucket, IncomingPrefix, IncomingSuffix)

	// Events whose inputs outgrow Lambda run the same script on EMR Serverless, in the function's VPC (and, for
	// Iceberg, through its Glue endpoint), with the same data grants on the job role; failed job runs land in the
	// function's failure queue.
	emr := sparklambda.NewSparkEmrServerless(stack, "Emr", &sparklambda.SparkEmrServerlessProps{
		Framework:       framework,
		Vpc:             spark.Vpc,
		AddGlueEndpoint: framework == sparklambda.FrameworkIceberg,
		EncryptionKey:   key,
	})
	spark.RouteLargeInputsTo(emr, nil)

	// Alarms (errors, throttles, a run near the timeout, failures kept in the failure queue) notify an SNS topic
	// encrypted with the stack's key; subscribe to it (AlarmTopicArn) to be told.
	alarmTopic := awssns.NewTopic(stack, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String(fmt.Sprintf("Spark Lambda sample (%s) alarms", framework)),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	allowCloudWatchToUseKey(stack, key)
	spark.AddAlarms(&sparklambda.AlarmOptions{Action: awscloudwatchactions.NewSnsAction(alarmTopic)})

	event, err := json.Marshal(SampleEvent(*bucket.BucketName()))
	if err != nil {
		panic(err)
	}
	awscdk.NewCfnOutput(stack, jsii.String("FunctionName"), &awscdk.CfnOutputProps{
		Value: spark.Function.FunctionName(), Description: jsii.String("The Spark Lambda function"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("BucketName"), &awscdk.CfnOutputProps{
		Value: bucket.BucketName(), Description: jsii.String("Bucket with the script (scripts/), data (data/) and tables (tables/); " +
			"a CSV copied to incoming/ runs the job"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("FailureQueueUrl"), &awscdk.CfnOutputProps{
		Value: spark.FailureQueue.QueueUrl(),
		Description: jsii.String("Invocations that failed after Lambda's retries (e.g. from the S3 trigger) are kept " +
			"here for 14 days"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("EmrApplicationId"), &awscdk.CfnOutputProps{
		Value: emr.ApplicationId,
		Description: jsii.String("The EMR Serverless application that runs the job when an event's inputs exceed " +
			"the function's threshold (SPARK_LAMBDA_EMR_THRESHOLD_BYTES); its logs: the application's bucket and log group"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{
		Value:       alarmTopic.TopicArn(),
		Description: jsii.String("The function's CloudWatch alarms notify this SNS topic: subscribe to it"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("InvokeCommand"), &awscdk.CfnOutputProps{
		Description: jsii.String("Run the sample job once (a second run upserts). The CLI must neither time out " +
			"nor retry a long synchronous invoke: a retry would run a second, concurrent writer on the table."),
		Value: awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("AWS_MAX_ATTEMPTS=1 aws lambda invoke --cli-read-timeout 900 --function-name "),
			spark.Function.FunctionName(),
			jsii.String(" --cli-binary-format raw-in-base64-out --payload '"), jsii.String(string(event)),
			jsii.String("' response.json"),
		}),
	})
	return stack
}

// allowCloudWatchToUseKey lets CloudWatch alarms of the stack's account publish to an SNS topic encrypted with key
// (kms:GenerateDataKey* and kms:Decrypt, what an AWS service publishing to an encrypted topic needs; without them
// the alarm's notification fails silently: Amazon SNS Developer Guide, "Enable compatibility between event sources
// from AWS services and encrypted topics").
func allowCloudWatchToUseKey(stack awscdk.Stack, key awskms.Key) {
	key.Grant(awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
	}), jsii.String("kms:GenerateDataKey*"), jsii.String("kms:Decrypt"))
}

// GlueDatabaseName is the Glue Data Catalog database of the Iceberg sample stack.
const GlueDatabaseName = "spark_lambda_sample"

// SampleEvent is the event the sample script expects: where the input CSV is and which table to write.
func SampleEvent(bucketName string) map[string]any {
	return map[string]any{
		"action": "write",
		"input":  fmt.Sprintf("s3://%s/%s%s", bucketName, DataPrefix, SampleData),
		"table":  "seattle_weather",
	}
}

// suppressBucketDeployment documents the cdk-nag and checkov findings of the CDK's BucketDeployment provider, which
// copies the sample files into the bucket at deploy time.
func suppressBucketDeployment(stack awscdk.Stack) {
	for _, child := range *stack.Node().Children() {
		if !strings.HasPrefix(*child.Node().Id(), "Custom::CDKBucketDeployment") {
			continue
		}
		skipBucketDeploymentCheckov(child)
		cdknag.NagSuppressions_AddResourceSuppressions(child, &[]*cdknag.NagPackSuppression{
			{
				Id:        jsii.String("AwsSolutions-IAM4"),
				Reason:    jsii.String("The CDK's BucketDeployment provider Lambda writes its own logs with AWSLambdaBasicExecutionRole; it runs only during deployment."),
				AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
			},
			{
				Id:     jsii.String("AwsSolutions-IAM5"),
				Reason: jsii.String("BucketDeployment copies the sample files from the CDK asset bucket into this stack's data bucket; aws-cdk-lib scopes its grant to those two buckets."),
			},
			{
				Id:     jsii.String("AwsSolutions-L1"),
				Reason: jsii.String("The BucketDeployment provider runtime is chosen by aws-cdk-lib and moves with CDK upgrades; it runs only during deployment."),
			},
		}, jsii.Bool(true))
	}
}

// bucketDeploymentCheckovSkips are the checkov checks the CDK's BucketDeployment provider Lambda fails, with the
// reasons: aws-cdk-lib runs it only while the stack is deployed, to copy the sample files.
var bucketDeploymentCheckovSkips = map[string]string{
	"CKV_AWS_115": "The CDK's BucketDeployment provider Lambda runs only while the stack is deployed; reserving " +
		"concurrency for it would only take concurrency away from the account's other functions.",
	"CKV_AWS_116": "The CDK's BucketDeployment provider Lambda is a custom resource handler: a failed invocation " +
		"fails and rolls back the deployment, which CloudFormation reports; there is nothing to redrive later.",
	"CKV_AWS_117": "The CDK's BucketDeployment provider Lambda copies the sample files from the CDK asset bucket " +
		"through the public S3 API; the sample has no VPC of its own to put it in.",
	"CKV_AWS_173": "The CDK's BucketDeployment provider Lambda has one environment variable, the path of the CA " +
		"bundle in its image (AWS_CA_BUNDLE), no secret; Lambda encrypts it at rest with an AWS-managed key.",
}

// skipBucketDeploymentCheckov adds the checkov skips to the function of the BucketDeployment provider below scope.
func skipBucketDeploymentCheckov(scope constructs.IConstruct) {
	for _, node := range *scope.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if !*awscdk.CfnResource_IsCfnResource(node) || *node.(awscdk.CfnResource).CfnResourceType() != "AWS::Lambda::Function" {
			continue
		}
		for _, id := range []string{"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"} {
			sparklambda.AddCheckovSkip(node.(awscdk.CfnResource), id, bucketDeploymentCheckovSkips[id])
		}
	}
}
