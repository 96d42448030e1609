package sparklambda

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// cdk-nag (AwsSolutions) findings that follow from this construct's deliberate design are suppressed where they
// arise, each with the reason a security reviewer needs, so that a stack using the construct starts from zero
// unsuppressed findings. Findings the user's own choices cause are left for the user to judge.
//
// The package does not import cdk-nag: that jsii bundle would be loaded at synth by every program that imports the
// construct, whether it runs cdk-nag or not. Instead suppress writes cdk-nag's own resource metadata, in the format
// of cdk-nag v2's NagSuppressions.addResourceSuppressions (lib/nag-suppressions.js and
// lib/utils/nag-suppression-helper.js of cdk-nag 2.35.0): the CfnResource metadata entry "cdk_nag" holds
// {"rules_to_suppress": [{"reason": ..., "id": ..., "applies_to": [...]}]}, which cdk-nag's checks read back.

// awsCustomResourceProviderID is the construct id of the singleton Lambda behind every AwsCustomResource in a
// stack (a fixed id in aws-cdk-lib's custom-resources module).
const awsCustomResourceProviderID = "AWS679f53fac002430cb0da5b7982bd2287"

// nagMetadataKey is the CfnResource metadata key cdk-nag reads suppressions from.
const nagMetadataKey = "cdk_nag"

// nagMinReasonLength is the shortest reason cdk-nag accepts (it throws on shorter ones).
const nagMinReasonLength = 10

// nagRegexPattern is the shape of a regex applies_to value, "/pattern/flags": cdk-nag turns it into
// new RegExp(pattern, flags).
var nagRegexPattern = regexp.MustCompile(`^/.*/[a-z]*$`)

// suppress suppresses cdk-nag rule (e.g. "AwsSolutions-IAM5") with reason on every CfnResource in scope (scope
// itself, or its default child, and all constructs below it), as cdk-nag's addResourceSuppressions with
// applyToChildren=true does. appliesTo narrows the suppression to findings (strings such as "Resource::*", or
// values of appliesToRegex); without it the whole rule is suppressed. Suppressions already on a resource are kept
// and an identical one is not added twice. It panics, as cdk-nag throws, when the reason is shorter than 10
// characters, the rule id names a finding ("[...]") or an appliesTo value is neither a string nor an
// appliesToRegex value: those are programming errors in this package.
func suppress(scope constructs.IConstruct, rule, reason string, appliesTo ...any) {
	entry := nagSuppression(rule, reason, appliesTo)
	for _, child := range *scope.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if resource := cfnResourceOf(child); resource != nil {
			addNagSuppression(resource, entry)
		}
	}
}

// appliesToRegex builds a cdk-nag granular suppression that matches findings by a JavaScript regular expression,
// encoded as cdk-nag's RegexAppliesTo ({"regex": "/pattern/g"}).
func appliesToRegex(pattern string) any {
	return map[string]any{"regex": "/" + pattern + "/g"}
}

// nagSuppression is one entry of rules_to_suppress in cdk-nag's CloudFormation format (NagSuppressionHelper's
// toCfnFormat): a reason with a character above U+00FF is stored base64-encoded with is_reason_encoded=true.
func nagSuppression(rule, reason string, appliesTo []any) map[string]any {
	if utf8.RuneCountInString(reason) < nagMinReasonLength {
		panic(fmt.Sprintf("cdk-nag suppression of %s: the reason %q is shorter than %d characters", rule, reason,
			nagMinReasonLength))
	}
	if strings.Contains(rule, "[") {
		panic(fmt.Sprintf("cdk-nag suppression %q names a finding: pass the finding as appliesTo", rule))
	}
	entry := map[string]any{"id": rule, "reason": reason}
	if strings.IndexFunc(reason, func(r rune) bool { return r > 0xff }) >= 0 {
		entry["reason"] = base64.StdEncoding.EncodeToString([]byte(reason))
		entry["is_reason_encoded"] = true
	}
	if len(appliesTo) > 0 {
		findings := make([]any, 0, len(appliesTo))
		for _, finding := range appliesTo {
			switch value := finding.(type) {
			case string:
				findings = append(findings, value)
			case map[string]any:
				if regex, ok := value["regex"].(string); ok && len(value) == 1 && nagRegexPattern.MatchString(regex) {
					findings = append(findings, value)
					continue
				}
				panic(fmt.Sprintf("cdk-nag suppression of %s: appliesTo %v is not a value of appliesToRegex", rule, value))
			default:
				panic(fmt.Sprintf("cdk-nag suppression of %s: appliesTo %v (%T) is neither a string nor a value of "+
					"appliesToRegex", rule, finding, finding))
			}
		}
		entry["applies_to"] = findings
	}
	return entry
}

// addNagSuppression appends entry to the cdk_nag metadata of resource unless an identical entry is there already
// (cdk-nag's addRulesToMetadata deduplicates the same way).
func addNagSuppression(resource awscdk.CfnResource, entry map[string]any) {
	var rules []any
	if existing, ok := resource.GetMetadata(jsii.String(nagMetadataKey)).(map[string]any); ok {
		rules, _ = existing["rules_to_suppress"].([]any)
	}
	key := canonicalJSON(entry)
	for _, rule := range rules {
		if canonicalJSON(rule) == key {
			return
		}
	}
	rules = append(rules, entry)
	resource.AddMetadata(jsii.String(nagMetadataKey), map[string]any{"rules_to_suppress": rules})
}

// canonicalJSON is value as JSON with sorted object keys, to compare metadata entries.
func canonicalJSON(value any) string {
	raw, err := json.Marshal(value)
	if err != nil {
		panic(fmt.Sprintf("metadata entry %v is not JSON: %v", value, err))
	}
	return string(raw)
}

// cfnResourceOf returns construct's default child when it has one, else construct itself, as a CfnResource, or
// nil when that is not a CloudFormation resource (the rule cdk-nag's addResourceSuppressions applies).
func cfnResourceOf(construct constructs.IConstruct) awscdk.CfnResource {
	candidate := construct
	if child := construct.Node().DefaultChild(); child != nil {
		candidate = child
	}
	if !*awscdk.CfnResource_IsCfnResource(candidate) {
		return nil
	}
	resource, ok := candidate.(awscdk.CfnResource)
	if !ok {
		panic(fmt.Sprintf("%s is a CfnResource but its Go proxy (%T) is not awscdk.CfnResource", *candidate.Node().Path(),
			candidate))
	}
	return resource
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
	suppressS3PrefixGrantFor(role, prefix, "Spark reads inputs and table formats (Hudi, Delta, Iceberg) write, "+
		"rewrite and expire many data and metadata files whose names are generated at run time")
}

// suppressS3PrefixGrantFor covers the object wildcards of a bucket grant on prefix + "*"; why says why the object
// names are not known in advance.
func suppressS3PrefixGrantFor(role constructs.IConstruct, prefix, why string) {
	suppress(role, "AwsSolutions-IAM5",
		why+", so object access is granted on the declared "+
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

// suppressEmrBucket covers the server access logs rule on the bucket the SparkEmrServerless creates for its job
// runs' logs (and the staging prefix of RouteLargeInputsTo).
func suppressEmrBucket(bucket constructs.IConstruct) {
	suppress(bucket, "AwsSolutions-S1",
		"This bucket holds the EMR Serverless job runs' own logs and short-lived staged events; its objects are "+
			"written only by the application's job role and the routing function's role (both least privilege, TLS "+
			"only, public access blocked). Pass SparkEmrServerlessProps.LogBucket to use a bucket with access logging.")
}

// suppressDescribeLogGroups covers the one wildcard of the job role's CloudWatch logging grant.
func suppressDescribeLogGroups(role constructs.IConstruct) {
	suppress(role, "AwsSolutions-IAM5",
		"EMR Serverless looks up the job runs' log group by name with the job role (logs:DescribeLogGroups, a "+
			"list action over the log groups of this account and region, which returns no log data); writing is "+
			"granted on the application's own log group only.",
		appliesToRegex(`^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:\*$`))
}

// suppressEmrRouting covers the job-run ARNs of the function's StartJobRun grant (RouteLargeInputsTo).
func suppressEmrRouting(role constructs.IConstruct) {
	suppress(role, "AwsSolutions-IAM5",
		"emr-serverless:StartJobRun is granted on the one routed EMR Serverless application and its job runs "+
			"(<application ARN>/jobruns/*): job run ids are generated by EMR Serverless when the run starts.",
		appliesToRegex(`^Resource::<.*Application[A-Za-z0-9]*\.Arn>/jobruns/\*$`))
}
