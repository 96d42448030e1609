package sparklambda_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// newTestApp returns an app whose cloud assembly goes to a per-test temporary directory, with the cdk-nag
// AwsSolutions checks applied (their findings become error annotations).
func newTestApp(t *testing.T) awscdk.App {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	return app
}

// writeScript writes a small PySpark file for constructs that upload their script as an asset.
func writeScript(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.py")
	if err := os.WriteFile(path, []byte("print('hello from spark')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// templateJSON returns the synthesized template of a stack as plain Go values.
func templateJSON(t *testing.T, template assertions.Template) map[string]any {
	t.Helper()
	raw, err := json.Marshal(template.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// resourcesOfType returns the resources of one CloudFormation type, by logical id.
func resourcesOfType(t *testing.T, template map[string]any, cfnType string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	resources, _ := template["Resources"].(map[string]any)
	for id, value := range resources {
		resource := value.(map[string]any)
		if resource["Type"] == cfnType {
			out[id] = resource
		}
	}
	return out
}

// assertNoNagErrors fails when cdk-nag left an unsuppressed AwsSolutions finding on the stack.
func assertNoNagErrors(t *testing.T, stack awscdk.Stack) {
	t.Helper()
	errors := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	for _, finding := range *errors {
		t.Errorf("unsuppressed cdk-nag finding at %s: %v", *finding.Id, finding.Entry.Data)
	}
}

// policyStatements returns the statements of every AWS::IAM::Policy whose logical id starts with rolePrefix
// ("" for all policies in the template).
func policyStatements(t *testing.T, template map[string]any, rolePrefix string) []map[string]any {
	t.Helper()
	var statements []map[string]any
	for id, policy := range resourcesOfType(t, template, "AWS::IAM::Policy") {
		if !strings.HasPrefix(id, rolePrefix) {
			continue
		}
		document := policy["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
		for _, statement := range document["Statement"].([]any) {
			statements = append(statements, statement.(map[string]any))
		}
	}
	return statements
}

func asList(value any) []any {
	if list, ok := value.([]any); ok {
		return list
	}
	return []any{value}
}

// suppressTestBucket documents the cdk-nag findings of a bare bucket that only exists as a grant target in tests.
func suppressTestBucket(bucket awss3.Bucket) {
	cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("Test fixture bucket that is never deployed; it only receives grants."),
	}}, jsii.Bool(false))
}

// suppressTestQueue documents the cdk-nag findings of a queue that only exists as a trigger source in tests.
func suppressTestQueue(queue awssqs.Queue) {
	cdknag.NagSuppressions_AddResourceSuppressions(queue, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("Test fixture queue that is never deployed; some deliberately have no dead-letter queue."),
	}}, jsii.Bool(false))
}
