package consumer_test

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
	"github.com/sparklambda/spark-lambda-cdk/test/consumer"
)

// TestConsumerApp synthesizes the consumer app once and checks what a platform team relies on.
func TestConsumerApp(t *testing.T) {
	outdir, err := os.MkdirTemp("", "consumer-cdk-out-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(outdir)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	c := consumer.Build(app, "../../assets/scripts/table_job.py")
	template := assertions.Template_FromStack(c.Stack, nil)
	tpl := cdktest.TemplateJSON(t, template)
	ingestID := cdktest.LogicalID(c.Stack.Resolve(c.Ingest.Function.FunctionArn()))
	curateID := cdktest.LogicalID(c.Stack.Resolve(c.Curate.Function.FunctionArn()))
	functions := cdktest.PropertiesOfType(tpl, "AWS::Lambda::Function")
	ingest, curate := functions[ingestID], functions[curateID]

	t.Run("cdk-nag AwsSolutions: no unsuppressed finding", func(t *testing.T) {
		findings := assertions.Annotations_FromStack(c.Stack).FindError(jsii.String("*"),
			assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, finding := range *findings {
			t.Errorf("%s: %v", *finding.Id, finding.Entry.Data)
		}
	})

	t.Run("the S3 gateway endpoint is routed from both functions' subnets", func(t *testing.T) {
		routeTableOf := map[string]string{} // subnet logical id -> route table logical id
		for _, association := range cdktest.PropertiesOfType(tpl, "AWS::EC2::SubnetRouteTableAssociation") {
			routeTableOf[cdktest.LogicalID(association["SubnetId"])] = cdktest.LogicalID(association["RouteTableId"])
		}
		var gateways []map[string]any
		for _, endpoint := range cdktest.PropertiesOfType(tpl, "AWS::EC2::VPCEndpoint") {
			if endpoint["VpcEndpointType"] == "Gateway" {
				gateways = append(gateways, endpoint)
			}
		}
		if len(gateways) != 1 {
			t.Fatalf("want one gateway endpoint (S3) for two functions that asked for it, got %d", len(gateways))
		}
		routed := map[string]bool{}
		for _, id := range gateways[0]["RouteTableIds"].([]any) {
			routed[cdktest.LogicalID(id)] = true
		}
		for name, function := range map[string]map[string]any{"Ingest": ingest, "Curate": curate} {
			subnets := function["VpcConfig"].(map[string]any)["SubnetIds"].([]any)
			if len(subnets) != 2 {
				t.Errorf("%s runs in %d subnets, want 2 (one per AZ)", name, len(subnets))
			}
			for _, subnet := range subnets {
				if table := routeTableOf[cdktest.LogicalID(subnet)]; table == "" || !routed[table] {
					t.Errorf("%s's subnet %s (route table %q) has no route to the S3 endpoint %v", name, cdktest.LogicalID(subnet), table, routed)
				}
			}
		}
		ingestSubnets := cdktest.JSONString(t, ingest["VpcConfig"].(map[string]any)["SubnetIds"])
		if !strings.Contains(ingestSubnets, "appSubnet") || !strings.Contains(cdktest.JSONString(t, curate["VpcConfig"]), "sparkSubnet") {
			t.Errorf("want Ingest in the app subnets and Curate in the spark subnets: %s / %v", ingestSubnets, curate["VpcConfig"])
		}
	})

	t.Run("the Glue endpoint admits the whole VPC, so other workloads are not narrowed", func(t *testing.T) {
		vpcID := cdktest.LogicalID(c.Stack.Resolve(c.Vpc.VpcId()))
		var interfaces []map[string]any
		for _, endpoint := range cdktest.PropertiesOfType(tpl, "AWS::EC2::VPCEndpoint") {
			if endpoint["VpcEndpointType"] == "Interface" {
				interfaces = append(interfaces, endpoint)
			}
		}
		if len(interfaces) != 1 || !strings.Contains(cdktest.JSONString(t, interfaces[0]["ServiceName"]), ".glue") ||
			interfaces[0]["PrivateDnsEnabled"] != true {
			t.Fatalf("want one Glue interface endpoint with private DNS, got %v", interfaces)
		}
		groups := cdktest.PropertiesOfType(tpl, "AWS::EC2::SecurityGroup")
		admitsVpc := false
		for _, group := range interfaces[0]["SecurityGroupIds"].([]any) {
			for _, rule := range asRules(groups[cdktest.LogicalID(group)]["SecurityGroupIngress"]) {
				cidr, _ := rule["CidrIp"].(map[string]any)
				if cdktest.LogicalID(cidr) == vpcID && cdktest.JSONString(t, cidr["Fn::GetAtt"]) == cdktest.JSONString(t, []any{vpcID, "CidrBlock"}) &&
					rule["FromPort"] == 443.0 && rule["ToPort"] == 443.0 {
					admitsVpc = true
				}
			}
		}
		if !admitsVpc {
			t.Errorf("the Glue endpoint does not admit HTTPS from the VPC CIDR: another workload's Glue calls would be dropped")
		}
		// The other team's security group keeps its default egress (all outbound), which the VPC-wide rule admits.
		other := groups[cdktest.LogicalID(c.Stack.Resolve(c.OtherWorkload.SecurityGroupId()))]
		if !strings.Contains(cdktest.JSONString(t, other["SecurityGroupEgress"]), `"CidrIp":"0.0.0.0/0"`) {
			t.Errorf("another workload's egress was changed: %v", other["SecurityGroupEgress"])
		}
	})

	t.Run("environments", func(t *testing.T) {
		ingestEnv := cdktest.JSONString(t, ingest["Environment"])
		curateEnv := cdktest.JSONString(t, curate["Environment"])
		for _, want := range []string{`"` + sparklambda.EnvFramework + `":"DELTA"`, `"` + sparklambda.EnvCommitCoordination + `":"dynamodb"`,
			`"` + sparklambda.EnvLockTable + `"`, consumer.IngestTablesPrefix} {
			if !strings.Contains(ingestEnv, want) {
				t.Errorf("Ingest environment misses %s: %s", want, ingestEnv)
			}
		}
		if strings.Contains(ingestEnv, sparklambda.EnvGlueDatabase) {
			t.Errorf("Ingest has Glue although only Curate declared a database: %s", ingestEnv)
		}
		for _, want := range []string{`"` + sparklambda.EnvFramework + `":"ICEBERG"`, `"` + sparklambda.EnvGlueDatabase + `":"` + consumer.GlueDatabase + `"`,
			`"` + sparklambda.EnvIcebergCatalogType + `":"glue"`, `"` + sparklambda.EnvScriptBucket + `":"` + consumer.ScriptBucketName + `"`,
			`"` + sparklambda.EnvScriptKey + `":"` + consumer.CurateScriptKey + `"`, consumer.CurateTablesPrefix} {
			if !strings.Contains(curateEnv, want) {
				t.Errorf("Curate environment misses %s: %s", want, curateEnv)
			}
		}
		keyID := cdktest.LogicalID(c.Stack.Resolve(c.Key.KeyArn()))
		for name, function := range map[string]map[string]any{"Ingest": ingest, "Curate": curate} {
			if cdktest.LogicalID(function["KmsKeyArn"]) != keyID {
				t.Errorf("%s environment is not encrypted with the EncryptionKey: %v", name, function["KmsKeyArn"])
			}
		}
	})

	t.Run("roles", func(t *testing.T) {
		policies := map[string]string{} // role logical id -> its policies' statements
		for _, policy := range cdktest.PropertiesOfType(tpl, "AWS::IAM::Policy") {
			for _, role := range policy["Roles"].([]any) {
				policies[cdktest.LogicalID(role)] += cdktest.JSONString(t, policy["PolicyDocument"])
			}
		}
		ingestRole := policies[cdktest.LogicalID(c.Stack.Resolve(c.Ingest.Role.RoleArn()))]
		curateRole := policies[cdktest.LogicalID(c.Stack.Resolve(c.Curate.Role.RoleArn()))]
		if strings.Contains(ingestRole, "glue:") || !strings.Contains(curateRole, "glue:GetTable") {
			t.Errorf("Glue must be granted to Curate only")
		}
		if !strings.Contains(curateRole, `"Action":"kms:Decrypt","Effect":"Allow","Resource":"`+consumer.ScriptBucketKeyArn+`"`) {
			t.Errorf("Curate may not decrypt its script with the script bucket's key: %s", curateRole)
		}
		if !strings.Contains(ingestRole, "dynamodb:PutItem") || strings.Contains(curateRole, "dynamodb:") {
			t.Errorf("only Ingest (Delta) has a lock table")
		}
		for _, policy := range cdktest.PropertiesOfType(tpl, "AWS::IAM::Policy") {
			for _, statement := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				statement := statement.(map[string]any)
				if strings.Contains(cdktest.JSONString(t, statement["Action"]), `"kms:`) && cdktest.JSONString(t, statement["Resource"]) == `"*"` {
					t.Errorf("KMS actions on every key: %v", statement)
				}
			}
		}
	})
}

// asRules returns a security group's ingress or egress rules.
func asRules(value any) []map[string]any {
	var rules []map[string]any
	list, _ := value.([]any)
	for _, rule := range list {
		rules = append(rules, rule.(map[string]any))
	}
	return rules
}
