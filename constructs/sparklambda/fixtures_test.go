package sparklambda_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// optionsFixture is one stack holding a SparkLambda per option under test (one synth for all option tests).
type optionsFixture struct {
	noVpc, sharedA, sharedB *sparklambda.SparkLambda
}

func newOptionsFixture(t *testing.T, stack awscdk.Stack) *optionsFixture {
	t.Helper()
	script := writeScript(t)
	reserved := 1
	f := &optionsFixture{}

	sparklambda.NewSparkLambda(stack, "Sized", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: script, Description: "sized",
		MemorySizeMiB: 10240, TimeoutSeconds: 900, EphemeralStorageMiB: 10240,
		ReservedConcurrency: &reserved, FunctionName: "spark-sized",
		CommitCoordination: sparklambda.CommitCoordinationNone,
		Environment:        map[string]string{"TEAM": "data-platform"},
		CreateVpc:          true, MaxAzs: 1, LogRetention: awslogs.RetentionDays_ONE_WEEK,
	})

	f.noVpc = sparklambda.NewSparkLambda(stack, "NoVpc", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkHudi, ScriptPath: script, Description: "novpc", NoVpc: true,
	})

	userVpc := awsec2.NewVpc(stack, jsii.String("UserVpc"), &awsec2.VpcProps{
		MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0),
		FlowLogs: &map[string]*awsec2.FlowLogOptions{"FlowLog": {}},
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("app"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
			{Name: jsii.String("db"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		},
	})
	scripts := awss3.Bucket_FromBucketName(stack, jsii.String("TeamScripts"), jsii.String("team-scripts"))
	sparklambda.NewSparkLambda(stack, "Existing", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkHudi, Description: "existing",
		ScriptBucket: scripts, ScriptKey: "jobs/etl.py",
		Vpc: userVpc, VpcSubnets: &awsec2.SubnetSelection{SubnetGroupName: jsii.String("app")}, AddS3Endpoint: true,
		AddDynamoDBEndpoint: true,
	})

	// A second function asking for the same S3 endpoint in the same VPC (one endpoint per VPC); it reaches
	// DynamoDB through the endpoint the first one added (it asks for none itself).
	sparklambda.NewSparkLambda(stack, "Existing2", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkHudi, Description: "existing2", ScriptPath: script,
		Vpc: userVpc, VpcSubnets: &awsec2.SubnetSelection{SubnetGroupName: jsii.String("app")}, AddS3Endpoint: true,
	})
	// Glue in the user's VPC: through its own route, or through an endpoint the construct adds (once per VPC).
	sparklambda.NewSparkLambda(stack, "UserGlue", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkIceberg, Description: "userglue", ScriptPath: script,
		Vpc: userVpc, GlueDatabase: "sales",
	})
	for _, id := range []string{"UserGlueEndpointA", "UserGlueEndpointB"} {
		sparklambda.NewSparkLambda(stack, id, &sparklambda.SparkLambdaProps{
			Framework: sparklambda.FrameworkIceberg, Description: strings.ToLower(id), ScriptPath: script,
			Vpc: userVpc, VpcSubnets: &awsec2.SubnetSelection{SubnetGroupName: jsii.String("app")},
			GlueDatabase: "sales", AddGlueEndpoint: true,
		})
	}

	lake := awss3.NewBucket(stack, jsii.String("Lake"), &awss3.BucketProps{
		EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
	})
	suppressTestBucket(lake)
	sparklambda.NewSparkLambda(stack, "Glue", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkIceberg, ScriptPath: script, Description: "glue", GlueDatabase: "analytics",
	})
	warehouse := sparklambda.NewSparkLambda(stack, "Warehouse", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkIceberg, ScriptPath: script, Description: "warehouse", NoVpc: true,
		WarehouseBucket: lake, WarehousePrefix: "lake/",
	})
	warehouse.GrantReadInput(lake, "incoming/")

	f.sharedA = sparklambda.NewSparkLambda(stack, "SharedA", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: script, Description: "shared-a", NoVpc: true,
	})
	f.sharedB = sparklambda.NewSparkLambda(stack, "SharedB", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: script, Description: "shared-b", NoVpc: true,
		Image: f.sharedA.Image,
	})
	return f
}

// functionsByDescription returns the Properties of each Spark function, keyed by its Description.
func functionsByDescription(t *testing.T, template map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, fn := range cdktest.ResourcesOfType(template, "AWS::Lambda::Function") {
		props := fn["Properties"].(map[string]any)
		if description, ok := props["Description"].(string); ok {
			out[description] = props
		}
	}
	return out
}

func environment(function map[string]any) map[string]any {
	env, _ := function["Environment"].(map[string]any)
	variables, _ := env["Variables"].(map[string]any)
	return variables
}

// rolePolicy returns the statements of the policy attached to the role whose logical id starts with rolePrefix,
// and fails the test when there is none.
func rolePolicy(t *testing.T, template map[string]any, rolePrefix string) []map[string]any {
	t.Helper()
	statements := cdktest.PolicyStatements(template, rolePrefix)
	if len(statements) == 0 {
		t.Fatalf("no policy for role %s", rolePrefix)
	}
	return statements
}

// gatewayService returns the service ("s3", "dynamodb") of a gateway endpoint's Properties, whose ServiceName is
// com.amazonaws.<region>.<service> joined from the region token.
func gatewayService(t *testing.T, endpoint map[string]any) string {
	t.Helper()
	name := cdktest.JSONString(t, endpoint["ServiceName"])
	for _, service := range []string{"s3", "dynamodb"} {
		if strings.Contains(name, `".`+service+`"`) {
			return service
		}
	}
	t.Fatalf("unknown gateway endpoint service %s", name)
	return ""
}

// assertLockTableGrant checks that the role whose logical id starts with rolePrefix may use DynamoDB only through
// exactly the lock-table actions, on exactly the table whose logical id starts with tablePrefix.
func assertLockTableGrant(t *testing.T, template map[string]any, rolePrefix, tablePrefix string) {
	t.Helper()
	want := []any{"dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
		"dynamodb:DeleteItem"}
	grants := 0
	for _, statement := range rolePolicy(t, template, rolePrefix) {
		actions := cdktest.AsList(statement["Action"])
		if !strings.HasPrefix(actions[0].(string), "dynamodb:") {
			continue
		}
		grants++
		if cdktest.JSONString(t, actions) != cdktest.JSONString(t, want) {
			t.Errorf("lock-table actions = %v, want exactly %v", actions, want)
		}
		resources := cdktest.AsList(statement["Resource"])
		arn, _ := resources[0].(map[string]any)["Fn::GetAtt"].([]any)
		if len(resources) != 1 || len(arn) != 2 || !strings.HasPrefix(arn[0].(string), tablePrefix) || arn[1] != "Arn" {
			t.Errorf("lock-table grant is not on the table %s* only: %v", tablePrefix, statement["Resource"])
		}
	}
	if grants != 1 {
		t.Errorf("want one DynamoDB statement for %s, got %d", rolePrefix, grants)
	}
}
