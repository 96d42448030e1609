package sparklambda_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

// TestEmrServerless synthesizes one stack with two functions routed to EMR Serverless applications and checks the
// applications, the job roles, the functions' new permissions and environment, and the failure rules: a Delta
// application sharing its function's VPC, with pre-initialized capacity and a customer managed key (a data grant made
// before and one after the routing), and an Iceberg application with every default (its own VPC) for a function with
// a Glue database.
func TestEmrServerless(t *testing.T) {
	app := newTestApp(t)
	stack := awscdk.NewStack(app, jsii.String("Emr"), nil)
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	lake := awss3.NewBucket(stack, jsii.String("Lake"), &awss3.BucketProps{
		EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
	})
	suppressTestBucket(lake)

	delta := sparklambda.NewSparkLambda(stack, "Delta", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t), WarehouseBucket: lake, WarehousePrefix: "tables/",
		EncryptionKey: key,
	})
	delta.GrantReadInput(lake, "data/")
	autoStart := false
	deltaEmr := sparklambda.NewSparkEmrServerless(stack, "DeltaEmr", &sparklambda.SparkEmrServerlessProps{
		Framework: sparklambda.FrameworkDelta, Vpc: delta.Vpc, EncryptionKey: key, AutoStart: &autoStart,
		AutoStopIdleMinutes: 30, MaximumVcpu: 32, MaximumMemoryGB: 256, MaximumDiskGB: 400,
		PreInitializedCapacity: &sparklambda.EmrPreInitializedCapacity{
			Driver:   sparklambda.EmrWorkers{Count: 1},
			Executor: sparklambda.EmrWorkers{Count: 2, Vcpu: 2, MemoryGB: 8, DiskGB: 40},
		},
	})
	deltaRule := delta.RouteLargeInputsTo(deltaEmr, &sparklambda.EmrRoutingOptions{ThresholdMiB: 2048})
	delta.GrantReadInput(lake, "late/") // after the routing: the job role must get it too

	iceberg := sparklambda.NewSparkLambda(stack, "Iceberg", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkIceberg, ScriptPath: writeScript(t), NoVpc: true, GlueDatabase: "sales",
	})
	icebergEmr := sparklambda.NewSparkEmrServerless(stack, "IcebergEmr", &sparklambda.SparkEmrServerlessProps{
		Framework: sparklambda.FrameworkIceberg,
	})
	iceberg.RouteLargeInputsTo(icebergEmr, nil)
	// A lock table granted to the job role of an application with a VPC of its own: the VPC gets DynamoDB's endpoint.
	hudi := sparklambda.NewSparkLambda(stack, "Hudi", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkHudi, ScriptPath: writeScript(t), NoVpc: true,
	})
	hudi.RouteLargeInputsTo(sparklambda.NewSparkEmrServerless(stack, "HudiEmr", &sparklambda.SparkEmrServerlessProps{
		Framework: sparklambda.FrameworkHudi, MaxAzs: 1,
	}), nil)

	tpl := cdktest.Template(t, stack)
	applications := cdktest.PropertiesOfType(tpl, "AWS::EMRServerless::Application")
	application := func(prefix string) map[string]any {
		t.Helper()
		for id, props := range applications {
			if strings.HasPrefix(id, prefix) {
				return props
			}
		}
		t.Fatalf("no application %s* in %v", prefix, applications)
		return nil
	}
	deltaApp, icebergApp := application("DeltaEmrApplication"), application("IcebergEmrApplication")

	t.Run("application: SPARK, x86_64, the lock's release label", func(t *testing.T) {
		want := lockEntryVersion(t, "emr-release")
		if want == "" || sparklambda.EmrReleaseLabel() != want || deltaEmr.ReleaseLabel != want {
			t.Errorf("EmrReleaseLabel() = %q, construct %q, docker/versions.lock says %q", sparklambda.EmrReleaseLabel(),
				deltaEmr.ReleaseLabel, want)
		}
		for name, props := range map[string]map[string]any{"delta": deltaApp, "iceberg": icebergApp} {
			assertProperties(t, name+" application", props, map[string]string{
				"Type": `"SPARK"`, "Architecture": `"X86_64"`, "ReleaseLabel": cdktest.JSONString(t, want),
			})
		}
	})

	t.Run("auto start/stop and maximum capacity: defaults and set values", func(t *testing.T) {
		assertProperties(t, "default application", icebergApp, map[string]string{
			"AutoStartConfiguration": `{"Enabled":true}`,
			"AutoStopConfiguration":  `{"Enabled":true,"IdleTimeoutMinutes":15}`,
			"MaximumCapacity":        `{"Cpu":"16 vCPU","Disk":"160 GB","Memory":"128 GB"}`,
			"InitialCapacity":        "null",
		})
		assertProperties(t, "configured application", deltaApp, map[string]string{
			"AutoStartConfiguration": `{"Enabled":false}`,
			"AutoStopConfiguration":  `{"Enabled":true,"IdleTimeoutMinutes":30}`,
			"MaximumCapacity":        `{"Cpu":"32 vCPU","Disk":"400 GB","Memory":"256 GB"}`,
			"InitialCapacity": `[{"Key":"Driver","Value":{"WorkerConfiguration":{"Cpu":"4 vCPU","Disk":"20 GB",` +
				`"Memory":"16 GB"},"WorkerCount":1}},{"Key":"Executor","Value":{"WorkerConfiguration":{"Cpu":"2 vCPU",` +
				`"Disk":"40 GB","Memory":"8 GB"},"WorkerCount":2}}]`,
		})
	})

	t.Run("monitoring: S3 logs and the construct's CloudWatch log group, with the key when given", func(t *testing.T) {
		monitoring := cdktest.JSONString(t, deltaApp["MonitoringConfiguration"])
		for _, want := range []string{
			`"LogUri":{"Fn::Join":["",["s3://",{"Ref":"DeltaEmrBucket`, `"/emr-serverless-logs/"]]}`,
			`"CloudWatchLoggingConfiguration":{"Enabled":true,"EncryptionKeyArn":{"Fn::GetAtt":["Key`,
			`"LogGroupName":{"Ref":"DeltaEmrLogGroup`,
		} {
			if !strings.Contains(monitoring, want) {
				t.Errorf("monitoring configuration %s lacks %s", monitoring, want)
			}
		}
		if strings.Count(monitoring, `"EncryptionKeyArn"`) != 2 {
			t.Errorf("S3 and CloudWatch logs are not both encrypted with the key: %s", monitoring)
		}
		if plain := cdktest.JSONString(t, icebergApp["MonitoringConfiguration"]); strings.Contains(plain, "EncryptionKeyArn") ||
			!strings.Contains(plain, `"Enabled":true`) {
			t.Errorf("default monitoring configuration: %s", plain)
		}
		for id, group := range cdktest.PropertiesOfType(tpl, "AWS::Logs::LogGroup") {
			if strings.HasPrefix(id, "DeltaEmrLogGroup") && group["KmsKeyId"] == nil {
				t.Errorf("%s is not encrypted with the key: %v", id, group)
			}
		}
	})

	t.Run("runtime configuration: every key of the format's conf, the EMR jars, nothing of the Lambda conf", func(t *testing.T) {
		for framework, props := range map[sparklambda.Framework]map[string]any{
			sparklambda.FrameworkDelta: deltaApp, sparklambda.FrameworkIceberg: icebergApp,
		} {
			runtime := props["RuntimeConfiguration"].([]any)
			if len(runtime) != 1 || runtime[0].(map[string]any)["Classification"] != "spark-defaults" {
				t.Fatalf("%s: runtime configuration %v, want one spark-defaults classification", framework, runtime)
			}
			properties := runtime[0].(map[string]any)["Properties"].(map[string]any)
			for key, value := range confFile(t, "spark-defaults-"+string(framework)+".conf") {
				if properties[key] != value {
					t.Errorf("%s application: %s = %v, want %q (docker/conf)", framework, key, properties[key], value)
				}
			}
			for key := range confFile(t, "spark-defaults.conf") {
				if _, leaked := properties[key]; leaked {
					t.Errorf("%s application has %s of the Lambda-only spark-defaults.conf", framework, key)
				}
			}
			jars := map[sparklambda.Framework]string{
				sparklambda.FrameworkDelta:   "/usr/share/aws/delta/lib/delta-spark.jar,/usr/share/aws/delta/lib/delta-storage.jar",
				sparklambda.FrameworkIceberg: "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar",
			}
			if properties["spark.jars"] != jars[framework] {
				t.Errorf("%s spark.jars = %v, want %s", framework, properties["spark.jars"], jars[framework])
			}
		}
	})

	t.Run("job role: trusted by EMR Serverless for this application only", func(t *testing.T) {
		role := cdktest.ResourcesOfType(tpl, "AWS::IAM::Role")
		for id, resource := range role {
			if !strings.HasPrefix(id, "DeltaEmrJobRole") {
				continue
			}
			trust := cdktest.DocumentStatements(resource["Properties"].(map[string]any)["AssumeRolePolicyDocument"].(map[string]any))
			if len(trust) != 1 {
				t.Fatalf("job role trust has %d statements: %v", len(trust), trust)
			}
			got := cdktest.JSONString(t, trust[0])
			app := getAtt(t, tpl, "DeltaEmrApplication", "Arn")
			for _, want := range []string{
				`"Principal":{"Service":"emr-serverless.amazonaws.com"}`,
				`"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}`,
				`"ArnLike":{"aws:SourceArn":[` + app + `,{"Fn::Join":["",[` + app + `,"/*"]]}]}`,
			} {
				if !strings.Contains(got, want) {
					t.Errorf("job role trust %s lacks %s", got, want)
				}
			}
			return
		}
		t.Fatal("no DeltaEmrJobRole")
	})

	t.Run("job role: the function's data grants, before and after routing; no s3:* or S3 on *", func(t *testing.T) {
		statements := rolePolicy(t, tpl, "DeltaEmrJobRole")
		cdktest.AssertNoS3Wildcards(t, "job role", statements)
		cdktest.AssertNoS3Wildcards(t, "function role", rolePolicy(t, tpl, "DeltaRole"))
		all := cdktest.JSONString(t, statements)
		for _, want := range []string{`"/data/*"`, `"/late/*"`, `"/tables/*"`, `"s3:PutObject"`,
			`"Sid":"ReadSparkScriptEmrDelta`, `"Sid":"ReadSparkLambdaPyFiles"`, `/spark-lambda-staging/EmrDelta`,
			`"logs:DescribeLogGroups"`, `"logs:PutLogEvents"`} {
			if !strings.Contains(all, want) {
				t.Errorf("job role policy lacks %s", want)
			}
		}
		assertLockTableGrant(t, tpl, "DeltaEmrJobRole", "DeltaLockTable")
		glue := cdktest.JSONString(t, rolePolicy(t, tpl, "IcebergEmrJobRole"))
		if !strings.Contains(glue, `":table/sales/*"`) || !strings.Contains(glue, `"glue:UpdateTable"`) {
			t.Errorf("Iceberg job role lacks the Glue database grant: %s", glue)
		}
	})

	t.Run("function: StartJobRun on the application and its job runs, PassRole on the job role only", func(t *testing.T) {
		app := getAtt(t, tpl, "DeltaEmrApplication", "Arn")
		var startJobRun, tagResource, passRole []map[string]any
		for _, statement := range rolePolicy(t, tpl, "DeltaRole") {
			actions := cdktest.JSONString(t, statement["Action"])
			if strings.Contains(actions, "emr-serverless:TagResource") {
				tagResource = append(tagResource, statement)
			} else if strings.Contains(actions, "emr-serverless:") {
				startJobRun = append(startJobRun, statement)
			}
			if strings.Contains(actions, "iam:PassRole") {
				passRole = append(passRole, statement)
			}
		}
		if len(startJobRun) != 1 || cdktest.JSONString(t, startJobRun[0]["Action"]) != `"emr-serverless:StartJobRun"` ||
			cdktest.JSONString(t, startJobRun[0]["Resource"]) != `[`+app+`,{"Fn::Join":["",[`+app+`,"/jobruns/*"]]}]` {
			t.Errorf("StartJobRun statements = %v", startJobRun)
		}
		// Tagging on creation: the handler's tags on StartJobRun need TagResource, on job runs and its own keys only.
		if len(tagResource) != 1 || cdktest.JSONString(t, tagResource[0]["Action"]) != `"emr-serverless:TagResource"` ||
			cdktest.JSONString(t, tagResource[0]["Resource"]) != `{"Fn::Join":["",[`+app+`,"/jobruns/*"]]}` ||
			cdktest.JSONString(t, tagResource[0]["Condition"]) != `{"ForAllValues:StringLike":{"aws:TagKeys":"spark-lambda:*"}}` {
			t.Errorf("TagResource statements = %v", tagResource)
		}
		if len(passRole) != 1 ||
			cdktest.JSONString(t, passRole[0]["Resource"]) != getAtt(t, tpl, "DeltaEmrJobRole", "Arn") ||
			cdktest.JSONString(t, passRole[0]["Condition"]) != `{"StringEquals":{"iam:PassedToService":"emr-serverless.amazonaws.com"}}` {
			t.Errorf("PassRole statements = %v", passRole)
		}
	})

	t.Run("function: the routing environment", func(t *testing.T) {
		env := environment(cdktest.PropertiesOfType(tpl, "AWS::Lambda::Function")[functionID(t, tpl, "DeltaFunction")])
		assertProperties(t, "Delta environment", env, map[string]string{
			sparklambda.EnvEmrApplicationID:    getAtt(t, tpl, "DeltaEmrApplication", "ApplicationId"),
			sparklambda.EnvEmrExecutionRoleArn: getAtt(t, tpl, "DeltaEmrJobRole", "Arn"),
			sparklambda.EnvEmrThresholdBytes:   `"2147483648"`,
		})
		staging := cdktest.JSONString(t, env[sparklambda.EnvEmrStagingURI])
		if !strings.Contains(staging, `"s3://",{"Ref":"DeltaEmrBucket`) || !strings.HasSuffix(staging, `/"]]}`) {
			t.Errorf("%s = %s, want s3://<the application's bucket>/<prefix>/", sparklambda.EnvEmrStagingURI, staging)
		}
		if pyFiles := cdktest.JSONString(t, env[sparklambda.EnvEmrPyFiles]); !strings.HasPrefix(pyFiles, `{"Fn::Sub":"s3://`) ||
			!strings.HasSuffix(pyFiles, `.zip"}`) {
			t.Errorf("%s = %s, want the s3:// URL of a zip asset", sparklambda.EnvEmrPyFiles, pyFiles)
		}
		other := environment(cdktest.PropertiesOfType(tpl, "AWS::Lambda::Function")[functionID(t, tpl, "IcebergFunction")])
		if other[sparklambda.EnvEmrThresholdBytes] != "268435456" {
			t.Errorf("default threshold = %v bytes, want 256 MiB (DefaultEmrThresholdMiB)", other[sparklambda.EnvEmrThresholdBytes])
		}
	})

	t.Run("staging: staged events in the application's own bucket expire; the logs' rule is kept", func(t *testing.T) {
		for id, bucket := range cdktest.PropertiesOfType(tpl, "AWS::S3::Bucket") {
			if !strings.HasPrefix(id, "DeltaEmrBucket") {
				continue
			}
			rules := cdktest.JSONString(t, bucket["LifecycleConfiguration"])
			// The staging URI is Fn::Join of "s3://", the bucket and "/<prefix>": its last literal is "/<prefix>".
			env := environment(cdktest.PropertiesOfType(tpl, "AWS::Lambda::Function")[functionID(t, tpl, "DeltaFunction")])
			parts := strings.Split(cdktest.JSONString(t, env[sparklambda.EnvEmrStagingURI]), `"`)
			prefix := strings.TrimPrefix(parts[len(parts)-2], "/")
			want := fmt.Sprintf(`{"ExpirationInDays":%d,"Id":`, sparklambda.EmrStagedEventRetentionDays)
			if !strings.Contains(rules, want) || !strings.Contains(rules, `"Prefix":"`+prefix+`events/"`) ||
				!strings.Contains(rules, `"Prefix":"emr-serverless-logs/"`) {
				t.Errorf("DeltaEmr bucket lifecycle = %s, want the logs' rule and %d days on %sevents/", rules,
					sparklambda.EmrStagedEventRetentionDays, prefix)
			}
			return
		}
		t.Fatal("no DeltaEmrBucket")
	})

	t.Run("failure rule: FAILED and CANCELLED runs of the application to the function's failure queue", func(t *testing.T) {
		if deltaRule == nil {
			t.Fatal("RouteLargeInputsTo returned no rule")
		}
		rules := 0
		for id, rule := range cdktest.PropertiesOfType(tpl, "AWS::Events::Rule") {
			if !strings.HasPrefix(id, "DeltaEmrJobRunFailures") {
				continue
			}
			rules++
			assertProperties(t, "failure rule", rule, map[string]string{
				"EventPattern": `{"detail":{"applicationId":[` + getAtt(t, tpl, "DeltaEmrApplication", "ApplicationId") +
					`],"state":["FAILED","CANCELLED"]},"detail-type":["EMR Serverless Job Run State Change"],` +
					`"source":["aws.emr-serverless"]}`,
			})
			targets := rule["Targets"].([]any)
			if len(targets) != 1 || cdktest.JSONString(t, targets[0].(map[string]any)["Arn"]) != getAtt(t, tpl, "DeltaFailureQueue", "Arn") {
				t.Errorf("failure rule targets %v, want the function's failure queue", targets)
			}
		}
		if rules != 1 {
			t.Errorf("want one failure rule of the Delta function, got %d", rules)
		}
		// The queue has the stack's key: EventBridge may use it for this account only.
		for _, key := range cdktest.PropertiesOfType(tpl, "AWS::KMS::Key") {
			for _, statement := range cdktest.DocumentStatements(key["KeyPolicy"].(map[string]any)) {
				if principal := cdktest.JSONString(t, statement["Principal"]); principal == `{"Service":"events.amazonaws.com"}` &&
					cdktest.JSONString(t, statement["Condition"]) != `{"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}}` {
					t.Errorf("EventBridge may use the key without an account condition: %v", statement)
				}
			}
		}
	})

	t.Run("network: the shared VPC's subnets and a security group of the application's own; its own VPC", func(t *testing.T) {
		network := cdktest.JSONString(t, deltaApp["NetworkConfiguration"])
		if !strings.Contains(network, `{"Ref":"DeltaVpc`) || !strings.Contains(network, `"DeltaEmrSecurityGroup`) {
			t.Errorf("Delta application network %s, want the function's VPC subnets and its own security group", network)
		}
		if network := cdktest.JSONString(t, icebergApp["NetworkConfiguration"]); !strings.Contains(network, `{"Ref":"IcebergEmrVpc`) {
			t.Errorf("Iceberg application network %s, want a VPC of its own", network)
		}
		descriptions := map[string]string{}
		for id, group := range cdktest.PropertiesOfType(tpl, "AWS::EC2::SecurityGroup") {
			descriptions[id] = group["GroupDescription"].(string)
		}
		for prefix, want := range map[string]string{
			"DeltaEmrSecurityGroup":   "Spark EMR Serverless: no inbound; outbound HTTPS (443) only, to the S3 prefix list, the DynamoDB prefix list",
			"IcebergEmrSecurityGroup": "Spark EMR Serverless: no inbound; outbound HTTPS (443) only, to the S3 prefix list, the Glue endpoint",
		} {
			for id, description := range descriptions {
				if strings.HasPrefix(id, prefix) && description != want {
					t.Errorf("%s description %q, want %q", id, description, want)
				}
			}
		}
	})

	t.Run("own VPC: DynamoDB's gateway endpoint and egress once a lock table is granted", func(t *testing.T) {
		services := map[string]int{}
		for id, endpoint := range cdktest.PropertiesOfType(tpl, "AWS::EC2::VPCEndpoint") {
			if strings.HasPrefix(id, "HudiEmrVpc") && endpoint["VpcEndpointType"] == "Gateway" {
				services[gatewayService(t, endpoint)]++
			}
		}
		if services["s3"] != 1 || services["dynamodb"] != 1 {
			t.Errorf("HudiEmr's VPC gateway endpoints = %v, want one S3 and one DynamoDB", services)
		}
		assertLockTableGrant(t, tpl, "HudiEmrJobRole", "HudiLockTable")
		for id, group := range cdktest.PropertiesOfType(tpl, "AWS::EC2::SecurityGroup") {
			if strings.HasPrefix(id, "HudiEmrSecurityGroup") && !strings.HasSuffix(group["GroupDescription"].(string), "the DynamoDB prefix list") {
				t.Errorf("%s: %v", id, group["GroupDescription"])
			}
		}
	})

	t.Run("cdk-nag", func(t *testing.T) { cdktest.AssertNoNagErrors(t, stack) })
}

// TestEmrSparkDefaultsAndPyFiles checks the generated Spark settings of every format against docker/conf without a
// synth, and the py-files zip's layout.
func TestEmrSparkDefaultsAndPyFiles(t *testing.T) {
	for _, framework := range sparklambda.Frameworks() {
		properties, err := sparklambda.EmrSparkDefaults(framework)
		if err != nil {
			t.Fatalf("%s: %v", framework, err)
		}
		conf := confFile(t, "spark-defaults-"+string(framework)+".conf")
		if len(properties) != len(conf)+1 {
			t.Errorf("%s: %d properties, want the %d of the conf file and spark.jars", framework, len(properties), len(conf))
		}
		for key, value := range conf {
			if properties[key] != value {
				t.Errorf("%s: %s = %q, want %q", framework, key, properties[key], value)
			}
		}
		if !strings.HasPrefix(properties[sparklambda.EmrSparkJarsProperty], "/usr/") {
			t.Errorf("%s: spark.jars = %q", framework, properties[sparklambda.EmrSparkJarsProperty])
		}
	}
	if _, err := sparklambda.EmrSparkDefaults("PARQUET"); err == nil {
		t.Error("EmrSparkDefaults accepted an unknown framework")
	}

	archive, err := sparklambda.PyFilesZip()
	if err != nil {
		t.Fatal(err)
	}
	reader, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, file := range reader.File {
		names = append(names, file.Name)
	}
	sources, _ := filepath.Glob(filepath.Join("..", "..", "docker", "python", "sparklambda", "*.py"))
	var want []string
	for _, source := range sources {
		want = append(want, "sparklambda/"+filepath.Base(source))
	}
	if !slices.Equal(names, want) || !slices.Contains(names, "sparklambda/__init__.py") {
		t.Errorf("py-files zip holds %v, want %v", names, want)
	}
	again, _ := sparklambda.PyFilesZip()
	if !bytes.Equal(archive, again) {
		t.Error("the py-files zip is not reproducible")
	}
}

// confFile parses docker/conf/<name> independently of the construct: "key value" lines, '#' comments.
func confFile(t *testing.T, name string) map[string]string {
	t.Helper()
	file, err := os.Open(filepath.Join("..", "..", "docker", "conf", name))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	out := map[string]string{}
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		out[fields[0]] = strings.Join(fields[1:], " ")
	}
	if len(out) == 0 {
		t.Fatalf("no properties in %s", name)
	}
	return out
}

// lockEntryVersion reads the version of the entry named name from docker/versions.lock, independently of the
// construct.
func lockEntryVersion(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docker", "versions.lock"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if fields := strings.Fields(strings.SplitN(line, "#", 2)[0]); len(fields) == 5 && fields[2] == name {
			return fields[3]
		}
	}
	return ""
}
