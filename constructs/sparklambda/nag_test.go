package sparklambda_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// The construct package must not load cdk-nag's jsii bundle into every program that imports it: its suppressions
// are written as cdk-nag's metadata instead (nag.go). cdk-nag is a dependency of the tests and the sample app only.
func TestConstructDoesNotImportCdkNag(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the package's dependencies: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !contains(deps, "github.com/aws/aws-cdk-go/awscdk/v2") {
		t.Fatalf("go list -deps printed no plausible dependency list: %q", out)
	}
	for _, dep := range deps {
		if strings.Contains(dep, "cdk-nag") {
			t.Errorf("constructs/sparklambda depends on %s; write cdk-nag metadata instead of importing cdk-nag", dep)
		}
	}
}

func contains(list []string, want string) bool {
	for _, item := range list {
		if item == want {
			return true
		}
	}
	return false
}

// With its default props, outside a VPC and with triggers, the construct leaves no unsuppressed AwsSolutions
// finding: its own suppressions, written without cdk-nag's library, are read by cdk-nag.
func TestNagCleanConfigurations(t *testing.T) {
	app := newTestApp(t)
	script := writeScript(t)
	defaults := awscdk.NewStack(app, jsii.String("NagDefaults"), nil)
	sparklambda.NewSparkLambda(defaults, "Spark", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: script,
	})
	noVpc := awscdk.NewStack(app, jsii.String("NagNoVpc"), nil)
	sparklambda.NewSparkLambda(noVpc, "Spark", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkHudi, ScriptPath: script, NoVpc: true,
	})
	triggers := awscdk.NewStack(app, jsii.String("NagTriggers"), nil)
	landing := awss3.NewBucket(triggers, jsii.String("Landing"), &awss3.BucketProps{
		EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
	})
	suppressTestBucket(landing)
	spark := sparklambda.NewSparkLambda(triggers, "Spark", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkIceberg, ScriptPath: script, GlueDatabase: "sales",
		WarehouseBucket: landing, WarehousePrefix: "tables/",
	})
	spark.AddS3Trigger(landing, "incoming/", ".csv")
	spark.AddSqsTrigger(newTestQueue(triggers, "Work", &awssqs.QueueProps{VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(3600))}), nil)

	for _, stack := range []awscdk.Stack{defaults, noVpc, triggers} {
		t.Run(*stack.StackName(), func(t *testing.T) { cdktest.AssertNoNagErrors(t, stack) })
	}
}

// nagFindings returns the paths of the resources in stack where cdk-nag reported rule as an error (granular rules
// report "rule[finding]: ...").
func nagFindings(t *testing.T, stack awscdk.Stack, rule string) []string {
	t.Helper()
	var paths []string
	for _, finding := range *assertions.Annotations_FromStack(stack).FindError(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String(rule+`(\[[^\]]*\])?:`))) {
		paths = append(paths, *finding.Id)
	}
	return paths
}

// nagQueue adds a queue whose only AwsSolutions finding is SQS3 (no dead-letter queue).
func nagQueue(scope constructs.Construct, id string) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
	})
}

// nagWildcardRole adds a role whose only AwsSolutions finding is IAM5 on the object wildcard
// "Resource::arn:aws:s3:::lake/tables/*".
func nagWildcardRole(scope constructs.Construct) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("s3:GetObject"), Resources: jsii.Strings("arn:aws:s3:::lake/tables/*"),
	}))
	return role
}

// nagMetadata returns the cdk_nag rules_to_suppress entries of the resources of cfnType in stack, by logical id.
func nagMetadata(t *testing.T, stack awscdk.Stack, cfnType string) map[string][]any {
	t.Helper()
	out := map[string][]any{}
	for id, resource := range cdktest.ResourcesOfType(cdktest.TemplateJSON(t, assertions.Template_FromStack(stack, nil)), cfnType) {
		metadata, _ := resource["Metadata"].(map[string]any)
		nag, _ := metadata["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		out[id] = rules
	}
	return out
}

// A suppression written by the construct's suppress is honoured by cdk-nag: the finding it covers is reported
// without it and disappears with it, for a whole rule, a string or regex appliesTo, a reason cdk-nag stores
// base64-encoded, and on every CfnResource below the construct it is applied to. A non-matching regex leaves the
// finding.
func TestSuppressIsHonouredByCdkNag(t *testing.T) {
	const reason = "Test suppression with a reason long enough for cdk-nag."
	app := newTestApp(t)
	stack := func(id string) awscdk.Stack { return awscdk.NewStack(app, jsii.String(id), nil) }

	unsuppressedQueue := stack("QueueUnsuppressed")
	nagQueue(unsuppressedQueue, "Queue")
	suppressedQueue := stack("QueueSuppressed")
	sparklambda.Suppress(nagQueue(suppressedQueue, "Queue"), "AwsSolutions-SQS3", reason)
	encodedReason := stack("QueueEncodedReason")
	sparklambda.Suppress(nagQueue(encodedReason, "Queue"), "AwsSolutions-SQS3",
		"Queues → dead-letter queues: a reason with characters above U+00FF is stored base64-encoded.")
	children := stack("Children")
	group := constructs.NewConstruct(children, jsii.String("Group"))
	nagQueue(group, "A")
	nagQueue(constructs.NewConstruct(group, jsii.String("Nested")), "B")
	sparklambda.Suppress(group, "AwsSolutions-SQS3", reason)
	otherRule := stack("OtherRule")
	sparklambda.Suppress(nagQueue(otherRule, "Queue"), "AwsSolutions-SQS4", reason)

	unsuppressedRole := stack("RoleUnsuppressed")
	nagWildcardRole(unsuppressedRole)
	stringAppliesTo := stack("RoleString")
	sparklambda.Suppress(nagWildcardRole(stringAppliesTo), "AwsSolutions-IAM5", reason,
		"Resource::arn:aws:s3:::lake/tables/*")
	regexAppliesTo := stack("RoleRegex")
	sparklambda.Suppress(nagWildcardRole(regexAppliesTo), "AwsSolutions-IAM5", reason,
		sparklambda.AppliesToRegex(`^Resource::arn:aws:s3:::lake/tables/\*$`))
	otherRegex := stack("RoleOtherRegex")
	sparklambda.Suppress(nagWildcardRole(otherRegex), "AwsSolutions-IAM5", reason,
		sparklambda.AppliesToRegex(`^Resource::arn:aws:s3:::other/\*$`))

	for _, tc := range []struct {
		stack    awscdk.Stack
		rule     string
		findings int
	}{
		{unsuppressedQueue, "AwsSolutions-SQS3", 1},
		{suppressedQueue, "AwsSolutions-SQS3", 0},
		{encodedReason, "AwsSolutions-SQS3", 0},
		{children, "AwsSolutions-SQS3", 0},
		{otherRule, "AwsSolutions-SQS3", 1},
		{unsuppressedRole, "AwsSolutions-IAM5", 1},
		{stringAppliesTo, "AwsSolutions-IAM5", 0},
		{regexAppliesTo, "AwsSolutions-IAM5", 0},
		{otherRegex, "AwsSolutions-IAM5", 1},
	} {
		t.Run(*tc.stack.StackName(), func(t *testing.T) {
			if got := nagFindings(t, tc.stack, tc.rule); len(got) != tc.findings {
				t.Errorf("%s findings: got %d %v, want %d", tc.rule, len(got), got, tc.findings)
			}
		})
	}
	t.Run("encoded reason", func(t *testing.T) {
		for id, rules := range nagMetadata(t, encodedReason, "AWS::SQS::Queue") {
			entry := rules[0].(map[string]any)
			if entry["is_reason_encoded"] != true || strings.Contains(entry["reason"].(string), "→") {
				t.Errorf("%s: reason not stored base64-encoded as cdk-nag does: %v", id, entry)
			}
		}
	})
}

// Suppressions accumulate as with cdk-nag's own API: adding the same one twice stores it once, and cdk-nag's
// NagSuppressions and suppress add to each other's entries instead of replacing them.
func TestSuppressMergesMetadata(t *testing.T) {
	const reason = "Test suppression with a reason long enough for cdk-nag."
	app := newTestApp(t)
	stack := awscdk.NewStack(app, jsii.String("Merge"), nil)
	queue := nagQueue(stack, "Queue")
	sparklambda.Suppress(queue, "AwsSolutions-SQS3", reason)
	sparklambda.Suppress(queue, "AwsSolutions-SQS3", reason)
	cdknag.NagSuppressions_AddResourceSuppressions(queue, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SQS4"), Reason: jsii.String(reason),
	}}, jsii.Bool(false))
	sparklambda.Suppress(queue, "AwsSolutions-SQS2", reason, "Finding::a", sparklambda.AppliesToRegex("^b$"))

	for id, rules := range nagMetadata(t, stack, "AWS::SQS::Queue") {
		var got []string
		for _, rule := range rules {
			entry := rule.(map[string]any)
			got = append(got, entry["id"].(string))
			if entry["reason"] != reason {
				t.Errorf("%s: reason %v, want %q", id, entry["reason"], reason)
			}
			if entry["id"] == "AwsSolutions-SQS2" && cdktest.JSONString(t, entry["applies_to"]) != `["Finding::a",{"regex":"/^b$/g"}]` {
				t.Errorf("%s: applies_to %s, want a string and a regex in cdk-nag's format", id, cdktest.JSONString(t, entry["applies_to"]))
			}
		}
		if strings.Join(got, ",") != "AwsSolutions-SQS3,AwsSolutions-SQS4,AwsSolutions-SQS2" {
			t.Errorf("%s: rules_to_suppress ids %v, want SQS3 once, then SQS4, then SQS2", id, got)
		}
	}
}

// suppress rejects what cdk-nag would reject when it reads the metadata, at the call instead of at synth.
func TestSuppressRejectsInvalidSuppressions(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Invalid"), nil)
	queue := nagQueue(stack, "Queue")
	for name, call := range map[string]func(){
		"short reason":   func() { sparklambda.Suppress(queue, "AwsSolutions-SQS3", "too short") },
		"finding in id":  func() { sparklambda.Suppress(queue, "AwsSolutions-IAM5[Resource::*]", "a long enough reason") },
		"appliesTo type": func() { sparklambda.Suppress(queue, "AwsSolutions-IAM5", "a long enough reason", 42) },
		"appliesTo regexp": func() {
			sparklambda.Suppress(queue, "AwsSolutions-IAM5", "a long enough reason", map[string]any{"regex": "no slashes"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("suppress accepted a suppression cdk-nag rejects")
				}
			}()
			call()
		})
	}
}
