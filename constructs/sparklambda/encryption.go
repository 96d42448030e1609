package sparklambda

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Key policies for SparkLambdaProps.EncryptionKey. Services that encrypt on the construct's behalf need the key
// policy to allow their service principal (a role grant does not reach them): CloudWatch Logs for the log groups
// (AWS CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS") and EventBridge for a
// dead-letter queue encrypted with a customer managed key (Amazon EventBridge User Guide, "Granting permissions to
// the dead-letter queue"). The CDK adds such grants to the policy of a kms.Key defined in the app; an imported key's
// policy cannot be changed from the app, so the construct warns instead.

// allowLogsToUseKey lets CloudWatch Logs (logs.<region>.amazonaws.com) use key for log groups of the stack's
// account and region, through the CDK's key grant (which writes the key policy of a kms.Key of the app). The encryption-context condition cannot name the function's log
// group: the log group references the key, so the key policy referencing the log group would be a dependency cycle.
func allowLogsToUseKey(scope constructs.Construct, key awskms.IKey) {
	stack := awscdk.Stack_Of(scope)
	logGroups := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Resource: jsii.String("log-group"),
		ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})
	principal := awsiam.NewServicePrincipal(jsii.String("logs."+*stack.Region()+".amazonaws.com"), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]any{"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": logGroups}},
	})
	// The CDK's encrypt/decrypt actions plus kms:DescribeKey, which CloudWatch Logs calls when a key is associated
	// (the key policy of the CloudWatch Logs User Guide grants kms:Describe*).
	if keyPolicyEditable(key) {
		key.Grant(principal, jsii.String("kms:Encrypt"), jsii.String("kms:Decrypt"), jsii.String("kms:ReEncrypt*"),
			jsii.String("kms:GenerateDataKey*"), jsii.String("kms:DescribeKey"))
	} else {
		warnImportedKey(scope, key, "CloudWatch Logs (logs.<region>.amazonaws.com) to encrypt the function's log group "+
			"(kms:Encrypt, kms:Decrypt, kms:ReEncrypt*, kms:GenerateDataKey*, kms:DescribeKey with the encryption "+
			"context kms:EncryptionContext:aws:logs:arn of the log group)")
	}
}

// allowEventBridgeToUseKey lets EventBridge (events.amazonaws.com, for rules of the stack's account only) encrypt
// the events it sends to a dead-letter queue encrypted with key: kms:GenerateDataKey and kms:Decrypt, what SQS
// needs of a sender. The condition names the account, not the rule: the rule references the queue, which references
// the key, so a key policy naming the rule would be a dependency cycle.
func allowEventBridgeToUseKey(scope constructs.Construct, key awskms.IKey) {
	stack := awscdk.Stack_Of(scope)
	principal := awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
	})
	if keyPolicyEditable(key) {
		key.Grant(principal, jsii.String("kms:GenerateDataKey"), jsii.String("kms:Decrypt"))
	} else {
		warnImportedKey(scope, key, "EventBridge (events.amazonaws.com) to send undeliverable scheduled events to the "+
			"failure queue (kms:GenerateDataKey and kms:Decrypt)")
	}
}

// keyPolicyEditable reports whether key is a kms.Key defined in the app, whose key policy the CDK's grants write. For
// an imported key the CDK's grant to a service principal reports success but changes nothing.
func keyPolicyEditable(key awskms.IKey) bool {
	_, defined := key.Node().DefaultChild().(awskms.CfnKey)
	return defined
}

// warnImportedKey adds a synth warning that key's policy, which the app cannot change, must allow what.
func warnImportedKey(scope constructs.Construct, key awskms.IKey, what string) {
	awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("@sparklambda:importedKeyPolicy"), jsii.String(fmt.Sprintf(
		"EncryptionKey %s is imported, so its key policy cannot be changed from this app: it must allow %s, or "+
			"deployment or delivery fails", *key.Node().Path(), what)))
}
