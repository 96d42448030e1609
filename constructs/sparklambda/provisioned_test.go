package sparklambda_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// TestProvisionedConcurrencyAndAlarms synthesizes one stack with a provisioned function wired to every trigger helper
// and checks that each trigger, and the async-invoke config, address the alias, not $LATEST; the same stack holds
// the alarms of that function, of an on-demand one and of one with a team's failure queue.
func TestProvisionedConcurrencyAndAlarms(t *testing.T) {
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

	key := awskms.NewKey(stack, jsii.String("AlarmKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	topic := awssns.NewTopic(stack, jsii.String("Pager"), &awssns.TopicProps{MasterKey: key, EnforceSSL: jsii.Bool(true)})
	warmAlarms := spark.AddAlarms(&sparklambda.AlarmOptions{Action: awscloudwatchactions.NewSnsAction(topic)})
	coldAlarms := onDemand.AddAlarms(nil)
	team := sparklambda.NewSparkLambda(stack, "Team", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t), NoVpc: true, TimeoutSeconds: 900,
		FailureQueue: newTestQueue(stack, "TeamFailures", nil),
	})
	teamAlarms := team.AddAlarms(&sparklambda.AlarmOptions{DurationThresholdPercent: 50, PeriodSeconds: 60, EvaluationPeriods: 3})
	var twice any
	func() {
		defer func() { twice = recover() }()
		team.AddAlarms(nil)
	}()

	tpl := cdktest.Template(t, stack)
	alias := cdktest.JSONString(t, map[string]any{"Ref": onlyResourceID(t, tpl, "AWS::Lambda::Alias")})
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

	t.Run("alarms: metrics, dimensions, thresholds, actions", func(t *testing.T) {
		alarms := cdktest.PropertiesOfType(tpl, "AWS::CloudWatch::Alarm")
		byPrefix := func(prefix string) map[string]any {
			t.Helper()
			for id, props := range alarms {
				if strings.HasPrefix(id, prefix) {
					return props
				}
			}
			t.Fatalf("no alarm %s*", prefix)
			return nil
		}
		functionDims := func(id string) string {
			return `[{"Name":"FunctionName","Value":{"Ref":"` + id + `"}}]`
		}
		warm, cold, teamFn := functionID(t, tpl, "WarmFunction"), functionID(t, tpl, "ColdFunction"), functionID(t, tpl, "TeamFunction")
		pager := `[{"Ref":"` + onlyResourceID(t, tpl, "AWS::SNS::Topic") + `"}]`
		common := map[string]string{"ComparisonOperator": `"GreaterThanOrEqualToThreshold"`, "TreatMissingData": `"notBreaching"`}
		cases := []struct {
			prefix string
			want   map[string]string
		}{
			{"WarmAlarmsErrors", map[string]string{"Namespace": `"AWS/Lambda"`, "MetricName": `"Errors"`, "Statistic": `"Sum"`,
				"Dimensions": functionDims(warm), "Threshold": "1", "Period": "300", "EvaluationPeriods": "1", "AlarmActions": pager}},
			{"WarmAlarmsThrottles", map[string]string{"Namespace": `"AWS/Lambda"`, "MetricName": `"Throttles"`, "Statistic": `"Sum"`,
				"Dimensions": functionDims(warm), "Threshold": "1", "AlarmActions": pager}},
			// Default timeout 600 s, 80 % → 480,000 ms.
			{"WarmAlarmsDuration", map[string]string{"Namespace": `"AWS/Lambda"`, "MetricName": `"Duration"`, "Statistic": `"Maximum"`,
				"Dimensions": functionDims(warm), "Threshold": "480000", "AlarmActions": pager}},
			{"WarmAlarmsFailureQueue", map[string]string{"Namespace": `"AWS/SQS"`, "MetricName": `"ApproximateNumberOfMessagesVisible"`,
				"Statistic": `"Maximum"`, "Threshold": "1", "AlarmActions": pager,
				"Dimensions": `[{"Name":"QueueName","Value":` + getAtt(t, tpl, "WarmFailureQueue", "QueueName") + `}]`}},
			{"WarmAlarmsProvisionedSpillover", map[string]string{"Namespace": `"AWS/Lambda"`,
				"MetricName": `"ProvisionedConcurrencySpilloverInvocations"`, "Statistic": `"Sum"`, "Threshold": "1", "AlarmActions": pager,
				"Dimensions": `[{"Name":"FunctionName","Value":{"Ref":"` + warm + `"}},{"Name":"Resource","Value":{"Fn::Join":["",[{"Ref":"` + warm + `"},":live"]]}}]`}},
			{"ColdAlarmsErrors", map[string]string{"Dimensions": functionDims(cold), "AlarmActions": "null", "Period": "300"}},
			{"ColdAlarmsDuration", map[string]string{"Threshold": "480000", "AlarmActions": "null"}},
			{"ColdAlarmsFailureQueue", map[string]string{"MetricName": `"ApproximateNumberOfMessagesVisible"`}},
			// Timeout 900 s, 50 % → 450,000 ms, one-minute periods, three of them.
			{"TeamAlarmsDuration", map[string]string{"Dimensions": functionDims(teamFn), "Threshold": "450000",
				"Period": "60", "EvaluationPeriods": "3"}},
			{"TeamAlarmsErrors", map[string]string{"Period": "60", "EvaluationPeriods": "3"}},
		}
		for _, c := range cases {
			props := byPrefix(c.prefix)
			assertProperties(t, c.prefix, props, common)
			assertProperties(t, c.prefix, props, c.want)
		}
		if len(alarms) != 5+4+3 {
			t.Errorf("want 12 alarms (warm 5, cold 4, team 3), got %d", len(alarms))
		}
		if coldAlarms.ProvisionedSpillover != nil || coldAlarms.FailureQueue == nil || warmAlarms.ProvisionedSpillover == nil {
			t.Errorf("spillover alarm only with an alias, failure-queue alarm only for a created queue: %+v / %+v", coldAlarms, warmAlarms)
		}
		if teamAlarms.FailureQueue != nil || teamAlarms.Errors == nil || teamAlarms.Throttles == nil || teamAlarms.Duration == nil {
			t.Errorf("a team's failure queue gets no alarm, the function's alarms are all there: %+v", teamAlarms)
		}
	})

	t.Run("AddAlarms twice panics with a *PropsError", func(t *testing.T) {
		err, ok := twice.(*sparklambda.PropsError)
		if !ok || !strings.Contains(err.Error(), "AddAlarms was already called") {
			t.Errorf("second AddAlarms: recovered %v, want a *PropsError", twice)
		}
	})

	t.Run("cdk-nag", func(t *testing.T) { cdktest.AssertNoNagErrors(t, stack) })
}

// onlyResourceID returns the logical id of the one resource of cfnType in template.
func onlyResourceID(t *testing.T, template map[string]any, cfnType string) string {
	t.Helper()
	resources := cdktest.ResourcesOfType(template, cfnType)
	if len(resources) != 1 {
		t.Fatalf("want one %s, got %d", cfnType, len(resources))
	}
	for id := range resources {
		return id
	}
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
