// Package cdktest holds the helpers that this module's tests share to read synthesized CloudFormation templates
// and check them: templates as plain Go values, resources by type, IAM policy statements, the S3 wildcard rule and
// unsuppressed cdk-nag findings. It is internal: importers of the constructs never see it.
package cdktest

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Template returns a stack's synthesized template as plain Go values (maps, slices, strings, float64).
func Template(t testing.TB, stack awscdk.Stack) map[string]any {
	t.Helper()
	return TemplateJSON(t, assertions.Template_FromStack(stack, nil))
}

// TemplateJSON returns an assertions.Template as plain Go values.
func TemplateJSON(t testing.TB, template assertions.Template) map[string]any {
	t.Helper()
	return Decode(t, JSONString(t, template.ToJSON()))
}

// ReadJSON reads a JSON document (a template or an asset manifest in a cloud assembly) from path.
func ReadJSON(t testing.TB, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Decode(t, string(raw))
}

// Decode parses a JSON object, failing the test when it is not one.
func Decode(t testing.TB, document string) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(document), &out); err != nil {
		t.Fatalf("decoding JSON: %v", err)
	}
	return out
}

// JSONString returns value as compact JSON, for comparisons and for searching tokens in a property.
func JSONString(t testing.TB, value any) string {
	t.Helper()
	raw, err := json.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// AsList returns value as a list: CloudFormation allows a single value where a list is expected (Action, Resource).
func AsList(value any) []any {
	if list, ok := value.([]any); ok {
		return list
	}
	return []any{value}
}

// ResourcesOfType returns the template's resources of one CloudFormation type (e.g. "AWS::Lambda::Function"), by
// logical id.
func ResourcesOfType(template map[string]any, cfnType string) map[string]map[string]any {
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

// PropertiesOfType returns the Properties of the template's resources of one CloudFormation type, by logical id.
func PropertiesOfType(template map[string]any, cfnType string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, resource := range ResourcesOfType(template, cfnType) {
		properties, _ := resource["Properties"].(map[string]any)
		out[id] = properties
	}
	return out
}

// LogicalID returns the logical id that a {"Ref": id} or {"Fn::GetAtt": [id, attribute]} points at, or "".
func LogicalID(value any) string {
	object, _ := value.(map[string]any)
	if ref, ok := object["Ref"].(string); ok {
		return ref
	}
	if getAtt, ok := object["Fn::GetAtt"].([]any); ok && len(getAtt) > 0 {
		id, _ := getAtt[0].(string)
		return id
	}
	return ""
}

// DocumentStatements returns the statements of an IAM policy document.
func DocumentStatements(document map[string]any) []map[string]any {
	var statements []map[string]any
	for _, statement := range AsList(document["Statement"]) {
		statements = append(statements, statement.(map[string]any))
	}
	return statements
}

// PolicyStatements returns the statements of every AWS::IAM::Policy whose logical id starts with policyPrefix ("" for
// all policies in the template).
func PolicyStatements(template map[string]any, policyPrefix string) []map[string]any {
	var statements []map[string]any
	for id, policy := range ResourcesOfType(template, "AWS::IAM::Policy") {
		if !strings.HasPrefix(id, policyPrefix) {
			continue
		}
		document := policy["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
		statements = append(statements, DocumentStatements(document)...)
	}
	return statements
}

// AssertNoS3Wildcards fails on an Allow statement that grants s3:* or * or any S3 action on Resource "*"; what names
// the policy in the failure message.
func AssertNoS3Wildcards(t testing.TB, what string, statements []map[string]any) {
	t.Helper()
	for _, statement := range statements {
		if statement["Effect"] != "Allow" {
			continue
		}
		resources := AsList(statement["Resource"])
		for _, action := range AsList(statement["Action"]) {
			name := action.(string)
			if name == "s3:*" || name == "*" {
				t.Errorf("%s grants %s: %v", what, name, statement)
			}
			for _, resource := range resources {
				if strings.HasPrefix(name, "s3:") && resource == "*" {
					t.Errorf("%s grants %s on every resource: %v", what, name, statement)
				}
			}
		}
	}
}

// AssertNoNagErrors fails when cdk-nag left an unsuppressed AwsSolutions finding (an error annotation) on stack.
// The stack's app must have had cdk-nag's AwsSolutionsChecks added as an aspect.
func AssertNoNagErrors(t testing.TB, stack awscdk.Stack) {
	t.Helper()
	errors := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	for _, finding := range *errors {
		t.Errorf("unsuppressed cdk-nag finding at %s: %v", *finding.Id, finding.Entry.Data)
	}
}
