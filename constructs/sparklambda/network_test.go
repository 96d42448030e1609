package sparklambda_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// TestSharedVpc checks the endpoints the constructs add to a user's VPC when several SparkLambdas of different
// subnet groups share it, the security groups' descriptions, and customer managed encryption (EncryptionKey and
// CMK-encrypted buckets) with cdk-nag. One stack, synthesized once.
func TestSharedVpc(t *testing.T) {
	app := newTestApp(t)
	stack := awscdk.NewStack(app, jsii.String("SharedVpc"), nil)
	script := writeScript(t)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1),
		FlowLogs: &map[string]*awsec2.FlowLogOptions{"FlowLog": {}},
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC},
			{Name: jsii.String("app"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
			{Name: jsii.String("spark"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		},
	})
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	lakeKey := awskms.NewKey(stack, jsii.String("LakeKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	lake := awss3.NewBucket(stack, jsii.String("Lake"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_KMS, EncryptionKey: lakeKey,
		EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
	})
	suppressTestBucket(lake)
	scripts := awss3.Bucket_FromBucketAttributes(stack, jsii.String("Scripts"), &awss3.BucketAttributes{
		BucketName:    jsii.String("team-scripts"),
		EncryptionKey: awskms.Key_FromKeyArn(stack, jsii.String("ScriptsKey"), jsii.String("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")),
	})

	// No VpcSubnets: the CDK's default selection (the "app" subnets). This used to panic inside jsii.
	app1 := sparklambda.NewSparkLambda(stack, "App", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: script, Description: "app",
		Vpc: vpc, AddS3Endpoint: true, AddDynamoDBEndpoint: true, EncryptionKey: key,
		WarehouseBucket: lake, WarehousePrefix: "tables/",
	})
	app1.AddS3Trigger(lake, "incoming/2024-", ".csv")
	app1.AddSchedule("Nightly", awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(24))), nil)
	// Another subnet group, with Glue through an endpoint the construct adds.
	sparklambda.NewSparkLambda(stack, "Spark", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkIceberg, Description: "spark", ScriptBucket: scripts, ScriptKey: "jobs/etl.py",
		Vpc: vpc, VpcSubnets: &awsec2.SubnetSelection{SubnetGroupName: jsii.String("spark")},
		AddS3Endpoint: true, GlueDatabase: "sales", AddGlueEndpoint: true, EncryptionKey: key,
		WarehouseBucket: lake, WarehousePrefix: "iceberg/",
	})
	// Glue through the VPC's NAT route (no endpoint of its own), in the "app" subnets.
	nat := sparklambda.NewSparkLambda(stack, "Nat", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkIceberg, ScriptPath: script, Description: "nat",
		Vpc: vpc, GlueDatabase: "sales", CommitCoordination: sparklambda.CommitCoordinationGlue,
	})
	// A stream trigger of a function without other key grants, whose on-failure queue has its own customer managed key.
	dlq := awssqs.NewQueue(stack, jsii.String("TeamDlq"), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_KMS, EnforceSSL: jsii.Bool(true),
		EncryptionMasterKey: awskms.NewKey(stack, jsii.String("DlqKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)}),
	})
	suppressTestQueue(dlq)
	nat.AddKinesisTrigger(awskinesis.Stream_FromStreamArn(stack, jsii.String("Clicks"),
		jsii.String("arn:aws:kinesis:eu-west-1:123456789012:stream/clicks")), &sparklambda.StreamTriggerOptions{OnFailure: dlq})
	// Subnets selected one by one, with a route table outside the VPC's subnet groups: added to the endpoint.
	extra := awsec2.Subnet_FromSubnetAttributes(stack, jsii.String("ExtraSubnet"), &awsec2.SubnetAttributes{
		SubnetId: jsii.String("subnet-extra"), RouteTableId: jsii.String("rtb-extra"), AvailabilityZone: jsii.String("dummy1a"),
	})
	sparklambda.NewSparkLambda(stack, "Extra", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: script, Description: "extra",
		Vpc: vpc, VpcSubnets: &awsec2.SubnetSelection{Subnets: &[]awsec2.ISubnet{extra}}, AddS3Endpoint: true,
	})

	// An imported key: its policy cannot be changed from the app, so the construct warns.
	imported := sparklambda.NewSparkLambda(stack, "ImportedKey", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: script, Description: "imported-key", NoVpc: true,
		EncryptionKey: awskms.Key_FromKeyArn(stack, jsii.String("TeamKey"),
			jsii.String("arn:aws:kms:eu-west-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab")),
	})
	imported.AddSchedule("Hourly", awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(1))), nil)

	template := assertions.Template_FromStack(stack, nil)
	tpl := cdktest.TemplateJSON(t, template)
	routeTables := func(group string) []string {
		var ids []string
		for _, subnet := range *vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetGroupName: jsii.String(group)}).Subnets {
			ids = append(ids, cdktest.JSONString(t, stack.Resolve(subnet.RouteTable().RouteTableId())))
		}
		return ids
	}

	t.Run("one gateway endpoint per service, routed from every subnet group the functions use", func(t *testing.T) {
		endpoints := map[string][]any{}
		for _, endpoint := range cdktest.ResourcesOfType(tpl, "AWS::EC2::VPCEndpoint") {
			props := endpoint["Properties"].(map[string]any)
			if props["VpcEndpointType"] == "Gateway" {
				service := gatewayService(t, props)
				if endpoints[service] != nil {
					t.Errorf("a second %s gateway endpoint", service)
				}
				endpoints[service] = props["RouteTableIds"].([]any)
			}
		}
		for _, service := range []string{"s3", "dynamodb"} {
			routed := map[string]bool{}
			for _, id := range endpoints[service] {
				routed[cdktest.JSONString(t, id)] = true
			}
			want := append(routeTables("app"), routeTables("spark")...)
			if service == "s3" {
				want = append(want, `"rtb-extra"`)
			}
			for _, id := range want {
				if !routed[id] {
					t.Errorf("%s endpoint is not routed from route table %s: %v", service, id, endpoints[service])
				}
			}
			if len(routed) != len(want) {
				t.Errorf("%s endpoint route tables = %v, want exactly %v (no public subnets, no duplicates)", service, endpoints[service], want)
			}
		}
	})

	t.Run("the Glue endpoint admits HTTPS from the whole VPC, not one security group", func(t *testing.T) {
		var endpointGroups []any
		for _, endpoint := range cdktest.ResourcesOfType(tpl, "AWS::EC2::VPCEndpoint") {
			props := endpoint["Properties"].(map[string]any)
			if props["VpcEndpointType"] == "Interface" {
				if props["PrivateDnsEnabled"] != true {
					t.Errorf("Glue endpoint without private DNS: %v", props)
				}
				endpointGroups = props["SecurityGroupIds"].([]any)
			}
		}
		if len(endpointGroups) != 1 {
			t.Fatalf("want one Glue endpoint with one security group, got %v", endpointGroups)
		}
		group := cdktest.AsList(endpointGroups[0].(map[string]any)["Fn::GetAtt"])[0].(string)
		ingress := cdktest.ResourcesOfType(tpl, "AWS::EC2::SecurityGroup")[group]["Properties"].(map[string]any)["SecurityGroupIngress"]
		vpcCidr := cdktest.JSONString(t, map[string]any{"Fn::GetAtt": []any{"Vpc8378EB38", "CidrBlock"}})
		found := false
		for _, rule := range cdktest.AsList(ingress) {
			rule := rule.(map[string]any)
			if cdktest.JSONString(t, rule["CidrIp"]) == vpcCidr && rule["FromPort"] == 443.0 && rule["ToPort"] == 443.0 {
				found = true
			}
		}
		if !found {
			t.Errorf("Glue endpoint group %s does not admit 443 from the VPC CIDR %s: %v", group, vpcCidr, ingress)
		}
	})

	t.Run("security group descriptions name every egress destination", func(t *testing.T) {
		want := map[string]string{
			"AppSecurityGroup":   "Spark Lambda: no inbound; outbound HTTPS (443) only, to the S3 prefix list, the DynamoDB prefix list",
			"SparkSecurityGroup": "Spark Lambda: no inbound; outbound HTTPS (443) only, to the S3 prefix list, the Glue endpoint",
			"NatSecurityGroup": "Spark Lambda: no inbound; outbound HTTPS (443) only, to the S3 prefix list, " +
				"any IPv4 address (the Glue API through the VPC route)",
		}
		for id, group := range cdktest.ResourcesOfType(tpl, "AWS::EC2::SecurityGroup") {
			for prefix, description := range want {
				if strings.HasPrefix(id, prefix) && group["Properties"].(map[string]any)["GroupDescription"] != description {
					t.Errorf("%s description = %q, want %q", id, group["Properties"].(map[string]any)["GroupDescription"], description)
				}
			}
		}
	})

	t.Run("EncryptionKey: log group, environment, failure queue and lock table", func(t *testing.T) {
		keyArn := map[string]any{"Fn::GetAtt": []any{"Key961B73FD", "Arn"}}
		template.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"KmsKeyId": keyArn})
		template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{"Description": "app", "KmsKeyArn": keyArn})
		template.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{"KmsMasterKeyId": keyArn})
		template.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"SSESpecification": map[string]any{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": keyArn},
		})
		policy := cdktest.JSONString(t, cdktest.ResourcesOfType(tpl, "AWS::KMS::Key")["Key961B73FD"]["Properties"].(map[string]any)["KeyPolicy"])
		for _, fragment := range []string{`"logs.",{"Ref":"AWS::Region"},".amazonaws.com"`, `kms:EncryptionContext:aws:logs:arn`,
			`"Service":"events.amazonaws.com"`, `"aws:SourceAccount":{"Ref":"AWS::AccountId"}`} {
			if !strings.Contains(policy, fragment) {
				t.Errorf("key policy misses %s: %s", fragment, policy)
			}
		}
	})

	t.Run("KMS grants stay on the keys' ARNs", func(t *testing.T) {
		for _, statement := range rolePolicy(t, tpl, "AppRole") {
			for _, action := range cdktest.AsList(statement["Action"]) {
				if strings.HasPrefix(action.(string), "kms:") && cdktest.JSONString(t, statement["Resource"]) == `"*"` {
					t.Errorf("KMS action %s on every resource: %v", action, statement)
				}
			}
		}
	})

	t.Run("an imported EncryptionKey: warnings that its policy must allow CloudWatch Logs and EventBridge", func(t *testing.T) {
		warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("/SharedVpc/ImportedKey"),
			assertions.Match_StringLikeRegexp(jsii.String("TeamKey is imported")))
		text := cdktest.JSONString(t, warnings)
		for _, fragment := range []string{"must allow CloudWatch Logs", "EventBridge (events.amazonaws.com)"} {
			if !strings.Contains(text, fragment) {
				t.Errorf("no warning about %s: %s", fragment, text)
			}
		}
	})

	t.Run("cdk-nag", func(t *testing.T) { cdktest.AssertNoNagErrors(t, stack) })
}
