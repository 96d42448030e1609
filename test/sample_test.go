// Package test holds cross-cutting tests of the sample app: golden snapshots of the three stacks, the properties
// every deployable template must have, cdk-nag, and the image build command the CDK CLI will run.
package test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sparklambda/spark-lambda-cdk/apps/sample"
	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
	"github.com/sparklambda/spark-lambda-cdk/internal/cdktest"
)

var update = flag.Bool("update", false, "rewrite the golden snapshots in test/golden from the current synth")

// synthesized is the sample app, synthesized once for every test in this package.
type synthesized struct {
	outdir string
	stacks map[sparklambda.Framework]awscdk.Stack
}

var (
	sampleOnce sync.Once
	sampleApp  *synthesized
	sampleErr  error
)

// synthSample synthesizes the sample app (all three stacks) into a temporary directory, once per test binary.
func synthSample(t *testing.T) *synthesized {
	t.Helper()
	sampleOnce.Do(func() {
		outdir, err := os.MkdirTemp("", "sample-cdk-out-")
		if err != nil {
			sampleErr = err
			return
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
		stacks, err := sample.Build(app, filepath.Join("..", "assets"))
		if err != nil {
			sampleErr = err
			return
		}
		app.Synth(nil)
		sampleApp = &synthesized{outdir: outdir, stacks: map[sparklambda.Framework]awscdk.Stack{}}
		for i, framework := range sparklambda.Frameworks() {
			sampleApp.stacks[framework] = stacks[i]
		}
	})
	if sampleErr != nil {
		t.Fatalf("synthesizing the sample app: %v", sampleErr)
	}
	return sampleApp
}

// hashPattern matches asset hashes (hex sha256) and the asset-manifest destination ids derived from them, which
// change with every edit of an asset's content.
var hashPattern = regexp.MustCompile(`[0-9a-f]{64}|current_account-current_region-[0-9a-f]{8}`)

// normalize replaces asset hashes so that a snapshot only changes when the infrastructure does.
func normalize(t *testing.T, document map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(document)
	if err != nil {
		t.Fatal(err)
	}
	raw = hashPattern.ReplaceAllFunc(raw, func(match []byte) []byte {
		if len(match) == 64 {
			return []byte("<ASSET_HASH>")
		}
		return []byte("current_account-current_region-<HASH>")
	})
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// keyAssetsByDisplayName re-keys an asset manifest's "files" and "dockerImages" by each asset's displayName, so
// that normalising the hashes that key them does not fold several assets into one entry.
func keyAssetsByDisplayName(t *testing.T, manifest map[string]any) map[string]any {
	t.Helper()
	for _, section := range []string{"files", "dockerImages"} {
		assets, _ := manifest[section].(map[string]any)
		byName := map[string]any{}
		for hash, value := range assets {
			name, _ := value.(map[string]any)["displayName"].(string)
			if _, taken := byName[name]; name == "" || taken {
				t.Fatalf("asset %s has no unique displayName (%q) to key the snapshot by", hash, name)
			}
			byName[name] = value
		}
		if assets != nil {
			manifest[section] = byName
		}
	}
	return manifest
}

// TestGoldenSnapshots compares each sample stack's template and asset manifest with test/golden. Run
// `go test ./test -run TestGoldenSnapshots -update` after an intended change, and review the diff in git.
func TestGoldenSnapshots(t *testing.T) {
	app := synthSample(t)
	for _, framework := range sparklambda.Frameworks() {
		name := sample.StackName(framework)
		for _, kind := range []string{"template", "assets"} {
			t.Run(name+"."+kind, func(t *testing.T) {
				document := cdktest.ReadJSON(t, filepath.Join(app.outdir, name+"."+kind+".json"))
				if kind == "assets" {
					document = keyAssetsByDisplayName(t, document)
				}
				actual := normalize(t, document)
				golden := filepath.Join("golden", name+"."+kind+".json")
				if *update {
					raw, _ := json.MarshalIndent(actual, "", " ")
					if err := os.WriteFile(golden, append(raw, '\n'), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				if _, err := os.Stat(golden); err != nil {
					t.Fatalf("no snapshot %s: run `go test ./test -run TestGoldenSnapshots -update` and commit it", golden)
				}
				if diff := cmp.Diff(cdktest.ReadJSON(t, golden), actual); diff != "" {
					t.Errorf("%s differs from the snapshot (-golden +synthesized); if intended, rerun with -update:\n%s", golden, diff)
				}
			})
		}
	}
}

// TestDeployableTemplates checks what every sample template must have to deploy Spark on Lambda safely.
func TestDeployableTemplates(t *testing.T) {
	app := synthSample(t)
	for _, framework := range sparklambda.Frameworks() {
		stack := app.stacks[framework]
		template := cdktest.ReadJSON(t, filepath.Join(app.outdir, sample.StackName(framework)+".template.json"))
		resources := template["Resources"].(map[string]any)
		t.Run(string(framework), func(t *testing.T) {
			var sparkFunctions []map[string]any
			isolated := map[string]bool{}
			gatewayS3 := 0
			for id, value := range resources {
				resource := value.(map[string]any)
				props, _ := resource["Properties"].(map[string]any)
				switch resource["Type"] {
				case "AWS::Lambda::Function":
					if props["PackageType"] == "Image" {
						sparkFunctions = append(sparkFunctions, props)
					}
				case "AWS::EC2::Subnet":
					if props["MapPublicIpOnLaunch"] == false && strings.Contains(id, "isolated") {
						isolated[id] = true
					}
				case "AWS::EC2::VPCEndpoint":
					if props["VpcEndpointType"] == "Gateway" && strings.Contains(cdktest.JSONString(t, props["ServiceName"]), ".s3") {
						gatewayS3++
					}
				case "AWS::EC2::InternetGateway", "AWS::EC2::NatGateway":
					t.Errorf("%s: %s gives the isolated VPC a route out", id, resource["Type"])
				case "AWS::IAM::Policy":
					cdktest.AssertNoS3Wildcards(t, id, cdktest.DocumentStatements(props["PolicyDocument"].(map[string]any)))
				}
			}
			if len(sparkFunctions) != 1 {
				t.Fatalf("want one image-based Lambda function, got %d", len(sparkFunctions))
			}
			fn := sparkFunctions[0]
			if fn["MemorySize"].(float64) < 2048 || fn["Timeout"].(float64) < 60 {
				t.Errorf("MemorySize %v / Timeout %v below Spark's floor (2048 MiB / 60 s)", fn["MemorySize"], fn["Timeout"])
			}
			subnets := fn["VpcConfig"].(map[string]any)["SubnetIds"].([]any)
			for _, subnet := range subnets {
				ref := subnet.(map[string]any)["Ref"].(string)
				if !isolated[ref] {
					t.Errorf("function subnet %s is not an isolated subnet", ref)
				}
			}
			if gatewayS3 != 1 {
				t.Errorf("want 1 S3 gateway endpoint, got %d", gatewayS3)
			}
			outputs := template["Outputs"].(map[string]any)
			for _, output := range []string{"FunctionName", "BucketName", "InvokeCommand", "FailureQueueUrl", "AlarmTopicArn",
				"EmrApplicationId"} {
				if _, ok := outputs[output]; !ok {
					t.Errorf("missing output %s", output)
				}
			}
			checkEventPipeline(t, framework, resources)
			checkAlarms(t, template)
			checkEmrRouting(t, framework, template, fn)
			errors := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"),
				assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			for _, finding := range *errors {
				t.Errorf("unsuppressed cdk-nag finding at %s: %v", *finding.Id, finding.Entry.Data)
			}
		})
	}
}

// checkEmrRouting checks that the stack's EMR Serverless application runs the stack's table format in the function's
// isolated subnets, that the function is routed to it (the five SPARK_LAMBDA_EMR_* variables) and that the
// EmrApplicationId output names it.
func checkEmrRouting(t *testing.T, framework sparklambda.Framework, template map[string]any, fn map[string]any) {
	t.Helper()
	applications := cdktest.PropertiesOfType(template, "AWS::EMRServerless::Application")
	if len(applications) != 1 {
		t.Fatalf("want one EMR Serverless application, got %d", len(applications))
	}
	for id, app := range applications {
		properties := cdktest.JSONString(t, app["RuntimeConfiguration"])
		if formats := map[sparklambda.Framework]string{sparklambda.FrameworkHudi: "hudi-spark-bundle.jar",
			sparklambda.FrameworkDelta: "delta-spark.jar", sparklambda.FrameworkIceberg: "iceberg-spark3-runtime.jar"}; !strings.Contains(properties, formats[framework]) {
			t.Errorf("%s: runtime configuration %s lacks the %s jar", id, properties, framework)
		}
		subnets := cdktest.JSONString(t, app["NetworkConfiguration"].(map[string]any)["SubnetIds"])
		if want := cdktest.JSONString(t, fn["VpcConfig"].(map[string]any)["SubnetIds"]); subnets != want {
			t.Errorf("%s runs in subnets %s, want the function's %s", id, subnets, want)
		}
		output := template["Outputs"].(map[string]any)["EmrApplicationId"].(map[string]any)["Value"]
		if got, want := cdktest.JSONString(t, output), `{"Fn::GetAtt":["`+id+`","ApplicationId"]}`; got != want {
			t.Errorf("EmrApplicationId output = %s, want %s", got, want)
		}
		variables := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
		for _, name := range []string{sparklambda.EnvEmrApplicationID, sparklambda.EnvEmrExecutionRoleArn,
			sparklambda.EnvEmrThresholdBytes, sparklambda.EnvEmrStagingURI, sparklambda.EnvEmrPyFiles} {
			if _, ok := variables[name]; !ok {
				t.Errorf("the function is not routed: no %s", name)
			}
		}
	}
}

// checkAlarms checks that the sample's alarms (errors, throttles, duration, failure queue) notify the alarm topic,
// which is encrypted with the stack's key, and that the key lets CloudWatch publish to it.
func checkAlarms(t *testing.T, template map[string]any) {
	t.Helper()
	topics := cdktest.PropertiesOfType(template, "AWS::SNS::Topic")
	if len(topics) != 1 {
		t.Fatalf("want one alarm topic, got %d", len(topics))
	}
	var topicID string
	for id, props := range topics {
		topicID = id
		if !strings.Contains(cdktest.JSONString(t, props["KmsMasterKeyId"]), `"Key`) {
			t.Errorf("alarm topic %s is not encrypted with the stack's key: %v", id, props["KmsMasterKeyId"])
		}
	}
	metrics := map[string]bool{}
	for id, props := range cdktest.PropertiesOfType(template, "AWS::CloudWatch::Alarm") {
		metrics[props["MetricName"].(string)] = true
		if got := cdktest.JSONString(t, props["AlarmActions"]); got != `[{"Ref":"`+topicID+`"}]` {
			t.Errorf("alarm %s actions = %s, want the alarm topic", id, got)
		}
	}
	for _, metric := range []string{"Errors", "Throttles", "Duration", "ApproximateNumberOfMessagesVisible"} {
		if !metrics[metric] {
			t.Errorf("no alarm on %s (alarms on %v)", metric, metrics)
		}
	}
	keys := cdktest.JSONString(t, cdktest.PropertiesOfType(template, "AWS::KMS::Key"))
	if !strings.Contains(keys, `"Service":"cloudwatch.amazonaws.com"`) {
		t.Error("the stack's key does not let CloudWatch publish alarms to the encrypted topic")
	}
}

// checkEventPipeline checks the sample's event path: new CSVs under incoming/ of the data bucket invoke the Spark
// function, its asynchronous failures go to the failure queue, and concurrent writers commit through a lock table
// (Hudi, Delta) or Glue (Iceberg).
func checkEventPipeline(t *testing.T, framework sparklambda.Framework, resources map[string]any) {
	t.Helper()
	byType := map[string][]map[string]any{}
	for _, value := range resources {
		resource := value.(map[string]any)
		props, _ := resource["Properties"].(map[string]any)
		byType[resource["Type"].(string)] = append(byType[resource["Type"].(string)], props)
	}
	notifications := byType["Custom::S3BucketNotifications"]
	if len(notifications) != 1 {
		t.Fatalf("want one bucket notification resource, got %d", len(notifications))
	}
	notification := cdktest.JSONString(t, notifications[0])
	for _, want := range []string{`"BucketName":{"Ref":"Data`, `"s3:ObjectCreated:*"`, `"Value":"` + sample.IncomingPrefix + `"`,
		`"Value":"` + sample.IncomingSuffix + `"`, `"LambdaFunctionArn":{"Fn::GetAtt":["SparkFunction`} {
		if !strings.Contains(notification, want) {
			t.Errorf("the S3 trigger lacks %s: %s", want, notification)
		}
	}
	configs := byType["AWS::Lambda::EventInvokeConfig"]
	if len(configs) != 1 || !strings.Contains(cdktest.JSONString(t, configs[0]["DestinationConfig"]), `"Fn::GetAtt":["SparkFailureQueue`) {
		t.Errorf("async failures do not go to the failure queue: %v", configs)
	}
	wantTables := 1
	if framework == sparklambda.FrameworkIceberg {
		wantTables = 0 // the Glue database's optimistic commits
	}
	if tables := len(byType["AWS::DynamoDB::Table"]); tables != wantTables {
		t.Errorf("%s: want %d DynamoDB lock table, got %d", framework, wantTables, tables)
	}
}
