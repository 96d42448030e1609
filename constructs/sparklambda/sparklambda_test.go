package sparklambda_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// TestDefaults synthesizes one SparkLambda with default props once and checks what a platform team relies on.
func TestDefaults(t *testing.T) {
	app := newTestApp(t)
	stack := awscdk.NewStack(app, jsii.String("Defaults"), nil)
	spark := sparklambda.NewSparkLambda(stack, "Spark", &sparklambda.SparkLambdaProps{
		Framework:  sparklambda.FrameworkDelta,
		ScriptPath: writeScript(t),
	})
	template := assertions.Template_FromStack(stack, nil)
	tpl := cdktest.TemplateJSON(t, template)

	t.Run("function", func(t *testing.T) {
		template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(2)) // ours + the prefix-list lookup provider
		template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"PackageType":      "Image",
			"MemorySize":       sparklambda.DefaultMemorySizeMiB,
			"Timeout":          sparklambda.DefaultTimeoutSeconds,
			"EphemeralStorage": map[string]any{"Size": sparklambda.DefaultEphemeralStorageMiB},
			"Architectures":    []any{"x86_64"},
			"Environment": map[string]any{"Variables": map[string]any{
				"SPARK_LAMBDA_FRAMEWORK":     "DELTA",
				"SPARK_LAMBDA_SCRIPT_BUCKET": assertions.Match_AnyValue(),
				"SPARK_LAMBDA_SCRIPT_KEY":    assertions.Match_StringLikeRegexp(jsii.String(`^[0-9a-f]{64}\.py$`)),
			}},
			"VpcConfig": map[string]any{"SubnetIds": assertions.Match_AnyValue(), "SecurityGroupIds": assertions.Match_AnyValue()},
		})
		for _, fn := range cdktest.ResourcesOfType(tpl, "AWS::Lambda::Function") {
			props := fn["Properties"].(map[string]any)
			if props["PackageType"] == "Image" {
				if _, reserved := props["ReservedConcurrentExecutions"]; reserved {
					t.Error("reserved concurrency is set by default; it should be unreserved")
				}
			}
		}
	})

	t.Run("log group keeps 30 days", func(t *testing.T) {
		template.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 30})
		if spark.LogGroup == nil || spark.Role == nil || spark.Image == nil || spark.Function == nil {
			t.Fatal("construct does not expose its function, role, image and log group")
		}
	})

	t.Run("isolated VPC with S3 gateway endpoint and flow log", func(t *testing.T) {
		template.ResourceCountIs(jsii.String("AWS::EC2::InternetGateway"), jsii.Number(0))
		template.ResourceCountIs(jsii.String("AWS::EC2::NatGateway"), jsii.Number(0))
		template.ResourceCountIs(jsii.String("AWS::EC2::Subnet"), jsii.Number(2))
		template.HasResourceProperties(jsii.String("AWS::EC2::Subnet"), map[string]any{"MapPublicIpOnLaunch": false})
		template.HasResourceProperties(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{
			"VpcEndpointType": "Gateway",
			"ServiceName":     assertions.Match_AnyValue(),
		})
		template.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), map[string]any{"TrafficType": "ALL"})
		for id, route := range cdktest.ResourcesOfType(tpl, "AWS::EC2::Route") {
			t.Errorf("isolated subnets must have no routes besides local and the endpoint, found %s: %v", id, route)
		}
	})

	t.Run("security group: no inbound, 443 to the S3 and DynamoDB prefix lists only", func(t *testing.T) {
		for id, sg := range cdktest.ResourcesOfType(tpl, "AWS::EC2::SecurityGroup") {
			props := sg["Properties"].(map[string]any)
			if _, ok := props["SecurityGroupIngress"]; ok {
				t.Errorf("%s has inbound rules: %v", id, props["SecurityGroupIngress"])
			}
			if egress, ok := props["SecurityGroupEgress"]; ok {
				t.Errorf("%s has inline egress (all outbound?): %v", id, egress)
			}
		}
		template.ResourceCountIs(jsii.String("AWS::EC2::SecurityGroupIngress"), jsii.Number(0))
		lookups := map[string]bool{}
		for id, rule := range cdktest.ResourcesOfType(tpl, "AWS::EC2::SecurityGroupEgress") {
			props := rule["Properties"].(map[string]any)
			if props["IpProtocol"] != "tcp" || props["FromPort"] != 443.0 || props["ToPort"] != 443.0 {
				t.Errorf("egress %s is not HTTPS only: %v", id, props)
			}
			target, _ := props["DestinationPrefixListId"].(map[string]any)["Fn::GetAtt"].([]any)
			if len(target) != 2 || target[1] != "PrefixLists.0.PrefixListId" {
				t.Fatalf("egress %s does not go to a looked-up prefix list: %v", id, props)
			}
			lookups[target[0].(string)] = true
		}
		if len(lookups) != 2 {
			t.Fatalf("want egress to 2 prefix lists (S3, DynamoDB), got %v", lookups)
		}
		// Each lookup asks for its own service's list in the stack's region.
		services := ""
		for id := range lookups {
			services += cdktest.JSONString(t, tpl["Resources"].(map[string]any)[id].(map[string]any)["Properties"])
		}
		for _, want := range []string{`".s3\"]`, `".dynamodb\"]`} {
			if !strings.Contains(services, want) {
				t.Errorf("no prefix-list lookup for %s: %s", want, services)
			}
		}
	})

	t.Run("commit coordination: a DynamoDB lock table for Delta's commit lock", func(t *testing.T) {
		if spark.CommitCoordination != sparklambda.CommitCoordinationDynamoDB || spark.LockTable == nil {
			t.Fatalf("CommitCoordination = %q, LockTable = %v; want dynamodb and a table", spark.CommitCoordination, spark.LockTable)
		}
		tables := cdktest.ResourcesOfType(tpl, "AWS::DynamoDB::Table")
		if len(tables) != 1 {
			t.Fatalf("want 1 lock table, got %d", len(tables))
		}
		for id, table := range tables {
			if table["DeletionPolicy"] != "Delete" || table["UpdateReplacePolicy"] != "Delete" {
				t.Errorf("lock table %s is not destroyed with the stack: %v / %v", id, table["DeletionPolicy"], table["UpdateReplacePolicy"])
			}
			props := table["Properties"].(map[string]any)
			want := map[string]string{
				"BillingMode":                      `"PAY_PER_REQUEST"`,
				"KeySchema":                        `[{"AttributeName":"entityId","KeyType":"HASH"}]`,
				"AttributeDefinitions":             `[{"AttributeName":"entityId","AttributeType":"S"}]`,
				"TimeToLiveSpecification":          `null`,
				"SSESpecification":                 `{"SSEEnabled":true}`,
				"PointInTimeRecoverySpecification": `{"PointInTimeRecoveryEnabled":true}`,
			}
			for key, value := range want {
				if got := cdktest.JSONString(t, props[key]); got != value {
					t.Errorf("lock table %s = %s, want %s", key, got, value)
				}
			}
		}
		template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				"SPARK_LAMBDA_COMMIT_COORDINATION": "dynamodb",
				"SPARK_LAMBDA_LOCK_TABLE":          map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^SparkLockTable"))},
			}},
		})
		assertLockTableGrant(t, tpl, "SparkRole", "SparkLockTable")
	})

	t.Run("created VPC: DynamoDB gateway endpoint for the lock table", func(t *testing.T) {
		services := map[string]int{}
		for _, endpoint := range cdktest.ResourcesOfType(tpl, "AWS::EC2::VPCEndpoint") {
			props := endpoint["Properties"].(map[string]any)
			if props["VpcEndpointType"] == "Gateway" {
				services[gatewayService(t, props)]++
			}
		}
		if services["s3"] != 1 || services["dynamodb"] != 1 || len(services) != 2 {
			t.Errorf("want one S3 and one DynamoDB gateway endpoint, got %v", services)
		}
	})

	t.Run("role: script object only, ENIs, own log group, no S3 wildcard", func(t *testing.T) {
		cdktest.AssertNoS3Wildcards(t, "role policy", cdktest.PolicyStatements(tpl, ""))
		// The ENI statement on "*" is the only statement of a policy of its own, which the function depends on
		// (Lambda checks the permissions when it creates a function in a VPC); the role's own policy has none.
		eniPolicy := rolePolicy(t, tpl, "SparkVpcNetworkInterfaces")
		if len(eniPolicy) != 1 || eniPolicy[0]["Sid"] != "LambdaVpcNetworkInterfaces" {
			t.Errorf("VpcNetworkInterfaces policy holds %v, want only the LambdaVpcNetworkInterfaces statement", eniPolicy)
		}
		for id, function := range cdktest.ResourcesOfType(tpl, "AWS::Lambda::Function") {
			if strings.HasPrefix(id, "SparkFunction") && !strings.Contains(cdktest.JSONString(t, function["DependsOn"]), `"SparkVpcNetworkInterfaces`) {
				t.Errorf("%s does not depend on the VpcNetworkInterfaces policy: DependsOn %v", id, function["DependsOn"])
			}
		}
		statements := append(rolePolicy(t, tpl, "SparkRole"), eniPolicy...)
		var sawScript, sawEni, sawLogs bool
		for _, statement := range statements {
			actions := cdktest.AsList(statement["Action"])
			switch {
			case statement["Sid"] == "ReadSparkScript":
				sawScript = true
				if len(actions) != 1 || actions[0] != "s3:GetObject" {
					t.Errorf("script statement grants %v, want only s3:GetObject", actions)
				}
				if resource := cdktest.JSONString(t, statement["Resource"]); !strings.Contains(resource, ".py") {
					t.Errorf("script statement is not limited to the script object: %s", resource)
				}
			case statement["Sid"] == "LambdaVpcNetworkInterfaces":
				sawEni = true
			case actions[0] == "logs:CreateLogStream":
				sawLogs = true
				if !strings.Contains(cdktest.JSONString(t, statement["Resource"]), "SparkLogGroup") {
					t.Errorf("log permissions are not limited to the function's log group: %v", statement["Resource"])
				}
			}
			for _, action := range actions {
				if strings.HasPrefix(action.(string), "glue:") {
					t.Errorf("Glue access granted without a declared database: %v", action)
				}
			}
		}
		if !sawScript || !sawEni || !sawLogs {
			t.Errorf("missing statements: script=%v eni=%v logs=%v", sawScript, sawEni, sawLogs)
		}
		template.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
			"ManagedPolicyArns": assertions.Match_Absent(),
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow",
				"Principal": map[string]any{"Service": "lambda.amazonaws.com"},
			}}},
		})
	})

	t.Run("function waits for its role policy", func(t *testing.T) {
		for _, fn := range cdktest.ResourcesOfType(tpl, "AWS::Lambda::Function") {
			if fn["Properties"].(map[string]any)["PackageType"] != "Image" {
				continue
			}
			if !strings.Contains(cdktest.JSONString(t, fn["DependsOn"]), "SparkRoleDefaultPolicy") {
				t.Errorf("function does not depend on the role policy (Lambda checks ENI permissions at create): %v", fn["DependsOn"])
			}
		}
	})

	t.Run("cdk-nag", func(t *testing.T) { cdktest.AssertNoNagErrors(t, stack) })
}

// TestOptions synthesizes one stack with a SparkLambda per option and checks each option's effect.
func TestOptions(t *testing.T) {
	app := newTestApp(t)
	stack := awscdk.NewStack(app, jsii.String("Options"), nil)
	fixture := newOptionsFixture(t, stack)
	template := assertions.Template_FromStack(stack, nil)
	tpl := cdktest.TemplateJSON(t, template)
	functions := functionsByDescription(t, tpl)

	t.Run("sizes, reserved concurrency, name and environment", func(t *testing.T) {
		fn := functions["sized"]
		want := map[string]any{"MemorySize": 10240.0, "Timeout": 900.0, "ReservedConcurrentExecutions": 1.0,
			"FunctionName": "spark-sized"}
		for key, value := range want {
			if fn[key] != value {
				t.Errorf("%s = %v, want %v", key, fn[key], value)
			}
		}
		if size := fn["EphemeralStorage"].(map[string]any)["Size"]; size != 10240.0 {
			t.Errorf("EphemeralStorage = %v, want 10240", size)
		}
		if env := environment(fn); env["TEAM"] != "data-platform" {
			t.Errorf("user environment lost: %v", env)
		}
	})

	t.Run("log retention and AZs of a created VPC", func(t *testing.T) {
		retention := map[string]any{}
		for id, group := range cdktest.ResourcesOfType(tpl, "AWS::Logs::LogGroup") {
			retention[id] = group["Properties"].(map[string]any)["RetentionInDays"]
		}
		for _, id := range []string{"SizedLogGroup", "SizedFlowLogGroup", "NoVpcLogGroup"} {
			want := 7.0
			if id == "NoVpcLogGroup" {
				want = 30.0
			}
			found := false
			for logicalID, days := range retention {
				if strings.HasPrefix(logicalID, id) {
					found = true
					if days != want {
						t.Errorf("%s keeps logs %v days, want %v", logicalID, days, want)
					}
				}
			}
			if !found {
				t.Errorf("no log group %s*", id)
			}
		}
		subnets := 0
		for id := range cdktest.ResourcesOfType(tpl, "AWS::EC2::Subnet") {
			if strings.HasPrefix(id, "SizedVpc") {
				subnets++
			}
		}
		if subnets != 1 {
			t.Errorf("MaxAzs 1 gave %d subnets", subnets)
		}
	})

	t.Run("no VPC: no VpcConfig, no ENI permissions, no security group", func(t *testing.T) {
		fn := functions["novpc"]
		if _, ok := fn["VpcConfig"]; ok {
			t.Errorf("NoVpc function has VpcConfig %v", fn["VpcConfig"])
		}
		if fixture.noVpc.SecurityGroup != nil || fixture.noVpc.Vpc != nil {
			t.Error("NoVpc function exposes a VPC or security group")
		}
		for _, statement := range rolePolicy(t, tpl, "NoVpcRole") {
			if statement["Sid"] == "LambdaVpcNetworkInterfaces" {
				t.Error("NoVpc role may create ENIs")
			}
		}
	})

	t.Run("existing VPC: chosen subnets, S3 endpoint added on request, no new VPC", func(t *testing.T) {
		// The user's VPC plus the VPCs that "sized" and "glue" create by default; none for "existing".
		template.ResourceCountIs(jsii.String("AWS::EC2::VPC"), jsii.Number(3))
		if fixture.noVpc == nil {
			t.Fatal("fixture not built")
		}
		subnets := cdktest.JSONString(t, functions["existing"]["VpcConfig"])
		if !strings.Contains(subnets, "UserVpcapp") {
			t.Errorf("function is not in the selected subnets of the user's VPC: %s", subnets)
		}
		endpoints := map[string]int{}
		for _, endpoint := range cdktest.ResourcesOfType(tpl, "AWS::EC2::VPCEndpoint") {
			props := endpoint["Properties"].(map[string]any)
			if props["VpcEndpointType"] == "Gateway" && strings.Contains(cdktest.JSONString(t, props["VpcId"]), "UserVpc") {
				endpoints[gatewayService(t, props)]++
			}
		}
		// S3 asked for twice, DynamoDB once: one endpoint each.
		if endpoints["s3"] != 1 || endpoints["dynamodb"] != 1 || len(endpoints) != 2 {
			t.Errorf("want 1 S3 and 1 DynamoDB gateway endpoint in the user's VPC, got %v", endpoints)
		}
	})

	t.Run("Glue database: env, scoped actions, Glue endpoint", func(t *testing.T) {
		env := environment(functions["glue"])
		if env["SPARK_LAMBDA_GLUE_DATABASE"] != "analytics" || env["SPARK_LAMBDA_ICEBERG_CATALOG"] != "glue" {
			t.Errorf("Glue environment = %v", env)
		}
		var glueResources string
		for _, statement := range rolePolicy(t, tpl, "GlueRole") {
			if strings.HasPrefix(cdktest.AsList(statement["Action"])[0].(string), "glue:") {
				glueResources += cdktest.JSONString(t, statement["Resource"])
			}
		}
		for _, want := range []string{":catalog", ":database/analytics", ":table/analytics/*"} {
			if !strings.Contains(glueResources, want) {
				t.Errorf("Glue resources %s miss %s", glueResources, want)
			}
		}
		if strings.Contains(glueResources, `"*"`) {
			t.Errorf("Glue granted on every resource: %s", glueResources)
		}
		glueEndpoints := map[string]int{}
		for id, endpoint := range cdktest.ResourcesOfType(tpl, "AWS::EC2::VPCEndpoint") {
			props := endpoint["Properties"].(map[string]any)
			if props["VpcEndpointType"] == "Interface" && strings.Contains(cdktest.JSONString(t, props["ServiceName"]), ".glue") {
				glueEndpoints[cdktest.JSONString(t, props["VpcId"])]++
				if !strings.HasPrefix(id, "GlueVpc") && !strings.HasPrefix(id, "UserVpc") {
					t.Errorf("Glue endpoint %s is in an unexpected VPC", id)
				}
			}
		}
		// The Glue function's own VPC, and the user's VPC once for the two functions that asked for it.
		if len(glueEndpoints) != 2 {
			t.Errorf("want a Glue interface endpoint in 2 VPCs, got %v", glueEndpoints)
		}
		for vpc, count := range glueEndpoints {
			if count != 1 {
				t.Errorf("VPC %s has %d Glue endpoints, want 1", vpc, count)
			}
		}
	})

	t.Run("Glue in the user's VPC without an endpoint: HTTPS egress through the VPC's route", func(t *testing.T) {
		// Egress to a CIDR sits inline in the security group; to a prefix list or a group, in its own resource.
		egress := map[string][]string{}
		for id, group := range cdktest.ResourcesOfType(tpl, "AWS::EC2::SecurityGroup") {
			for _, rule := range cdktest.AsList(group["Properties"].(map[string]any)["SecurityGroupEgress"]) {
				if rule, ok := rule.(map[string]any); ok {
					egress[id] = append(egress[id], fmt.Sprintf("%v:%v", rule["CidrIp"], rule["FromPort"]))
				}
			}
		}
		for _, rule := range cdktest.ResourcesOfType(tpl, "AWS::EC2::SecurityGroupEgress") {
			props := rule["Properties"].(map[string]any)
			group := props["GroupId"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
			egress[group] = append(egress[group], fmt.Sprintf("other:%v", props["FromPort"]))
		}
		for group, targets := range egress {
			if strings.Contains(group, "Endpoint") { // interface endpoints' own groups: AWS's default egress
				continue
			}
			anyIPv4 := strings.Contains(strings.Join(targets, ","), "0.0.0.0/0:443")
			if strings.HasPrefix(group, "UserGlueSecurityGroup") != anyIPv4 {
				t.Errorf("security group %s egress %v: only the user-VPC Glue function may reach any IPv4 (on 443)", group, targets)
			}
		}
	})

	t.Run("commit coordination per format: lock table schema, grant, environment", func(t *testing.T) {
		tables := map[string]map[string]any{}
		for id, table := range cdktest.ResourcesOfType(tpl, "AWS::DynamoDB::Table") {
			tables[id] = table["Properties"].(map[string]any)
		}
		lockTable := func(prefix string) map[string]any {
			for id, props := range tables {
				if strings.HasPrefix(id, prefix) {
					return props
				}
			}
			return nil
		}
		cases := []struct {
			description, prefix, coordination, keySchema, ttl string
		}{
			// Every client in the image (Iceberg's DynamoDbLockManager; the commit locks for Hudi and Delta) keys by entityId.
			{"novpc", "NoVpc", "dynamodb", `[{"AttributeName":"entityId","KeyType":"HASH"}]`, ""},
			{"warehouse", "Warehouse", "dynamodb", `[{"AttributeName":"entityId","KeyType":"HASH"}]`, ""},
			{"shared-a", "SharedA", "dynamodb", `[{"AttributeName":"entityId","KeyType":"HASH"}]`, ""},
			{"glue", "Glue", "glue", "", ""},
			{"sized", "Sized", "none", "", ""},
		}
		for _, c := range cases {
			env := environment(functions[c.description])
			if env["SPARK_LAMBDA_COMMIT_COORDINATION"] != c.coordination {
				t.Errorf("%s: SPARK_LAMBDA_COMMIT_COORDINATION = %v, want %s", c.description, env["SPARK_LAMBDA_COMMIT_COORDINATION"], c.coordination)
			}
			table := lockTable(c.prefix + "LockTable")
			if c.keySchema == "" {
				if table != nil || env["SPARK_LAMBDA_LOCK_TABLE"] != nil {
					t.Errorf("%s (%s) has a lock table: %v %v", c.description, c.coordination, table, env["SPARK_LAMBDA_LOCK_TABLE"])
				}
				for _, statement := range rolePolicy(t, tpl, c.prefix+"Role") {
					if strings.Contains(cdktest.JSONString(t, statement["Action"]), "dynamodb:") {
						t.Errorf("%s (%s) may use DynamoDB: %v", c.description, c.coordination, statement)
					}
				}
				continue
			}
			if table == nil {
				t.Errorf("%s: no lock table %sLockTable*", c.description, c.prefix)
				continue
			}
			if got := cdktest.JSONString(t, table["KeySchema"]); got != c.keySchema {
				t.Errorf("%s: KeySchema = %s, want %s", c.description, got, c.keySchema)
			}
			ttl := ""
			if spec, ok := table["TimeToLiveSpecification"].(map[string]any); ok && spec["Enabled"] == true {
				ttl, _ = spec["AttributeName"].(string)
			}
			if ttl != c.ttl {
				t.Errorf("%s: TTL attribute = %q, want %q", c.description, ttl, c.ttl)
			}
			if ref := cdktest.JSONString(t, env["SPARK_LAMBDA_LOCK_TABLE"]); !strings.HasPrefix(ref, `{"Ref":"`+c.prefix+"LockTable") {
				t.Errorf("%s: SPARK_LAMBDA_LOCK_TABLE = %s", c.description, ref)
			}
			assertLockTableGrant(t, tpl, c.prefix+"Role", c.prefix+"LockTable")
		}
		if fixture.noVpc.LockTable == nil || fixture.noVpc.CommitCoordination != sparklambda.CommitCoordinationDynamoDB {
			t.Error("the construct does not expose its lock table and coordination")
		}
	})

	t.Run("DynamoDB egress from the user's VPC with and without the endpoint; none without a lock table", func(t *testing.T) {
		toDynamoDB := map[string]bool{}
		for _, rule := range cdktest.ResourcesOfType(tpl, "AWS::EC2::SecurityGroupEgress") {
			props := rule["Properties"].(map[string]any)
			if strings.Contains(cdktest.JSONString(t, props["DestinationPrefixListId"]), "SparkLambdaDynamoDBPrefixList") {
				group := props["GroupId"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
				toDynamoDB[strings.SplitN(group, "SecurityGroup", 2)[0]] = true
			}
		}
		for _, id := range []string{"Existing", "Existing2"} {
			if !toDynamoDB[id] {
				t.Errorf("%s cannot reach DynamoDB (egress %v)", id, toDynamoDB)
			}
		}
		for _, id := range []string{"UserGlue", "Glue", "Sized"} {
			if toDynamoDB[id] {
				t.Errorf("%s has no lock table but may reach DynamoDB", id)
			}
		}
	})

	t.Run("Iceberg without Glue uses the Hadoop catalog in the warehouse", func(t *testing.T) {
		env := environment(functions["warehouse"])
		if env["SPARK_LAMBDA_ICEBERG_CATALOG"] != "hadoop" {
			t.Errorf("SPARK_LAMBDA_ICEBERG_CATALOG = %v, want hadoop", env["SPARK_LAMBDA_ICEBERG_CATALOG"])
		}
		if !strings.Contains(cdktest.JSONString(t, env["SPARK_LAMBDA_WAREHOUSE"]), "/lake/") {
			t.Errorf("SPARK_LAMBDA_WAREHOUSE = %v", env["SPARK_LAMBDA_WAREHOUSE"])
		}
	})

	t.Run("grants: input read-only, table read-write, both prefix-scoped", func(t *testing.T) {
		statements := rolePolicy(t, tpl, "WarehouseRole")
		cdktest.AssertNoS3Wildcards(t, "role policy", statements)
		var readOnly, readWrite string
		for _, statement := range statements {
			actions := cdktest.JSONString(t, statement["Action"])
			resources := cdktest.JSONString(t, statement["Resource"])
			switch {
			case strings.Contains(actions, "s3:PutObject"):
				readWrite += resources
			case strings.Contains(actions, "s3:GetObject*"):
				readOnly += resources
			}
		}
		if !strings.Contains(readWrite, "/lake/*") || strings.Contains(readWrite, "/incoming/") {
			t.Errorf("read-write grant is not the table prefix: %s", readWrite)
		}
		if !strings.Contains(readOnly, "incoming/*") {
			t.Errorf("read grant is not the input prefix: %s", readOnly)
		}
	})

	t.Run("script from an existing bucket and key", func(t *testing.T) {
		env := environment(functions["existing"])
		if env["SPARK_LAMBDA_SCRIPT_KEY"] != "jobs/etl.py" {
			t.Errorf("SPARK_LAMBDA_SCRIPT_KEY = %v", env["SPARK_LAMBDA_SCRIPT_KEY"])
		}
		found := false
		for _, statement := range rolePolicy(t, tpl, "ExistingRole") {
			if statement["Sid"] == "ReadSparkScript" {
				found = strings.Contains(cdktest.JSONString(t, statement["Resource"]), "team-scripts/jobs/etl.py")
			}
		}
		if !found {
			t.Error("role cannot read exactly team-scripts/jobs/etl.py")
		}
	})

	t.Run("a shared image is built once", func(t *testing.T) {
		if fixture.sharedA.Image != fixture.sharedB.Image {
			t.Fatal("functions given the same image do not share it")
		}
		images := map[string]bool{}
		for _, fn := range cdktest.ResourcesOfType(tpl, "AWS::Lambda::Function") {
			props := fn["Properties"].(map[string]any)
			if props["PackageType"] == "Image" {
				images[cdktest.JSONString(t, props["Code"])] = true
			}
		}
		// DELTA (default + sized + shared) and ICEBERG (glue, warehouse) and HUDI (novpc, existing).
		if len(images) != 3 {
			t.Errorf("want 3 distinct images (one per framework), got %d", len(images))
		}
	})

	t.Run("cdk-nag", func(t *testing.T) { cdktest.AssertNoNagErrors(t, stack) })
}
