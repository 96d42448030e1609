package sparklambda_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
)

// TestTriggers checks that the S3 trigger subscribes the function and grants read on exactly the trigger prefix,
// and that a schedule sends the given event.
func TestTriggers(t *testing.T) {
	app := newTestApp(t)
	stack := awscdk.NewStack(app, jsii.String("Triggers"), nil)
	landing := awss3.NewBucket(stack, jsii.String("Landing"), &awss3.BucketProps{
		EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
	})
	suppressTestBucket(landing)
	spark := sparklambda.NewSparkLambda(stack, "Job", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkHudi, ScriptPath: writeScript(t), NoVpc: true,
	})
	spark.AddS3Trigger(landing, "incoming/", ".csv")
	spark.AddSchedule("Nightly", awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: jsii.String("2"), Minute: jsii.String("0")}),
		map[string]any{"action": "compact", "tables": []string{"orders"}})
	template := assertions.Template_FromStack(stack, nil)
	tpl := templateJSON(t, template)

	notifications := ""
	for _, resource := range resourcesOfType(t, tpl, "Custom::S3BucketNotifications") {
		notifications += jsonString(t, resource["Properties"])
	}
	for _, want := range []string{`"s3:ObjectCreated:*"`, `"Value":"incoming/"`, `"Value":".csv"`} {
		if !strings.Contains(notifications, want) {
			t.Errorf("bucket notification lacks %s: %s", want, notifications)
		}
	}
	read := ""
	for _, statement := range rolePolicy(t, tpl, "JobRole") {
		read += jsonString(t, statement["Resource"])
	}
	if !strings.Contains(read, "/incoming/*") {
		t.Errorf("the function cannot read the trigger prefix: %s", read)
	}

	rules := resourcesOfType(t, tpl, "AWS::Events::Rule")
	if len(rules) != 1 {
		t.Fatalf("want 1 schedule rule, got %d", len(rules))
	}
	for _, rule := range rules {
		props := rule["Properties"].(map[string]any)
		if props["ScheduleExpression"] != "cron(0 2 * * ? *)" {
			t.Errorf("ScheduleExpression = %v", props["ScheduleExpression"])
		}
		input := props["Targets"].([]any)[0].(map[string]any)["Input"]
		if input != `{"action":"compact","tables":["orders"]}` {
			t.Errorf("schedule sends %v", input)
		}
	}
	template.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
		"Principal": "events.amazonaws.com", "Action": "lambda:InvokeFunction",
	})
	assertNoNagErrors(t, stack)
}
