package sparklambda_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// checkovSkips returns, by logical id, the check ids that each resource of stack skips in its Metadata, and fails
// when a skip has no comment a reviewer could read.
func checkovSkips(t *testing.T, stack awscdk.Stack) map[string]string {
	t.Helper()
	out := map[string]string{}
	resources, _ := cdktest.TemplateJSON(t, assertions.Template_FromStack(stack, nil))["Resources"].(map[string]any)
	for id, value := range resources {
		metadata, _ := value.(map[string]any)["Metadata"].(map[string]any)
		checkov, ok := metadata["checkov"].(map[string]any)
		if !ok {
			continue
		}
		var ids []string
		for _, skip := range checkov["skip"].([]any) {
			entry := skip.(map[string]any)
			if comment, _ := entry["comment"].(string); len(comment) < 40 {
				t.Errorf("%s skips %v without a reason a reviewer can judge: %q", id, entry["id"], comment)
			}
			ids = append(ids, entry["id"].(string))
		}
		sort.Strings(ids)
		out[id] = strings.Join(ids, ",")
	}
	return out
}

// assertSkips compares the skips of stack with want, whose keys are logical-id prefixes (each matching one resource).
func assertSkips(t *testing.T, stack awscdk.Stack, want map[string]string) {
	t.Helper()
	got := checkovSkips(t, stack)
	matched := map[string]string{}
	for id, ids := range got {
		for prefix := range want {
			if strings.HasPrefix(id, prefix) {
				matched[prefix] = ids
				delete(got, id)
			}
		}
	}
	for prefix, ids := range want {
		if matched[prefix] != ids {
			t.Errorf("%s*: checkov skips %q, want %q", prefix, matched[prefix], ids)
		}
	}
	for id, ids := range got {
		t.Errorf("%s: unexpected checkov skips %q", id, ids)
	}
}

// The construct's resources skip the checkov checks they fail by design, each with its reason, and so do the CDK
// helper Lambdas it adds to the stack; nothing else is skipped.
func TestCheckovSkipsByDefault(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Defaults"), nil)
	sparklambda.NewSparkLambda(stack, "Spark", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t),
	})
	assertSkips(t, stack, map[string]string{
		"SparkFunction":                        "CKV_AWS_115,CKV_AWS_116,CKV_AWS_173",
		"SparkLogGroup":                        "CKV_AWS_158",
		"SparkFlowLogGroup":                    "CKV_AWS_158",
		"SparkLockTable":                       "CKV_AWS_119",
		"SparkFailureQueue78":                  "CKV_AWS_27",
		"SparkVpcNetworkInterfaces":            "CKV_AWS_111",
		"AWS679f53fac002430cb0da5b7982bd22872": "CKV_AWS_115,CKV_AWS_116,CKV_AWS_117",
	})
}

// The skips are conditional: a resource that has what the check asks for (a KMS key, reserved concurrency, a
// dead-letter queue), here set through escape hatches, skips nothing, and a function outside a VPC neither skips
// the VPC check (NoVpc is the user's choice) nor the network-interface wildcard it does not have. The CDK's S3
// notifications handler is skipped once, however many functions the stack holds.
func TestCheckovSkipsAreConditional(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Encrypted"), nil)
	script := writeScript(t)
	spark := sparklambda.NewSparkLambda(stack, "Spark", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkHudi, ScriptPath: script, NoVpc: true,
	})
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	function := spark.Function.Node().DefaultChild().(awslambda.CfnFunction)
	function.SetKmsKeyArn(key.KeyArn())
	function.SetReservedConcurrentExecutions(jsii.Number(5))
	function.SetDeadLetterConfig(&awslambda.CfnFunction_DeadLetterConfigProperty{TargetArn: spark.FailureQueue.QueueArn()})
	spark.LogGroup.Node().DefaultChild().(awslogs.CfnLogGroup).SetKmsKeyId(key.KeyArn())
	spark.LockTable.Node().DefaultChild().(awsdynamodb.CfnTable).SetSseSpecification(
		&awsdynamodb.CfnTable_SSESpecificationProperty{SseEnabled: true, SseType: jsii.String("KMS"), KmsMasterKeyId: key.KeyArn()})
	spark.FailureQueue.Node().DefaultChild().(awssqs.CfnQueue).SetKmsMasterKeyId(key.KeyArn())

	landing := awss3.NewBucket(stack, jsii.String("Landing"), nil)
	spark.AddS3Trigger(landing, "a/", ".csv")
	second := sparklambda.NewSparkLambda(stack, "Second", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkHudi, ScriptPath: script, NoVpc: true, FailureQueue: spark.FailureQueue,
	})
	second.AddS3Trigger(landing, "b/", ".csv")

	assertSkips(t, stack, map[string]string{
		"SecondFunction":             "CKV_AWS_115,CKV_AWS_116,CKV_AWS_173",
		"SecondLogGroup":             "CKV_AWS_158",
		"SecondLockTable":            "CKV_AWS_119",
		"BucketNotificationsHandler": "CKV_AWS_115,CKV_AWS_116,CKV_AWS_117",
	})
}

// AddCheckovSkip keeps the resource's other metadata and skips, replaces the comment of a check skipped again, and
// refuses a skip without a reason.
func TestAddCheckovSkip(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Skip"), nil)
	queue := awssqs.NewQueue(stack, jsii.String("Queue"), nil).Node().DefaultChild().(awssqs.CfnQueue)
	queue.AddMetadata(jsii.String("team"), "data-platform")
	sparklambda.AddCheckovSkip(queue, "CKV_AWS_27", "first reason, replaced below by the second one")
	sparklambda.AddCheckovSkip(queue, "CKV_AWS_999", "another check, kept when CKV_AWS_27 is skipped again")
	sparklambda.AddCheckovSkip(queue, "CKV_AWS_27", "second reason, which replaces the first one")

	metadata := cdktest.TemplateJSON(t, assertions.Template_FromStack(stack, nil))["Resources"].(map[string]any)
	for _, value := range metadata {
		got := value.(map[string]any)["Metadata"].(map[string]any)
		if got["team"] != "data-platform" {
			t.Errorf("other metadata lost: %v", got)
		}
		want := `{"skip":[{"comment":"second reason, which replaces the first one","id":"CKV_AWS_27"},` +
			`{"comment":"another check, kept when CKV_AWS_27 is skipped again","id":"CKV_AWS_999"}]}`
		if cdktest.JSONString(t, got["checkov"]) != want {
			t.Errorf("checkov metadata %s, want %s", cdktest.JSONString(t, got["checkov"]), want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("AddCheckovSkip accepted a skip without a comment")
		}
	}()
	sparklambda.AddCheckovSkip(queue, "CKV_AWS_27", " ")
}
