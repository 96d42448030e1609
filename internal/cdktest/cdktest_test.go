package cdktest

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing, to show that a check can fail.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func TestAssertNoS3Wildcards(t *testing.T) {
	document := Decode(t, `{"Statement": [
		{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
		{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
		{"Effect": "Allow", "Action": ["s3:GetObject*", "s3:List*"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/p/*"]},
		{"Effect": "Allow", "Action": "ec2:DescribeSubnets", "Resource": "*"},
		{"Effect": "Deny", "Action": "*", "Resource": "*"}]}`)
	statements := DocumentStatements(document)
	if len(statements) != 5 {
		t.Fatalf("DocumentStatements: got %d statements, want 5", len(statements))
	}
	rec := &recorder{TB: t}
	AssertNoS3Wildcards(rec, "policy", statements)
	if len(rec.failures) != 2 {
		t.Errorf("want exactly the s3:* grant and the S3 action on * reported, got %q", rec.failures)
	}
	rec = &recorder{TB: t}
	AssertNoS3Wildcards(rec, "policy", statements[2:])
	if len(rec.failures) != 0 {
		t.Errorf("prefix-scoped S3 grants, a non-S3 wildcard and a Deny must pass, got %q", rec.failures)
	}
}

func TestLogicalID(t *testing.T) {
	for _, tc := range []struct {
		value any
		want  string
	}{
		{map[string]any{"Ref": "Bucket1"}, "Bucket1"},
		{map[string]any{"Fn::GetAtt": []any{"Role2", "Arn"}}, "Role2"},
		{"literal", ""},
	} {
		if got := LogicalID(tc.value); got != tc.want {
			t.Errorf("LogicalID(%v) = %q, want %q", tc.value, got, tc.want)
		}
	}
}
