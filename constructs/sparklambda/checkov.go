package sparklambda

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// checkov (static analysis of the synthesized CloudFormation) findings that follow from this construct's deliberate
// design are skipped on the resource, with the reason a security reviewer needs, as for cdk-nag in nag.go. checkov
// reads skips from a resource's Metadata: {"checkov": {"skip": [{"id": "CKV_AWS_116", "comment": "..."}]}}
// (checkov documentation, "Suppressing and skipping policies", CloudFormation). Skips that depend on a setting are
// decided when the stack is synthesized, from the L1 resource's properties, by Aspects: a skip for "not encrypted
// with KMS" is only written when the resource has no KMS key, so a key set by a prop or an escape hatch lets
// checkov check the resource again. Findings the user's own choices cause (NoVpc: CKV_AWS_117) are left for the
// user to judge.

// checkovMetadataKey is the CloudFormation Metadata key checkov reads skips from.
const checkovMetadataKey = "checkov"

// checkovStackMarkerID is the id of an empty construct that marks a stack whose CDK singletons get checkov skips
// (so the stack Aspect is added once per stack, however many SparkLambdas it holds).
const checkovStackMarkerID = "SparkLambdaCheckovSkips"

// AddCheckovSkip records in resource's CloudFormation Metadata that checkov check checkID (e.g. "CKV_AWS_116") is
// skipped for comment, the reason a reviewer reads. Skips already on the resource are kept; a second skip of the
// same check replaces its comment. It panics when checkID or comment is empty: a skip without its reason is what
// this function exists to prevent.
func AddCheckovSkip(resource awscdk.CfnResource, checkID, comment string) {
	if strings.TrimSpace(checkID) == "" || strings.TrimSpace(comment) == "" {
		panic(fmt.Sprintf("checkov skip %q on %s needs a check id and a comment", checkID, *resource.Node().Path()))
	}
	var skips []any
	if existing, ok := resource.GetMetadata(jsii.String(checkovMetadataKey)).(map[string]any); ok {
		skips, _ = existing["skip"].([]any)
	}
	entry := map[string]any{"id": checkID, "comment": comment}
	replaced := false
	for i, skip := range skips {
		if previous, ok := skip.(map[string]any); ok && previous["id"] == checkID {
			skips[i], replaced = entry, true
		}
	}
	if !replaced {
		skips = append(skips, entry)
	}
	resource.AddMetadata(jsii.String(checkovMetadataKey), map[string]any{"skip": skips})
}

// addCheckovSkips makes the resources of spark, and the CDK singletons of its stack, carry their checkov skips at
// synthesis.
func addCheckovSkips(spark *SparkLambda) {
	awscdk.Aspects_Of(spark.Construct).Add(&checkovAspect{skips: func(resource awscdk.CfnResource) {
		constructCheckovSkips(spark, resource)
	}}, nil)
	stack := awscdk.Stack_Of(spark.Construct)
	if stack.Node().TryFindChild(jsii.String(checkovStackMarkerID)) == nil {
		constructs.NewConstruct(stack, jsii.String(checkovStackMarkerID))
		awscdk.Aspects_Of(stack).Add(&checkovAspect{skips: singletonCheckovSkips}, nil)
	}
}

// checkovAspect applies skips to every CfnResource it visits.
type checkovAspect struct {
	skips func(resource awscdk.CfnResource)
}

// Visit implements awscdk.IAspect.
func (a *checkovAspect) Visit(node constructs.IConstruct) {
	// A resource whose L1 class the program has not loaded comes as a plain construct; none of the skipped kinds
	// is such a class (the package imports all of theirs).
	if resource, ok := node.(awscdk.CfnResource); ok && *awscdk.CfnResource_IsCfnResource(node) {
		a.skips(resource)
	}
}

// Reasons shared by several resources.
const (
	checkovNoKmsKey = "No customer managed KMS key was given to the construct (SparkLambdaProps.EncryptionKey), so " +
		"this resource uses the service's default encryption at rest with AWS-managed keys; "
	checkovHelperLambda = "This is a deploy-time helper Lambda of aws-cdk-lib (a singleton per stack), invoked by " +
		"CloudFormation only while the stack is deployed; "
)

// constructCheckovSkips skips the checks a SparkLambda's own resources fail by design.
func constructCheckovSkips(spark *SparkLambda, resource awscdk.CfnResource) {
	function, isFunction := resource.(awslambda.CfnFunction)
	logGroup, isLogGroup := resource.(awslogs.CfnLogGroup)
	table, isTable := resource.(awsdynamodb.CfnTable)
	queue, isQueue := resource.(awssqs.CfnQueue)
	switch resourceType := *resource.CfnResourceType(); {
	case resourceType == "AWS::Lambda::Function" && isFunction:
		if function.DeadLetterConfig() == nil {
			AddCheckovSkip(resource, "CKV_AWS_116", "Failed asynchronous invocations go to the function's failure "+
				"queue through Lambda's on-failure destination (AWS::Lambda::EventInvokeConfig), whose record also "+
				"holds the error and the request context; a dead-letter queue as well would put every failure "+
				"twice into that queue.")
		}
		if function.ReservedConcurrentExecutions() == nil {
			AddCheckovSkip(resource, "CKV_AWS_115", "Concurrency is deliberately unreserved by default: reserving "+
				"takes it away from every other function of the account (and needs 100 unreserved executions left), "+
				"and concurrent runs on one table are made safe by commit coordination (a DynamoDB lock table or "+
				"Glue). SparkLambdaProps.ReservedConcurrency reserves and caps it.")
		}
		if function.KmsKeyArn() == nil {
			AddCheckovSkip(resource, "CKV_AWS_173", checkovNoKmsKey+"the environment holds only resource names and "+
				"settings (script bucket and key, framework, warehouse location, Glue database, lock table), no secret.")
		}
	case resourceType == "AWS::Logs::LogGroup" && isLogGroup:
		if logGroup.KmsKeyId() == nil {
			AddCheckovSkip(resource, "CKV_AWS_158", checkovNoKmsKey+"CloudWatch Logs encrypts every log group at "+
				"rest.")
		}
	case resourceType == "AWS::DynamoDB::Table" && isTable:
		if !hasJSONKey(resource, table.SseSpecification(), "kmsMasterKeyId") {
			AddCheckovSkip(resource, "CKV_AWS_119", checkovNoKmsKey+"the lock table holds only short-lived lock "+
				"entries (table locations and lease owners), no table data.")
		}
	case resourceType == "AWS::SQS::Queue" && isQueue:
		if queue.KmsMasterKeyId() == nil && resolvedJSON(resource, queue.SqsManagedSseEnabled()) == true {
			AddCheckovSkip(resource, "CKV_AWS_27", "The queue is encrypted at rest with SQS-managed keys (SSE-SQS, "+
				"SqsManagedSseEnabled), which this check does not recognise; SSE-SQS lets Lambda, EventBridge and "+
				"event source mappings send to it without a KMS key policy.")
		}
	case resourceType == "AWS::IAM::Policy":
		// The network-interface statement has a policy of its own, which exists exactly when the function runs in a
		// VPC (grantVpcNetworkInterfaces); the role's other policies get no skip.
		if spark.vpcPolicy != nil && isUnder(resource, spark.vpcPolicy) {
			AddCheckovSkip(resource, "CKV_AWS_111", "Lambda creates and deletes the function's network interfaces "+
				"in its VPC with the execution role; these EC2 actions (statement LambdaVpcNetworkInterfaces, the "+
				"only statement of this policy) are granted on '*' exactly as in the AWS managed policy "+
				"AWSLambdaVPCAccessExecutionRole, because Lambda calls them before the interface exists.")
		}
	}
}

// addEmrCheckovSkips makes the resources of an EMR Serverless application carry their checkov skips at synthesis.
func addEmrCheckovSkips(emr *SparkEmrServerless) {
	awscdk.Aspects_Of(emr.Construct).Add(&checkovAspect{skips: emrCheckovSkips}, nil)
}

// emrCheckovSkips skips the checks a SparkEmrServerless's own resources fail by design.
func emrCheckovSkips(resource awscdk.CfnResource) {
	logGroup, isLogGroup := resource.(awslogs.CfnLogGroup)
	switch resourceType := *resource.CfnResourceType(); {
	case resourceType == "AWS::Logs::LogGroup" && isLogGroup:
		if logGroup.KmsKeyId() == nil {
			AddCheckovSkip(resource, "CKV_AWS_158", checkovNoKmsKey+"CloudWatch Logs encrypts every log group at "+
				"rest.")
		}
	case resourceType == "AWS::S3::Bucket":
		AddCheckovSkip(resource, "CKV_AWS_18", "This bucket holds the EMR Serverless job runs' own logs and "+
			"short-lived staged events, written only by the job role and the routing function's role; access logging "+
			"it would need a further bucket. SparkEmrServerlessProps.LogBucket takes a bucket with access logging.")
	}
}

// isUnder reports whether construct is scope or below it.
func isUnder(construct, scope constructs.IConstruct) bool {
	path, prefix := *construct.Node().Path(), *scope.Node().Path()
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// singletonCheckovSkips skips the checks that the CDK's own helper Lambdas, added to the stack by the construct
// (the AwsCustomResource provider of the prefix-list lookups, the S3 bucket-notifications handler of AddS3Trigger),
// fail: aws-cdk-lib offers no setting for them.
func singletonCheckovSkips(resource awscdk.CfnResource) {
	if *resource.CfnResourceType() != "AWS::Lambda::Function" {
		return
	}
	// A helper's function sits directly below the helper's singleton construct, a child of the stack.
	scope := resource.Node().Scope()
	if scope == nil || scope.Node().Scope() == nil || !*awscdk.Stack_IsStack(scope.Node().Scope()) {
		return
	}
	id := *scope.Node().Id()
	var task string
	switch {
	case id == awsCustomResourceProviderID:
		task = "it looks up the id of an AWS-managed prefix list (S3, DynamoDB) with ec2:DescribeManagedPrefixLists"
	case strings.HasPrefix(id, "BucketNotificationsHandler"):
		task = "it writes the S3 bucket notification configuration of the S3 triggers"
	default:
		return
	}
	AddCheckovSkip(resource, "CKV_AWS_115", checkovHelperLambda+task+"; reserving concurrency for it would only "+
		"take concurrency away from the account's other functions.")
	AddCheckovSkip(resource, "CKV_AWS_116", checkovHelperLambda+task+"; a failed invocation fails and rolls back "+
		"the deployment, which CloudFormation reports, so there is nothing to keep for a later redrive.")
	AddCheckovSkip(resource, "CKV_AWS_117", checkovHelperLambda+task+"; it calls only public AWS APIs and no "+
		"resource inside a VPC, and aws-cdk-lib has no VPC setting for this singleton.")
}

// hasJSONKey reports whether value, resolved in resource's stack, holds an object key equal to key (ignoring case:
// a resolved L1 struct has camelCase keys, a CloudFormation object PascalCase ones).
func hasJSONKey(resource awscdk.CfnResource, value any, key string) bool {
	found := false
	walkJSON(resolvedJSON(resource, value), func(k string, _ any) { found = found || strings.EqualFold(k, key) })
	return found
}

// resolvedJSON is value with its tokens resolved in resource's stack, as plain JSON values (nil for nil).
func resolvedJSON(resource awscdk.CfnResource, value any) any {
	if value == nil {
		return nil
	}
	raw, err := json.Marshal(awscdk.Stack_Of(resource).Resolve(value))
	if err != nil {
		panic(fmt.Sprintf("%s: a property does not resolve to JSON: %v", *resource.Node().Path(), err))
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(err)
	}
	return out
}

// walkJSON calls visit for every object entry and list element (with key "") below value.
func walkJSON(value any, visit func(key string, value any)) {
	switch v := value.(type) {
	case map[string]any:
		for key, child := range v {
			visit(key, child)
			walkJSON(child, visit)
		}
	case []any:
		for _, child := range v {
			visit("", child)
			walkJSON(child, visit)
		}
	}
}
