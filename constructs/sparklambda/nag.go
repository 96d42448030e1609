package sparklambda

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// cdk-nag (AwsSolutions) findings that follow from this construct's deliberate design are suppressed where they
// arise, each with the reason a security reviewer needs, so that a stack using the construct starts from zero
// unsuppressed findings. Findings the user's own choices cause are left for the user to judge.

// awsCustomResourceProviderID is the construct id of the singleton Lambda behind every AwsCustomResource in a
// stack (a fixed id in aws-cdk-lib's custom-resources module).
const awsCustomResourceProviderID = "AWS679f53fac002430cb0da5b7982bd2287"

func suppress(scope constructs.IConstruct, rule, reason string, appliesTo ...any) {
	suppression := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		suppression.AppliesTo = &appliesTo
	}
	cdknag.NagSuppressions_AddResourceSuppressions(scope, &[]*cdknag.NagPackSuppression{suppression}, jsii.Bool(true))
}

// appliesToRegex builds a cdk-nag granular suppression that matches findings by a JavaScript regular expression.
func appliesToRegex(pattern string) any {
	return &cdknag.RegexAppliesTo{Regex: jsii.String("/" + pattern + "/g")}
}

func suppressEniWildcard(role constructs.IConstruct) {
	suppress(role, "AwsSolutions-IAM5",
		"Lambda attaches the function to the VPC through ENIs it creates with the execution role; "+
			"ec2:CreateNetworkInterface/DescribeNetworkInterfaces/DescribeSubnets/DeleteNetworkInterface/Assign-/"+
			"UnassignPrivateIpAddresses are granted on '*' exactly as in the AWS managed policy "+
			"AWSLambdaVPCAccessExecutionRole, which this role deliberately does not attach.",
		"Resource::*")
}

func suppressS3PrefixGrant(role constructs.IConstruct, prefix string) {
	suppress(role, "AwsSolutions-IAM5",
		"Spark reads inputs and table formats (Hudi, Delta, Iceberg) write, rewrite and expire many data and "+
			"metadata files whose names are generated at run time, so object access is granted on the declared "+
			"prefix '"+prefix+"*' only, through the CDK's bucket grants (s3:GetObject*, s3:GetBucket*, s3:List*, "+
			"s3:PutObject*, s3:DeleteObject*, s3:Abort* limited to that bucket and prefix; no s3:*).",
		appliesToRegex(`^Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*$`),
		appliesToRegex(`^Resource::.*/`+regexp.QuoteMeta(prefix)+`\*$`))
}

func suppressGlueTables(role constructs.IConstruct, database string) {
	suppress(role, "AwsSolutions-IAM5",
		"Table names are created by the scripts at run time; Glue access is limited to the tables of the one "+
			"declared database '"+database+"' (table/"+database+"/*).",
		appliesToRegex(`^Resource::arn:<AWS::Partition>:glue:.*:table/`+regexp.QuoteMeta(database)+`/\*$`))
}

// suppressAwsCustomResource covers a prefix-list lookup (S3, DynamoDB) and the CDK's singleton provider Lambda behind
// it.
func suppressAwsCustomResource(stack awscdk.Stack, lookup constructs.IConstruct) {
	suppress(lookup, "AwsSolutions-IAM5",
		"ec2:DescribePrefixLists has no resource-level permissions; the lookup only reads the id of an "+
			"AWS-managed prefix list (S3 or DynamoDB) to write the function's egress rule.",
		"Resource::*")
	if provider := stack.Node().TryFindChild(jsii.String(awsCustomResourceProviderID)); provider != nil {
		suppress(provider, "AwsSolutions-IAM4",
			"The CDK's AwsCustomResource provider Lambda uses AWSLambdaBasicExecutionRole to write its own logs; "+
				"it runs only during deployment to look up AWS-managed prefix lists.",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
		suppress(provider, "AwsSolutions-L1",
			"The runtime of the CDK's AwsCustomResource provider Lambda is chosen by aws-cdk-lib and moves with "+
				"CDK upgrades; it runs only during deployment.")
	}
}

// suppressBucketNotificationsHandler covers the CDK's singleton Lambda that writes S3 bucket notifications.
func suppressBucketNotificationsHandler(stack awscdk.Stack) {
	for _, child := range *stack.Node().Children() {
		if strings.HasPrefix(*child.Node().Id(), "BucketNotificationsHandler") {
			suppress(child, "AwsSolutions-IAM4",
				"The CDK's bucket-notifications handler writes its own logs with AWSLambdaBasicExecutionRole; it runs "+
					"only during deployment to configure the S3 trigger.",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
			suppress(child, "AwsSolutions-IAM5",
				"s3:PutBucketNotification has to be granted by aws-cdk-lib for the buckets of the stack; the handler "+
					"runs only during deployment.")
		}
	}
}

// suppressMskExecutionRole covers the AWS managed policy that the CDK's ManagedKafkaEventSource attaches to the role.
func suppressMskExecutionRole(role constructs.IConstruct) {
	suppress(role, "AwsSolutions-IAM4",
		"AWSLambdaMSKExecutionRole is attached by aws-cdk-lib's ManagedKafkaEventSource: Lambda's MSK pollers need "+
			"it to describe the cluster and create network interfaces in the cluster's subnets, whose ids are not "+
			"known to this stack. The function's own Kafka permissions are scoped to the cluster ARN.",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole")
}

// suppressListStreams covers the one wildcard statement of the CDK's DynamoEventSource grant.
func suppressListStreams(role constructs.IConstruct) {
	suppress(role, "AwsSolutions-IAM5",
		"aws-cdk-lib's DynamoEventSource grants dynamodb:ListStreams on '*', an action without resource-level "+
			"permissions (it only lists stream ARNs); the stream's records are readable on that table's stream ARN only "+
			"(dynamodb:DescribeStream/GetRecords/GetShardIterator).",
		"Resource::*")
}

// suppressKmsKeyGrant covers the two wildcard actions of the CDK's encrypt/decrypt key grant (bucket read/write,
// queue send, table access) that the construct adds to role for key; purpose says what the grant is for.
func suppressKmsKeyGrant(role constructs.IConstruct, key constructs.IConstruct, purpose string) {
	suppress(role, "AwsSolutions-IAM5",
		"The CDK's key grant for "+purpose+" includes kms:GenerateDataKey* and kms:ReEncrypt* (the data-key and "+
			"re-encrypt variants of one operation, not other keys); the statement's only resource is the ARN of the "+
			"customer managed key "+*key.Node().Path()+", so the wildcard spans actions on that one key only.",
		appliesToRegex(`^Action::kms:(GenerateDataKey|ReEncrypt)\*$`))
}

// suppressVpcCidrIngress covers cdk-nag's failure to evaluate AwsSolutions-EC23 (no 0.0.0.0/0 ingress) on the
// security group of an interface endpoint that admits the VPC's CIDR block, which is an intrinsic (Fn::GetAtt).
func suppressVpcCidrIngress(endpoint constructs.IConstruct) {
	suppress(endpoint, "CdkNagValidationFailure",
		"The endpoint's only ingress is HTTPS from the VPC's own CIDR block (Fn::GetAtt of the VPC, which cdk-nag "+
			"cannot evaluate for AwsSolutions-EC23): a private-DNS endpoint must admit every workload of its VPC, and "+
			"nothing outside the VPC.",
		"AwsSolutions-EC23")
}
