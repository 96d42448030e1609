package sparklambda_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// TestProvisionedConcurrency synthesizes one stack with a provisioned function wired to every trigger helper and
// checks that each trigger, and the async-invoke config, address the alias, not $LATEST.
func TestProvisionedConcurrency(t *testing.T) {
	app := newTestApp(t)
	stack := awscdk.NewStack(app, jsii.String("Provisioned"), nil)
	provisioned := 2
	spark := sparklambda.NewSparkLambda(stack, "Warm", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t), NoVpc: true,
		ProvisionedConcurrency: &provisioned,
	})
	landing := awss3.NewBucket(stack, jsii.String("Landing"), &awss3.BucketProps{
		EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
	})
	suppressTestBucket(landing)
	spark.AddS3Trigger(landing, "incoming/", "")
	spark.AddSchedule("Nightly", awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(24))), nil)
	ingest := newTestQueue(stack, "Ingest", &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(3600)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: newTestQueue(stack, "IngestDlq", nil), MaxReceiveCount: jsii.Number(3)},
	})
	spark.AddSqsTrigger(ingest, nil)
	spark.AddKinesisTrigger(awskinesis.NewStream(stack, jsii.String("Clicks"), &awskinesis.StreamProps{
		Encryption: awskinesis.StreamEncryption_MANAGED,
	}), nil)
	spark.AddDynamoDBStreamTrigger(awsdynamodb.NewTable(stack, jsii.String("Orders"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Stream:       awsdynamodb.StreamViewType_NEW_IMAGE,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
	}), nil)
	spark.AddMskTrigger("arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0a1b2c3d-1", "orders", nil)

	onDemand := sparklambda.NewSparkLambda(stack, "Cold", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t), NoVpc: true,
	})
	onDemand.AddSchedule("Hourly", awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(1))), nil)

	tpl := cdktest.Template(t, stack)
	alias := cdktest.JSONString(t, map[string]any{"Ref": aliasID(t, tpl)})
	function := functionID(t, tpl, "WarmFunction")

	t.Run("alias on the current version with the provisioned environments", func(t *testing.T) {
		if spark.Alias == nil || spark.InvokeTarget() != spark.Alias {
			t.Fatalf("Alias = %v, InvokeTarget = %v: want the alias", spark.Alias, spark.InvokeTarget())
		}
		if onDemand.Alias != nil || onDemand.InvokeTarget() != onDemand.Function {
			t.Errorf("a function without ProvisionedConcurrency has an alias or invokes something else")
		}
		aliases := cdktest.PropertiesOfType(tpl, "AWS::Lambda::Alias")
		if len(aliases) != 1 {
			t.Fatalf("want exactly one alias, got %d", len(aliases))
		}
		for _, props := range aliases {
			assertProperties(t, "alias", props, map[string]string{
				"Name":                         `"live"`,
				"ProvisionedConcurrencyConfig": `{"ProvisionedConcurrentExecutions":2}`,
				"FunctionName":                 cdktest.JSONString(t, map[string]any{"Ref": function}),
			})
			version := cdktest.JSONString(t, props["FunctionVersion"])
			if !strings.Contains(version, `"Fn::GetAtt":["WarmFunctionCurrentVersion`) || !strings.Contains(version, `"Version"`) {
				t.Errorf("alias FunctionVersion = %s, want the function's current version", version)
			}
		}
		if versions := cdktest.PropertiesOfType(tpl, "AWS::Lambda::Version"); len(versions) != 1 {
			t.Errorf("want one published version (the provisioned function's), got %d", len(versions))
		}
	})

	t.Run("every trigger invokes the alias", func(t *testing.T) {
		mappings := 0
		for id, props := range cdktest.PropertiesOfType(tpl, "AWS::Lambda::EventSourceMapping") {
			mappings++
			// "<function name>:live", the function name taken from the alias's ARN.
			if got := cdktest.JSONString(t, props["FunctionName"]); !strings.Contains(got, alias) || !strings.HasSuffix(got, `":live"]]}`) {
				t.Errorf("event source mapping %s invokes %s, want the alias %s", id, got, alias)
			}
		}
		if mappings != 4 { // SQS, Kinesis, DynamoDB stream, MSK
			t.Errorf("want 4 event source mappings, got %d", mappings)
		}
		notifications := cdktest.JSONString(t, cdktest.PropertiesOfType(tpl, "Custom::S3BucketNotifications"))
		if !strings.Contains(notifications, `"LambdaFunctionArn":`+alias) {
			t.Errorf("the S3 notification does not invoke the alias: %s", notifications)
		}
		for id, rule := range cdktest.PropertiesOfType(tpl, "AWS::Events::Rule") {
			target := cdktest.JSONString(t, cdktest.AsList(rule["Targets"])[0].(map[string]any)["Arn"])
			want := alias
			if strings.HasPrefix(id, "Cold") {
				want = cdktest.JSONString(t, map[string]any{"Fn::GetAtt": []any{functionID(t, tpl, "ColdFunction"), "Arn"}})
			}
			if target != want {
				t.Errorf("rule %s targets %s, want %s", id, target, want)
			}
		}
		// S3 and EventBridge may invoke the alias (a permission on the function alone would not let them).
		principals := map[string]bool{}
		for _, permission := range cdktest.PropertiesOfType(tpl, "AWS::Lambda::Permission") {
			if cdktest.JSONString(t, permission["FunctionName"]) == alias {
				principals[permission["Principal"].(string)] = true
			}
		}
		if !principals["s3.amazonaws.com"] || !principals["events.amazonaws.com"] {
			t.Errorf("invoke permissions on the alias: %v, want s3 and events", principals)
		}
	})

	t.Run("async invocations through the alias fail to the failure queue", func(t *testing.T) {
		qualifiers := map[string]string{}
		for _, config := range cdktest.PropertiesOfType(tpl, "AWS::Lambda::EventInvokeConfig") {
			if !strings.Contains(cdktest.JSONString(t, config["FunctionName"]), "WarmFunction") {
				continue
			}
			qualifier := cdktest.JSONString(t, config["Qualifier"])
			if strings.Contains(qualifier, alias) { // the alias name, taken from the alias's ARN
				qualifier = `"live"`
			}
			qualifiers[qualifier] = cdktest.JSONString(t, config["DestinationConfig"])
		}
		want := `{"OnFailure":{"Destination":` + getAtt(t, tpl, "WarmFailureQueue", "Arn") + `}}`
		for _, qualifier := range []string{`"live"`, `"$LATEST"`} {
			if qualifiers[qualifier] != want {
				t.Errorf("event-invoke config of %s: %q, want %s (all: %v)", qualifier, qualifiers[qualifier], want, qualifiers)
			}
		}
	})

	t.Run("cdk-nag", func(t *testing.T) { cdktest.AssertNoNagErrors(t, stack) })
}

// aliasID returns the logical id of the one AWS::Lambda::Alias in template.
func aliasID(t *testing.T, template map[string]any) string {
	t.Helper()
	for id := range cdktest.ResourcesOfType(template, "AWS::Lambda::Alias") {
		return id
	}
	t.Fatal("no AWS::Lambda::Alias")
	return ""
}

// functionID returns the logical id of the one AWS::Lambda::Function whose logical id starts with prefix.
func functionID(t *testing.T, template map[string]any, prefix string) string {
	t.Helper()
	var found []string
	for id := range cdktest.ResourcesOfType(template, "AWS::Lambda::Function") {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one function %s*, got %v", prefix, found)
	}
	return found[0]
}
