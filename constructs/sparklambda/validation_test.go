package sparklambda_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
)

// TestValidation checks that each kind of bad props is rejected with a message that names the prop, the value
// and what to do. Every case starts from valid props and breaks one thing.
func TestValidation(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Validation"), nil)
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-1234"), AvailabilityZones: jsii.Strings("eu-west-1a"),
		PrivateSubnetIds: jsii.Strings("subnet-1234"),
	})
	bucket := awss3.Bucket_FromBucketName(stack, jsii.String("Bucket"), jsii.String("scripts-bucket"))
	hudiImage := &sparklambda.SparkImage{Framework: sparklambda.FrameworkHudi}
	script := writeScript(t)
	negative, minusOne, zero, one, two, three := -5, -1, 0, 1, 2, 3
	literalImage := &sparklambda.SparkImage{Framework: sparklambda.FrameworkDelta}
	lake := awss3.Bucket_FromBucketName(stack, jsii.String("Lake"), jsii.String("lake-bucket"))
	realImage := sparklambda.NewSparkImage(stack, "DeltaImage", &sparklambda.SparkImageProps{Framework: sparklambda.FrameworkDelta})

	cases := []struct {
		name   string
		mutate func(p *sparklambda.SparkLambdaProps)
		want   []string // every fragment must appear in the message
	}{
		{"memory below Spark's floor", func(p *sparklambda.SparkLambdaProps) { p.MemorySizeMiB = 1024 },
			[]string{"MemorySizeMiB is 1024 MiB", "between 2048 and 10240 MiB", "JVM cannot start"}},
		{"memory above Lambda's limit", func(p *sparklambda.SparkLambdaProps) { p.MemorySizeMiB = 20000 },
			[]string{"MemorySizeMiB is 20000 MiB", "Lambda's limit"}},
		{"timeout too short", func(p *sparklambda.SparkLambdaProps) { p.TimeoutSeconds = 3 },
			[]string{"TimeoutSeconds is 3 seconds", "between 60 and 900"}},
		{"timeout too long", func(p *sparklambda.SparkLambdaProps) { p.TimeoutSeconds = 3600 },
			[]string{"TimeoutSeconds is 3600 seconds", "900 s is Lambda's limit"}},
		{"ephemeral storage too small", func(p *sparklambda.SparkLambdaProps) { p.EphemeralStorageMiB = 100 },
			[]string{"EphemeralStorageMiB is 100 MiB", "between 512 and 10240"}},
		{"ephemeral storage too large", func(p *sparklambda.SparkLambdaProps) { p.EphemeralStorageMiB = 20480 },
			[]string{"EphemeralStorageMiB is 20480 MiB"}},
		{"unknown framework", func(p *sparklambda.SparkLambdaProps) { p.Framework = "PARQUET" },
			[]string{`Framework is "PARQUET"`, "HUDI, DELTA, ICEBERG"}},
		{"empty framework", func(p *sparklambda.SparkLambdaProps) { p.Framework = "" },
			[]string{`Framework is ""`}},
		{"image of another framework", func(p *sparklambda.SparkLambdaProps) { p.Image = hudiImage },
			[]string{"Image is built for HUDI, but Framework is DELTA"}},
		{"no script", func(p *sparklambda.SparkLambdaProps) { p.ScriptPath = "" },
			[]string{"no script", "ScriptPath", "ScriptBucket + ScriptKey"}},
		{"two script sources", func(p *sparklambda.SparkLambdaProps) { p.ScriptBucket = bucket; p.ScriptKey = "a.py" },
			[]string{"conflicts with ScriptBucket/ScriptKey"}},
		{"missing script file", func(p *sparklambda.SparkLambdaProps) { p.ScriptPath = "/nonexistent/job.py" },
			[]string{`ScriptPath "/nonexistent/job.py" cannot be read`}},
		{"empty script key", func(p *sparklambda.SparkLambdaProps) { p.ScriptPath = ""; p.ScriptBucket = bucket; p.ScriptKey = "  " },
			[]string{"ScriptKey is empty"}},
		{"script key is a folder", func(p *sparklambda.SparkLambdaProps) {
			p.ScriptPath = ""
			p.ScriptBucket = bucket
			p.ScriptKey = "jobs/"
		}, []string{`ScriptKey "jobs/" must name one object`}},
		{"script key without bucket", func(p *sparklambda.SparkLambdaProps) { p.ScriptPath = ""; p.ScriptKey = "a.py" },
			[]string{`ScriptKey "a.py" is set but ScriptBucket is nil`}},
		{"existing VPC and create one", func(p *sparklambda.SparkLambdaProps) { p.Vpc = vpc; p.CreateVpc = true },
			[]string{"Vpc is set and CreateVpc is true"}},
		{"no VPC and a VPC", func(p *sparklambda.SparkLambdaProps) { p.Vpc = vpc; p.NoVpc = true },
			[]string{"NoVpc is true but Vpc or CreateVpc is also set"}},
		{"subnets without VPC", func(p *sparklambda.SparkLambdaProps) { p.VpcSubnets = &awsec2.SubnetSelection{} },
			[]string{"VpcSubnets is set without Vpc"}},
		{"S3 endpoint without VPC", func(p *sparklambda.SparkLambdaProps) { p.AddS3Endpoint = true },
			[]string{"AddS3Endpoint is true without Vpc"}},
		{"MaxAzs out of range", func(p *sparklambda.SparkLambdaProps) { p.MaxAzs = 9 },
			[]string{"MaxAzs is 9 Availability Zones", "between 1 and 6"}},
		{"MaxAzs with an existing VPC", func(p *sparklambda.SparkLambdaProps) { p.Vpc = vpc; p.MaxAzs = 3 },
			[]string{"MaxAzs is 3 but the construct creates no VPC"}},
		{"negative reserved concurrency", func(p *sparklambda.SparkLambdaProps) { p.ReservedConcurrency = &negative },
			[]string{"ReservedConcurrency is -5"}},
		{"zero reserved concurrency", func(p *sparklambda.SparkLambdaProps) { p.ReservedConcurrency = &zero },
			[]string{"ReservedConcurrency is 0", "throttles every invocation"}},
		{"zero provisioned concurrency", func(p *sparklambda.SparkLambdaProps) { p.ProvisionedConcurrency = &zero },
			[]string{"ProvisionedConcurrency is 0", "1 or more", "leave it nil"}},
		{"provisioned concurrency above reserved concurrency", func(p *sparklambda.SparkLambdaProps) {
			p.ReservedConcurrency, p.ProvisionedConcurrency = &two, &three
		}, []string{"ProvisionedConcurrency is 3, but ReservedConcurrency is 2", "Lambda rejects", "at most 2"}},
		{"bad function name", func(p *sparklambda.SparkLambdaProps) { p.FunctionName = "my function!" },
			[]string{`FunctionName "my function!" is invalid`}},
		{"bad Glue database name", func(p *sparklambda.SparkLambdaProps) { p.GlueDatabase = "Sales-DB" },
			[]string{`GlueDatabase "Sales-DB" is invalid`, "lowercase"}},
		{"warehouse prefix without bucket", func(p *sparklambda.SparkLambdaProps) { p.WarehousePrefix = "tables/" },
			[]string{`WarehousePrefix "tables/" is set but WarehouseBucket is nil`}},
		{"environment overrides an owned variable", func(p *sparklambda.SparkLambdaProps) {
			p.Environment = map[string]string{"SPARK_LAMBDA_SCRIPT_KEY": "other.py"}
		}, []string{"Environment sets SPARK_LAMBDA_SCRIPT_KEY, which the construct owns"}},
		{"Glue endpoint without a VPC", func(p *sparklambda.SparkLambdaProps) { p.GlueDatabase = "sales"; p.AddGlueEndpoint = true },
			[]string{"AddGlueEndpoint is true without Vpc and GlueDatabase"}},
		{"no commit coordination without reserved concurrency", func(p *sparklambda.SparkLambdaProps) {
			p.CommitCoordination = sparklambda.CommitCoordinationNone
		}, []string{`CommitCoordination is "none" but ReservedConcurrency is unreserved`, "fail or lose commits",
			"2 of 4 concurrent writers failed", "set ReservedConcurrency to 1", "leave CommitCoordination unset"}},
		{"no commit coordination with reserved concurrency above 1", func(p *sparklambda.SparkLambdaProps) {
			p.CommitCoordination = sparklambda.CommitCoordinationNone
			p.ReservedConcurrency = &three
		}, []string{`CommitCoordination is "none" but ReservedConcurrency is 3`}},
		{"Glue commits for Delta", func(p *sparklambda.SparkLambdaProps) {
			p.CommitCoordination = sparklambda.CommitCoordinationGlue
			p.GlueDatabase = "sales"
		}, []string{`CommitCoordination is "glue" but Framework is DELTA`, "only Iceberg tables in a Glue database"}},
		{"Glue commits for Iceberg without a Glue database", func(p *sparklambda.SparkLambdaProps) {
			p.Framework = sparklambda.FrameworkIceberg
			p.CommitCoordination = sparklambda.CommitCoordinationGlue
		}, []string{`CommitCoordination is "glue" but Framework is ICEBERG and GlueDatabase is ""`}},
		{"unknown commit coordination", func(p *sparklambda.SparkLambdaProps) { p.CommitCoordination = "zookeeper" },
			[]string{`CommitCoordination is "zookeeper"`, `"dynamodb", "glue" or "none"`}},
		{"DynamoDB endpoint without a VPC", func(p *sparklambda.SparkLambdaProps) { p.AddDynamoDBEndpoint = true },
			[]string{"AddDynamoDBEndpoint is true without Vpc"}},
		{"DynamoDB endpoint without a lock table", func(p *sparklambda.SparkLambdaProps) {
			p.Framework = sparklambda.FrameworkIceberg
			p.GlueDatabase = "sales"
			p.Vpc = vpc
			p.AddDynamoDBEndpoint = true
		}, []string{`AddDynamoDBEndpoint is true but CommitCoordination resolves to "glue"`}},
		{"environment overrides the lock table", func(p *sparklambda.SparkLambdaProps) {
			p.Environment = map[string]string{"SPARK_LAMBDA_LOCK_TABLE": "mine"}
		}, []string{"Environment sets SPARK_LAMBDA_LOCK_TABLE, which the construct owns"}},
		{"async retries above Lambda's maximum", func(p *sparklambda.SparkLambdaProps) { p.AsyncRetryAttempts = &three },
			[]string{"AsyncRetryAttempts is 3 retries", "between 0 and 2", "asynchronous invocations"}},
		{"async retries below zero", func(p *sparklambda.SparkLambdaProps) { p.AsyncRetryAttempts = &negative },
			[]string{"AsyncRetryAttempts is -5 retries"}},
		{"async event age below Lambda's minimum", func(p *sparklambda.SparkLambdaProps) { p.AsyncMaxEventAgeSeconds = 30 },
			[]string{"AsyncMaxEventAgeSeconds is 30 seconds", "between 60 and 21600"}},
		{"async event age above Lambda's maximum", func(p *sparklambda.SparkLambdaProps) { p.AsyncMaxEventAgeSeconds = 86400 },
			[]string{"AsyncMaxEventAgeSeconds is 86400 seconds"}},
		{"memory one below Spark's floor", func(p *sparklambda.SparkLambdaProps) { p.MemorySizeMiB = 2047 },
			[]string{"MemorySizeMiB is 2047 MiB"}},
		{"memory one above Lambda's limit", func(p *sparklambda.SparkLambdaProps) { p.MemorySizeMiB = 10241 },
			[]string{"MemorySizeMiB is 10241 MiB"}},
		{"timeout one below the minimum", func(p *sparklambda.SparkLambdaProps) { p.TimeoutSeconds = 59 },
			[]string{"TimeoutSeconds is 59 seconds"}},
		{"timeout one above Lambda's limit", func(p *sparklambda.SparkLambdaProps) { p.TimeoutSeconds = 901 },
			[]string{"TimeoutSeconds is 901 seconds"}},
		{"ephemeral storage one below Lambda's minimum", func(p *sparklambda.SparkLambdaProps) { p.EphemeralStorageMiB = 511 },
			[]string{"EphemeralStorageMiB is 511 MiB"}},
		{"ephemeral storage one above Lambda's maximum", func(p *sparklambda.SparkLambdaProps) { p.EphemeralStorageMiB = 10241 },
			[]string{"EphemeralStorageMiB is 10241 MiB"}},
		{"MaxAzs one above 6", func(p *sparklambda.SparkLambdaProps) { p.MaxAzs = 7 },
			[]string{"MaxAzs is 7 Availability Zones"}},
		{"MaxAzs below 1", func(p *sparklambda.SparkLambdaProps) { p.MaxAzs = -1 },
			[]string{"MaxAzs is -1 Availability Zones"}},
		{"async retries one below zero", func(p *sparklambda.SparkLambdaProps) { p.AsyncRetryAttempts = &minusOne },
			[]string{"AsyncRetryAttempts is -1 retries"}},
		{"async event age one below Lambda's minimum", func(p *sparklambda.SparkLambdaProps) { p.AsyncMaxEventAgeSeconds = 59 },
			[]string{"AsyncMaxEventAgeSeconds is 59 seconds"}},
		{"async event age one above Lambda's maximum", func(p *sparklambda.SparkLambdaProps) { p.AsyncMaxEventAgeSeconds = 21601 },
			[]string{"AsyncMaxEventAgeSeconds is 21601 seconds"}},
		{"function name of 65 characters", func(p *sparklambda.SparkLambdaProps) { p.FunctionName = strings.Repeat("f", 65) },
			[]string{"FunctionName \"" + strings.Repeat("f", 65) + "\" is invalid", "1-64"}},
		{"Glue database name of 256 characters", func(p *sparklambda.SparkLambdaProps) { p.GlueDatabase = strings.Repeat("g", 256) },
			[]string{"GlueDatabase \"" + strings.Repeat("g", 256) + "\" is invalid", "1-255"}},
		{"image built as a struct literal", func(p *sparklambda.SparkLambdaProps) { p.Image = literalImage },
			[]string{"Image has no image location", "build it with sparklambda.NewSparkImage"}},
		{"script path is a directory", func(p *sparklambda.SparkLambdaProps) { p.ScriptPath = t.TempDir() },
			[]string{"is a directory"}},
		{"script key with a leading slash", func(p *sparklambda.SparkLambdaProps) {
			p.ScriptPath, p.ScriptBucket, p.ScriptKey = "", bucket, "/jobs/etl.py"
		}, []string{`ScriptKey "/jobs/etl.py" starts with "/"`, "remove the leading"}},
		{"script key as an s3:// location", func(p *sparklambda.SparkLambdaProps) {
			p.ScriptPath, p.ScriptBucket, p.ScriptKey = "", bucket, "s3://scripts-bucket/jobs/etl.py"
		}, []string{`ScriptKey "s3://scripts-bucket/jobs/etl.py" is an S3 location`}},
		{"script key with a wildcard", func(p *sparklambda.SparkLambdaProps) {
			p.ScriptPath, p.ScriptBucket, p.ScriptKey = "", bucket, "jobs/*.py"
		}, []string{`ScriptKey "jobs/*.py" contains "*"`}},
		{"warehouse prefix without a trailing slash", func(p *sparklambda.SparkLambdaProps) {
			p.WarehouseBucket, p.WarehousePrefix = lake, "tables"
		}, []string{`WarehousePrefix "tables" does not end in "/"`, `"tables*"`, `use "tables/"`}},
		{"warehouse prefix as an s3:// location", func(p *sparklambda.SparkLambdaProps) {
			p.WarehouseBucket, p.WarehousePrefix = lake, "s3://lake/tables/"
		}, []string{`WarehousePrefix "s3://lake/tables/" is an S3 location`}},
		{"warehouse prefix with a leading slash", func(p *sparklambda.SparkLambdaProps) {
			p.WarehouseBucket, p.WarehousePrefix = lake, "/tables/"
		}, []string{`WarehousePrefix "/tables/" starts with "/"`}},
		{"warehouse prefix with a wildcard", func(p *sparklambda.SparkLambdaProps) {
			p.WarehouseBucket, p.WarehousePrefix = lake, "tables/*/"
		}, []string{`WarehousePrefix "tables/*/" contains "*"`}},
		{"environment key with a dash", func(p *sparklambda.SparkLambdaProps) { p.Environment = map[string]string{"MY-VAR": "x"} },
			[]string{`Environment key "MY-VAR" is invalid`, "a letter followed by letters, digits and '_'", `"MY_VAR"`}},
		{"environment key starting with a digit", func(p *sparklambda.SparkLambdaProps) { p.Environment = map[string]string{"1VAR": "x"} },
			[]string{`Environment key "1VAR" is invalid`, `"V_1VAR"`}},
		{"environment key starting with an underscore", func(p *sparklambda.SparkLambdaProps) { p.Environment = map[string]string{"_X": "x"} },
			[]string{`Environment key "_X" is invalid`}},
		{"Glue endpoint without a Glue database", func(p *sparklambda.SparkLambdaProps) { p.Vpc = vpc; p.AddGlueEndpoint = true },
			[]string{"AddGlueEndpoint is true without Vpc and GlueDatabase"}},
		{"environment overrides a Lambda variable", func(p *sparklambda.SparkLambdaProps) {
			p.Environment = map[string]string{"AWS_REGION": "us-east-1"}
		}, []string{"Environment sets AWS_REGION, which Lambda reserves"}},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			props := &sparklambda.SparkLambdaProps{Framework: sparklambda.FrameworkDelta, ScriptPath: script}
			if err := props.Validate(); err != nil {
				t.Fatalf("baseline props are invalid: %v", err)
			}
			c.mutate(props)
			err := props.Validate()
			var propsErr *sparklambda.PropsError
			if !errors.As(err, &propsErr) {
				t.Fatalf("Validate() = %v, want a *PropsError", err)
			}
			for _, fragment := range c.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("message does not contain %q:\n%s", fragment, err)
				}
			}
		})
	}

	// Each rule's boundary value is accepted: together with the rejecting cases above, moving a bound by one or
	// deleting a rule fails a test.
	accepted := []struct {
		name   string
		mutate func(p *sparklambda.SparkLambdaProps)
	}{
		{"memory 2048 MiB", func(p *sparklambda.SparkLambdaProps) { p.MemorySizeMiB = 2048 }},
		{"memory 10240 MiB", func(p *sparklambda.SparkLambdaProps) { p.MemorySizeMiB = 10240 }},
		{"timeout 60 s", func(p *sparklambda.SparkLambdaProps) { p.TimeoutSeconds = 60 }},
		{"timeout 900 s", func(p *sparklambda.SparkLambdaProps) { p.TimeoutSeconds = 900 }},
		{"ephemeral storage 512 MiB", func(p *sparklambda.SparkLambdaProps) { p.EphemeralStorageMiB = 512 }},
		{"ephemeral storage 10240 MiB", func(p *sparklambda.SparkLambdaProps) { p.EphemeralStorageMiB = 10240 }},
		{"MaxAzs 1", func(p *sparklambda.SparkLambdaProps) { p.MaxAzs = 1 }},
		{"MaxAzs 6", func(p *sparklambda.SparkLambdaProps) { p.MaxAzs = 6 }},
		{"reserved concurrency 1", func(p *sparklambda.SparkLambdaProps) { p.ReservedConcurrency = &one }},
		{"provisioned concurrency 1", func(p *sparklambda.SparkLambdaProps) { p.ProvisionedConcurrency = &one }},
		{"provisioned concurrency equal to reserved concurrency", func(p *sparklambda.SparkLambdaProps) {
			p.ReservedConcurrency, p.ProvisionedConcurrency = &three, &three
		}},
		{"async retries 0", func(p *sparklambda.SparkLambdaProps) { p.AsyncRetryAttempts = &zero }},
		{"async retries 2", func(p *sparklambda.SparkLambdaProps) { p.AsyncRetryAttempts = &two }},
		{"async event age 60 s", func(p *sparklambda.SparkLambdaProps) { p.AsyncMaxEventAgeSeconds = 60 }},
		{"async event age 21600 s", func(p *sparklambda.SparkLambdaProps) { p.AsyncMaxEventAgeSeconds = 21600 }},
		{"function name of 64 characters", func(p *sparklambda.SparkLambdaProps) { p.FunctionName = strings.Repeat("f", 64) }},
		{"function name of 1 character", func(p *sparklambda.SparkLambdaProps) { p.FunctionName = "f" }},
		{"Glue database name of 255 characters", func(p *sparklambda.SparkLambdaProps) { p.GlueDatabase = strings.Repeat("g", 255) }},
		{"image from NewSparkImage", func(p *sparklambda.SparkLambdaProps) { p.Image = realImage }},
		{"warehouse prefix ending in a slash", func(p *sparklambda.SparkLambdaProps) {
			p.WarehouseBucket, p.WarehousePrefix = lake, "lake/tables/"
		}},
		{"whole warehouse bucket", func(p *sparklambda.SparkLambdaProps) { p.WarehouseBucket = lake }},
		{"script key in a bucket", func(p *sparklambda.SparkLambdaProps) {
			p.ScriptPath, p.ScriptBucket, p.ScriptKey = "", bucket, "jobs/etl-2024.py"
		}},
		{"environment keys of one letter and with digits and underscores", func(p *sparklambda.SparkLambdaProps) {
			p.Environment = map[string]string{"A": "1", "my_var_2": "2"}
		}},
		{"Glue endpoint with a VPC and a Glue database", func(p *sparklambda.SparkLambdaProps) {
			p.Vpc, p.GlueDatabase, p.AddGlueEndpoint = vpc, "sales", true
		}},
		{"S3 endpoint and subnets with a VPC", func(p *sparklambda.SparkLambdaProps) {
			p.Vpc, p.AddS3Endpoint, p.VpcSubnets = vpc, true, &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}
		}},
		{"no VPC alone", func(p *sparklambda.SparkLambdaProps) { p.NoVpc = true }},
		{"a created VPC with MaxAzs", func(p *sparklambda.SparkLambdaProps) { p.CreateVpc, p.MaxAzs = true, 3 }},
	}
	for _, c := range accepted {
		t.Run("accepts "+c.name, func(t *testing.T) {
			props := &sparklambda.SparkLambdaProps{Framework: sparklambda.FrameworkDelta, ScriptPath: script}
			c.mutate(props)
			if err := props.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}

	t.Run("SparkImageProps.Validate", func(t *testing.T) {
		var nilProps *sparklambda.SparkImageProps
		for name, props := range map[string]*sparklambda.SparkImageProps{
			"nil": nilProps, "empty framework": {}, "unknown framework": {Framework: "ORC"},
		} {
			var propsErr *sparklambda.PropsError
			if err := props.Validate(); !errors.As(err, &propsErr) || propsErr.Construct != "SparkImage" {
				t.Errorf("%s: Validate() = %v, want a SparkImage *PropsError", name, err)
			}
		}
		for _, framework := range sparklambda.Frameworks() {
			if err := (&sparklambda.SparkImageProps{Framework: framework}).Validate(); err != nil {
				t.Errorf("%s: Validate() = %v, want nil", framework, err)
			}
		}
	})

	t.Run("non-reserved AWS_ variables are allowed", func(t *testing.T) {
		props := &sparklambda.SparkLambdaProps{Framework: sparklambda.FrameworkDelta, ScriptPath: script,
			Environment: map[string]string{"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}}
		if err := props.Validate(); err != nil {
			t.Errorf("Validate() = %v, want nil", err)
		}
	})

	t.Run("explicit commit coordination that fits is accepted", func(t *testing.T) {
		for name, props := range map[string]*sparklambda.SparkLambdaProps{
			"none with one writer": {Framework: sparklambda.FrameworkHudi, ScriptPath: script,
				CommitCoordination: sparklambda.CommitCoordinationNone, ReservedConcurrency: &one},
			"Glue for Iceberg in Glue": {Framework: sparklambda.FrameworkIceberg, ScriptPath: script, GlueDatabase: "sales",
				CommitCoordination: sparklambda.CommitCoordinationGlue},
			"DynamoDB for Iceberg in Glue": {Framework: sparklambda.FrameworkIceberg, ScriptPath: script, GlueDatabase: "sales",
				CommitCoordination: sparklambda.CommitCoordinationDynamoDB, Vpc: vpc, AddDynamoDBEndpoint: true},
			"no async retries": {Framework: sparklambda.FrameworkHudi, ScriptPath: script, AsyncRetryAttempts: &zero,
				AsyncMaxEventAgeSeconds: 60},
		} {
			if err := props.Validate(); err != nil {
				t.Errorf("%s: Validate() = %v, want nil", name, err)
			}
		}
	})

	t.Run("all problems are reported at once", func(t *testing.T) {
		props := &sparklambda.SparkLambdaProps{Framework: "X", MemorySizeMiB: 1, TimeoutSeconds: 1}
		var propsErr *sparklambda.PropsError
		if !errors.As(props.Validate(), &propsErr) || len(propsErr.Problems) != 4 {
			t.Fatalf("want 4 problems (framework, script, memory, timeout), got %v", props.Validate())
		}
	})

	t.Run("the constructor panics at synth time with the same error", func(t *testing.T) {
		defer func() {
			recovered := recover()
			err, ok := recovered.(*sparklambda.PropsError)
			if !ok || !strings.Contains(err.Error(), "MemorySizeMiB is 100 MiB") {
				t.Fatalf("recovered %v, want a *PropsError about MemorySizeMiB", recovered)
			}
		}()
		sparklambda.NewSparkLambda(stack, "Bad", &sparklambda.SparkLambdaProps{
			Framework: sparklambda.FrameworkDelta, ScriptPath: script, MemorySizeMiB: 100,
		})
	})

	t.Run("a Glue endpoint needs the VPC's CIDR block", func(t *testing.T) {
		defer func() {
			err, ok := recover().(*sparklambda.PropsError)
			if !ok || !strings.Contains(err.Error(), "AddGlueEndpoint is true but Vpc Validation/Vpc has no CIDR block") {
				t.Fatalf("want a *PropsError naming AddGlueEndpoint and the VPC, got %v", err)
			}
		}()
		sparklambda.NewSparkLambda(stack, "NoCidr", &sparklambda.SparkLambdaProps{
			Framework: sparklambda.FrameworkIceberg, ScriptPath: script, Vpc: vpc, GlueDatabase: "sales", AddGlueEndpoint: true,
		})
	})

	t.Run("an image needs a known framework", func(t *testing.T) {
		defer func() {
			if err, ok := recover().(*sparklambda.PropsError); !ok || !strings.Contains(err.Error(), `Framework is "ORC"`) {
				t.Fatalf("want a *PropsError naming the framework, got %v", err)
			}
		}()
		sparklambda.NewSparkImage(stack, "BadImage", &sparklambda.SparkImageProps{Framework: "ORC"})
	})

	t.Run("ParseFramework", func(t *testing.T) {
		if f, err := sparklambda.ParseFramework(" iceberg "); err != nil || f != sparklambda.FrameworkIceberg {
			t.Errorf("ParseFramework(iceberg) = %v, %v", f, err)
		}
		if _, err := sparklambda.ParseFramework("orc"); err == nil || !strings.Contains(err.Error(), "HUDI, DELTA, ICEBERG") {
			t.Errorf("ParseFramework(orc) error = %v", err)
		}
	})
}

// TestTriggerValidation checks that each trigger helper rejects bad arguments at synth time with a *PropsError that
// names the argument, the value and the fix. Nothing is synthesized.
func TestTriggerValidation(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("TriggerValidation"), nil)
	other := awscdk.NewStack(app, jsii.String("Other"), nil)
	spark := sparklambda.NewSparkLambda(stack, "Job", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t), NoVpc: true, TimeoutSeconds: 900,
	})
	bucket := awss3.NewBucket(stack, jsii.String("Landing"), nil)
	shortVisibility := awssqs.NewQueue(stack, jsii.String("Short"), &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(900)),
	})
	defaultVisibility := awssqs.NewQueue(stack, jsii.String("Default"), nil)
	long := awssqs.NewQueue(stack, jsii.String("Long"), &awssqs.QueueProps{VisibilityTimeout: awscdk.Duration_Hours(jsii.Number(2))})
	fifo := awssqs.NewQueue(stack, jsii.String("Fifo"), &awssqs.QueueProps{
		Fifo: jsii.Bool(true), VisibilityTimeout: awscdk.Duration_Hours(jsii.Number(2)),
	})
	stream := awskinesis.Stream_FromStreamArn(stack, jsii.String("Stream"), jsii.String("arn:aws:kinesis:eu-west-1:123456789012:stream/clicks"))
	noStream := awsdynamodb.NewTable(stack, jsii.String("NoStream"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
	})
	const cluster = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0a1b2c3d-1"
	minusOne, zero, five, maxRetries, aboveMaxRetries := -1, 0, 5, 10000, 10001
	// A function whose timeout (840 s) is the longest a Kafka mapping supports, for MSK's accepted boundaries.
	kafka := sparklambda.NewSparkLambda(stack, "Kafka", &sparklambda.SparkLambdaProps{
		Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t), NoVpc: true, TimeoutSeconds: 840,
	})
	queues := 0
	newQueue := func(fifo bool) awssqs.IQueue { // a fresh queue per case: one mapping per queue and function
		queues++
		return awssqs.NewQueue(stack, jsii.String(fmt.Sprintf("Queue%d", queues)), &awssqs.QueueProps{
			Fifo: jsii.Bool(fifo), VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(5400)),
		})
	}
	streams := 0
	newStream := func() awskinesis.IStream {
		streams++
		return awskinesis.Stream_FromStreamArn(stack, jsii.String(fmt.Sprintf("Stream%d", streams)),
			jsii.String(fmt.Sprintf("arn:aws:kinesis:eu-west-1:123456789012:stream/s%d", streams)))
	}

	cases := []struct {
		name string
		add  func()
		want []string
	}{
		{"S3 prefix with a leading slash", func() { spark.AddS3Trigger(bucket, "/incoming/", "") },
			[]string{`prefix "/incoming/" starts with "/"`, "remove the leading"}},
		{"S3 prefix as an s3:// location", func() { spark.AddS3Trigger(bucket, "s3://landing/incoming/", "") },
			[]string{`prefix "s3://landing/incoming/" is an S3 location`, "object key only"}},
		{"S3 suffix with a wildcard", func() { spark.AddS3Trigger(bucket, "incoming/", "*.csv") },
			[]string{`suffix "*.csv" contains "*"`, "no wildcards"}},
		{"S3 bucket of another stack", func() {
			spark.AddS3Trigger(awss3.NewBucket(other, jsii.String("Elsewhere"), nil), "incoming/", "")
		}, []string{"bucket Other/Elsewhere is defined in stack Other, but the function is in stack TriggerValidation",
			"dependency cycle", "awss3.Bucket_FromBucketName"}},
		{"S3 nil bucket", func() { spark.AddS3Trigger(nil, "", "") }, []string{"bucket is nil"}},
		{"S3 prefix with a wildcard", func() { spark.AddS3Trigger(bucket, "in*/", "") }, []string{`prefix "in*/" contains "*"`}},
		{"S3 suffix with a leading slash", func() { spark.AddS3Trigger(bucket, "", "/x.csv") }, []string{`suffix "/x.csv" starts with "/"`}},
		{"GrantReadInput prefix without a trailing slash", func() { spark.GrantReadInput(bucket, "data") },
			[]string{"SparkLambda.GrantReadInput", `prefix "data" does not end in "/"`, `use "data/"`}},
		{"GrantReadInput prefix with a leading slash", func() { spark.GrantReadInput(bucket, "/data/") },
			[]string{"SparkLambda.GrantReadInput", `prefix "/data/" starts with "/"`}},
		{"GrantReadInput prefix as an s3:// location", func() { spark.GrantReadInput(bucket, "s3://landing/data/") },
			[]string{"SparkLambda.GrantReadInput", `prefix "s3://landing/data/" is an S3 location`}},
		{"GrantReadInput prefix with a wildcard", func() { spark.GrantReadInput(bucket, "data/*/") },
			[]string{"SparkLambda.GrantReadInput", `prefix "data/*/" contains "*"`}},
		{"GrantReadInput nil bucket", func() { spark.GrantReadInput(nil, "data/") },
			[]string{"SparkLambda.GrantReadInput", "bucket is nil"}},
		{"GrantReadWriteTable prefix without a trailing slash", func() { spark.GrantReadWriteTable(bucket, "tables") },
			[]string{"SparkLambda.GrantReadWriteTable", `prefix "tables" does not end in "/"`}},
		{"GrantReadWriteTable prefix with a leading slash", func() { spark.GrantReadWriteTable(bucket, "/tables/") },
			[]string{"SparkLambda.GrantReadWriteTable", `prefix "/tables/" starts with "/"`}},
		{"GrantReadWriteTable nil bucket", func() { spark.GrantReadWriteTable(nil, "") },
			[]string{"SparkLambda.GrantReadWriteTable", "bucket is nil"}},
		{"GrantGlueDatabase bad name", func() { spark.GrantGlueDatabase("Sales-DB") },
			[]string{"SparkLambda.GrantGlueDatabase", `databaseName "Sales-DB" is invalid`}},
		{"schedule is nil", func() { spark.AddSchedule("NoSchedule", nil, nil) },
			[]string{"SparkLambda.AddSchedule", `schedule of "NoSchedule" is nil`}},
		{"SQS nil queue", func() { spark.AddSqsTrigger(nil, nil) }, []string{"queue is nil"}},
		{"SQS batch below 1", func() { spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{BatchSize: -1}) },
			[]string{"BatchSize is -1 messages"}},
		{"SQS batch one above Lambda's maximum", func() {
			spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{BatchSize: 10001, MaxBatchingWindowSeconds: 1})
		}, []string{"BatchSize is 10001 messages"}},
		{"SQS FIFO batch of 11", func() {
			spark.AddSqsTrigger(newQueue(true), &sparklambda.SqsTriggerOptions{BatchSize: 11, MaxBatchingWindowSeconds: 1})
		}, []string{"BatchSize is 11 messages, but it must be between 1 and 10"}},
		{"SQS batching window one above 300 s", func() {
			spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{MaxBatchingWindowSeconds: 301})
		}, []string{"MaxBatchingWindowSeconds is 301 seconds"}},
		{"SQS batching window below 0", func() {
			spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{MaxBatchingWindowSeconds: -1})
		}, []string{"MaxBatchingWindowSeconds is -1 seconds"}},
		{"SQS batch of 11 without a window", func() { spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{BatchSize: 11}) },
			[]string{"BatchSize is 11 but MaxBatchingWindowSeconds is 0"}},
		{"SQS maximum concurrency one above 1000", func() {
			spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{MaxConcurrency: 1001})
		}, []string{"MaxConcurrency is 1001 invocations"}},
		{"stream nil", func() { spark.AddKinesisTrigger(nil, nil) }, []string{"stream is nil"}},
		{"DynamoDB nil table", func() { spark.AddDynamoDBStreamTrigger(nil, nil) }, []string{"table is nil"}},
		{"stream options one past each bound", func() {
			spark.AddKinesisTrigger(newStream(), &sparklambda.StreamTriggerOptions{BatchSize: 10001, MaxBatchingWindowSeconds: 301,
				RetryAttempts: &aboveMaxRetries, MaxRecordAgeSeconds: 604801, ParallelizationFactor: 11})
		}, []string{"BatchSize is 10001 records", "MaxBatchingWindowSeconds is 301 seconds", "RetryAttempts is 10001 retries",
			"MaxRecordAgeSeconds is 604801 seconds", "ParallelizationFactor is 11"}},
		{"stream options one below each bound", func() {
			spark.AddKinesisTrigger(newStream(), &sparklambda.StreamTriggerOptions{BatchSize: -1, MaxBatchingWindowSeconds: -1,
				MaxRecordAgeSeconds: 59, ParallelizationFactor: -1})
		}, []string{"BatchSize is -1 records", "MaxBatchingWindowSeconds is -1 seconds", "MaxRecordAgeSeconds is 59 seconds",
			"ParallelizationFactor is -1"}},
		{"MSK options one past each bound", func() {
			kafka.AddMskTrigger(cluster, "orders", &sparklambda.KafkaTriggerOptions{BatchSize: 10001, MaxBatchingWindowSeconds: 301,
				ConsumerGroupID: "group with spaces", MinimumPollers: 201, MaximumPollers: 2001,
				RetryAttempts: &aboveMaxRetries, MaxRecordAgeSeconds: 604801})
		}, []string{"BatchSize is 10001 records", "MaxBatchingWindowSeconds is 301 seconds", `ConsumerGroupID "group with spaces" is invalid`,
			"MinimumPollers is 201 pollers", "MaximumPollers is 2001 pollers", "RetryAttempts is 10001 retries",
			"MaxRecordAgeSeconds is 604801 seconds"}},
		{"MSK maximum pollers below the minimum", func() {
			kafka.AddMskTrigger(cluster, "orders", &sparklambda.KafkaTriggerOptions{MinimumPollers: 5, MaximumPollers: 4})
		}, []string{"MaximumPollers is 4 pollers, but it must be between 5 and 2000"}},
		{"MSK consumer group of 201 characters", func() {
			kafka.AddMskTrigger(cluster, "orders", &sparklambda.KafkaTriggerOptions{ConsumerGroupID: strings.Repeat("g", 201)})
		}, []string{"ConsumerGroupID", "is invalid: use 1-200"}},
		{"MSK topic of 250 characters", func() { kafka.AddMskTrigger(cluster, strings.Repeat("t", 250), nil) },
			[]string{"is not a Kafka topic name"}},
		{"MSK function timeout one above 840 s", func() {
			sparklambda.NewSparkLambda(stack, "Kafka841", &sparklambda.SparkLambdaProps{
				Framework: sparklambda.FrameworkDelta, ScriptPath: writeScript(t), NoVpc: true, TimeoutSeconds: 841,
			}).AddMskTrigger(cluster, "orders", nil)
		}, []string{"the function timeout is 841 s"}},
		{"SQS visibility timeout below 6x the function timeout", func() { spark.AddSqsTrigger(shortVisibility, nil) },
			[]string{"queue TriggerValidation/Short has a visibility timeout of 900 s, but it must be at least 5400 s",
				"6x the function timeout of 900 s", "awscdk.Duration_Seconds(jsii.Number(5400))", "or lower TimeoutSeconds"}},
		{"SQS visibility timeout one second below 6x the function timeout", func() {
			spark.AddSqsTrigger(awssqs.NewQueue(stack, jsii.String("Almost"), &awssqs.QueueProps{
				VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(5399)),
			}), nil)
		}, []string{"visibility timeout of 5399 s, but it must be at least 5400 s"}},
		{"SQS default visibility timeout", func() { spark.AddSqsTrigger(defaultVisibility, nil) },
			[]string{"queue TriggerValidation/Default has a visibility timeout of 30 s"}},
		{"SQS batch above 10 without a window", func() { spark.AddSqsTrigger(long, &sparklambda.SqsTriggerOptions{BatchSize: 50}) },
			[]string{"BatchSize is 50 but MaxBatchingWindowSeconds is 0", "at least 1 second"}},
		{"SQS batch above Lambda's maximum", func() {
			spark.AddSqsTrigger(long, &sparklambda.SqsTriggerOptions{BatchSize: 20000, MaxBatchingWindowSeconds: 400})
		}, []string{"BatchSize is 20000 messages", "MaxBatchingWindowSeconds is 400 seconds"}},
		{"SQS FIFO batch above 10", func() {
			spark.AddSqsTrigger(fifo, &sparklambda.SqsTriggerOptions{BatchSize: 20, MaxBatchingWindowSeconds: 1})
		}, []string{"BatchSize is 20 messages, but it must be between 1 and 10", "FIFO"}},
		{"SQS maximum concurrency of 1", func() { spark.AddSqsTrigger(long, &sparklambda.SqsTriggerOptions{MaxConcurrency: 1}) },
			[]string{"MaxConcurrency is 1 invocations", "between 2 and 1000"}},
		{"stream options out of range", func() {
			spark.AddKinesisTrigger(stream, &sparklambda.StreamTriggerOptions{BatchSize: 20000, RetryAttempts: &minusOne,
				MaxRecordAgeSeconds: 30, ParallelizationFactor: 11, StartingPosition: "AT_TIMESTAMP"})
		}, []string{"BatchSize is 20000 records", "RetryAttempts is -1 retries", "MaxRecordAgeSeconds is 30 seconds",
			"ParallelizationFactor is 11", `StartingPosition is "AT_TIMESTAMP"`}},
		{"DynamoDB table without a stream", func() { spark.AddDynamoDBStreamTrigger(noStream, nil) },
			[]string{"table TriggerValidation/NoStream has no stream", "StreamViewType_NEW_AND_OLD_IMAGES"}},
		{"MSK with a bad ARN and topic", func() { spark.AddMskTrigger("orders-cluster", "orders topic", nil) },
			[]string{`clusterArn "orders-cluster" is not an MSK cluster ARN`, `topic "orders topic" is not a Kafka topic name`}},
		{"MSK with a function timeout above 14 minutes", func() { spark.AddMskTrigger(cluster, "orders", nil) },
			[]string{"the function timeout is 900 s, but a Kafka event source mapping supports at most 840 s"}},
		{"MSK retry controls without provisioned mode", func() {
			spark.AddMskTrigger(cluster, "orders", &sparklambda.KafkaTriggerOptions{RetryAttempts: &five})
		}, []string{"without MinimumPollers", "only in provisioned mode"}},
	}
	// Each rule's boundary value is accepted (no panic).
	accepted := []struct {
		name string
		add  func()
	}{
		{"S3 prefix not ending in a slash (a notification filter may)", func() { spark.AddS3Trigger(bucket, "incoming/2024-", ".csv") }},
		{"GrantReadInput whole bucket and a prefix", func() { spark.GrantReadInput(bucket, ""); spark.GrantReadInput(bucket, "data/") }},
		{"GrantReadWriteTable prefix", func() { spark.GrantReadWriteTable(bucket, "tables/") }},
		{"GrantGlueDatabase name", func() { spark.GrantGlueDatabase("sales_2024") }},
		{"SQS visibility timeout exactly 6x the function timeout (5400 s)", func() {
			spark.AddSqsTrigger(awssqs.NewQueue(stack, jsii.String("Exactly"), &awssqs.QueueProps{
				VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(5400)),
			}), nil)
		}},
		{"SQS batch 1, no window", func() { spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{BatchSize: 1}) }},
		{"SQS batch 10, no window", func() { spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{BatchSize: 10}) }},
		{"SQS batch 10000, window 300 s, concurrency 1000", func() {
			spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{BatchSize: 10000, MaxBatchingWindowSeconds: 300, MaxConcurrency: 1000})
		}},
		{"SQS concurrency 2", func() { spark.AddSqsTrigger(newQueue(false), &sparklambda.SqsTriggerOptions{MaxConcurrency: 2}) }},
		{"SQS FIFO batch 10", func() { spark.AddSqsTrigger(newQueue(true), &sparklambda.SqsTriggerOptions{BatchSize: 10}) }},
		{"stream options at their upper bounds", func() {
			spark.AddKinesisTrigger(newStream(), &sparklambda.StreamTriggerOptions{BatchSize: 10000, MaxBatchingWindowSeconds: 300,
				RetryAttempts: &maxRetries, MaxRecordAgeSeconds: 604800, ParallelizationFactor: 10, StartingPosition: awslambda.StartingPosition_LATEST})
		}},
		{"stream options at their lower bounds", func() {
			spark.AddKinesisTrigger(newStream(), &sparklambda.StreamTriggerOptions{BatchSize: 1, RetryAttempts: &zero,
				MaxRecordAgeSeconds: 60, ParallelizationFactor: 1})
		}},
		{"MSK at 840 s with options at their bounds", func() {
			kafka.AddMskTrigger(cluster, strings.Repeat("t", 249), &sparklambda.KafkaTriggerOptions{BatchSize: 10000,
				MaxBatchingWindowSeconds: 300, ConsumerGroupID: strings.Repeat("g", 200), MinimumPollers: 200, MaximumPollers: 2000,
				RetryAttempts: &maxRetries, MaxRecordAgeSeconds: 604800})
		}},
		{"MSK minimum pollers 1 with retries 0 and age 60 s", func() {
			kafka.AddMskTrigger(cluster, "t", &sparklambda.KafkaTriggerOptions{MinimumPollers: 1, MaximumPollers: 1,
				RetryAttempts: &zero, MaxRecordAgeSeconds: 60})
		}},
		{"schedule", func() {
			spark.AddSchedule("Hourly", awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(1))), nil)
		}},
	}
	for _, c := range accepted {
		t.Run("accepts "+c.name, func(t *testing.T) {
			defer func() {
				if recovered := recover(); recovered != nil {
					t.Fatalf("panicked: %v", recovered)
				}
			}()
			c.add()
		})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				recovered := recover()
				err, ok := recovered.(*sparklambda.PropsError)
				if !ok {
					t.Fatalf("recovered %v, want a *PropsError", recovered)
				}
				for _, fragment := range c.want {
					if !strings.Contains(err.Error(), fragment) {
						t.Errorf("message does not contain %q:\n%s", fragment, err)
					}
				}
			}()
			c.add()
		})
	}
}

// TestAlarmOptionsValidation checks every rule of AlarmOptions: a rejecting case names the option, the value and the
// fix, and each boundary is accepted. Nothing is synthesized.
func TestAlarmOptionsValidation(t *testing.T) {
	cases := []struct {
		name string
		opts sparklambda.AlarmOptions
		want []string
	}{
		{"duration threshold above 100 %", sparklambda.AlarmOptions{DurationThresholdPercent: 101},
			[]string{"DurationThresholdPercent is 101 percent", "between 1 and 100"}},
		{"negative duration threshold", sparklambda.AlarmOptions{DurationThresholdPercent: -1},
			[]string{"DurationThresholdPercent is -1 percent"}},
		{"period below a minute", sparklambda.AlarmOptions{PeriodSeconds: 59},
			[]string{"PeriodSeconds is 59 seconds", "between 60 and 86400", "multiples of 60", "use 60"}},
		{"period above a day", sparklambda.AlarmOptions{PeriodSeconds: 86460},
			[]string{"PeriodSeconds is 86460 seconds", "between 60 and 86400"}},
		{"period not a multiple of 60", sparklambda.AlarmOptions{PeriodSeconds: 90},
			[]string{"PeriodSeconds is 90 seconds", "multiples of 60", "use 60 or 120"}},
		{"negative evaluation periods", sparklambda.AlarmOptions{EvaluationPeriods: -1},
			[]string{"EvaluationPeriods is -1", "1 or more"}},
		{"more than a day of short periods", sparklambda.AlarmOptions{PeriodSeconds: 300, EvaluationPeriods: 289},
			[]string{"EvaluationPeriods is 289 with PeriodSeconds 300", "86700 s", "at most 86400 s", "at most 288 periods"}},
		{"more than seven days of hourly periods", sparklambda.AlarmOptions{PeriodSeconds: 3600, EvaluationPeriods: 169},
			[]string{"EvaluationPeriods is 169 with PeriodSeconds 3600", "at most 604800 s", "at most 168 periods"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.opts.Validate()
			var propsErr *sparklambda.PropsError
			if !errors.As(err, &propsErr) || propsErr.Construct != "SparkLambda.AddAlarms" {
				t.Fatalf("Validate() = %v, want a SparkLambda.AddAlarms *PropsError", err)
			}
			for _, fragment := range c.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("message does not contain %q:\n%s", fragment, err)
				}
			}
		})
	}

	var nilOptions *sparklambda.AlarmOptions
	accepted := map[string]*sparklambda.AlarmOptions{
		"nil options":                       nilOptions,
		"zero options":                      {},
		"duration threshold 1 %":            {DurationThresholdPercent: 1},
		"duration threshold 100 %":          {DurationThresholdPercent: 100},
		"period 60 s":                       {PeriodSeconds: 60},
		"period 86400 s":                    {PeriodSeconds: 86400},
		"one evaluation period":             {EvaluationPeriods: 1},
		"a day of five-minute periods":      {PeriodSeconds: 300, EvaluationPeriods: 288},
		"seven days of hourly periods":      {PeriodSeconds: 3600, EvaluationPeriods: 168},
		"seven days of one-day periods":     {PeriodSeconds: 86400, EvaluationPeriods: 7},
		"a day of the default period (288)": {EvaluationPeriods: 288},
	}
	for name, opts := range accepted {
		t.Run("accepts "+name, func(t *testing.T) {
			if err := opts.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

// TestEmrServerlessValidation checks that each kind of bad SparkEmrServerlessProps is rejected with a message naming
// the prop, the value and the range, and that each rule's boundary is accepted.
func TestEmrServerlessValidation(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("EmrValidation"), nil)
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-1234"), AvailabilityZones: jsii.Strings("eu-west-1a"),
		PrivateSubnetIds: jsii.Strings("subnet-1234"),
	})
	workers := func(count, vcpu, memory, disk int) sparklambda.EmrWorkers {
		return sparklambda.EmrWorkers{Count: count, Vcpu: vcpu, MemoryGB: memory, DiskGB: disk}
	}
	capacity := func(driver, executor sparklambda.EmrWorkers) *sparklambda.EmrPreInitializedCapacity {
		return &sparklambda.EmrPreInitializedCapacity{Driver: driver, Executor: executor}
	}
	type props = sparklambda.SparkEmrServerlessProps
	cases := []struct {
		name   string
		mutate func(p *props)
		want   []string
	}{
		{"no framework", func(p *props) { p.Framework = "" }, []string{`Framework is ""`, "HUDI, DELTA, ICEBERG"}},
		{"idle timeout below 1 minute", func(p *props) { p.AutoStopIdleMinutes = -1 },
			[]string{"AutoStopIdleMinutes is -1 minutes", "between 1 and 10080 minutes"}},
		{"idle timeout above 7 days", func(p *props) { p.AutoStopIdleMinutes = 10081 },
			[]string{"AutoStopIdleMinutes is 10081 minutes", "EMR Serverless's range"}},
		{"one vCPU", func(p *props) { p.MaximumVcpu = 1 }, []string{"MaximumVcpu is 1 vCPU", "2 vCPU or more", "driver and an executor"}},
		{"3 GB memory", func(p *props) { p.MaximumMemoryGB = 3 }, []string{"MaximumMemoryGB is 3 GB", "4 GB or more"}},
		{"39 GB disk", func(p *props) { p.MaximumDiskGB = 39 }, []string{"MaximumDiskGB is 39 GB", "40 GB or more"}},
		{"no pre-initialized driver", func(p *props) { p.PreInitializedCapacity = capacity(workers(0, 0, 0, 0), workers(1, 0, 0, 0)) },
			[]string{"PreInitializedCapacity.Driver.Count is 0 workers", "between 1 and 1000000", "every job run needs a driver"}},
		{"too many executors", func(p *props) {
			p.MaximumVcpu, p.MaximumMemoryGB, p.MaximumDiskGB = 1<<30, 1<<30, 1<<30
			p.PreInitializedCapacity = capacity(workers(1, 0, 0, 0), workers(1000001, 1, 2, 20))
		}, []string{"PreInitializedCapacity.Executor.Count is 1000001 workers", "between 0 and 1000000"}},
		{"negative executors", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 0, 0, 0), workers(-1, 0, 0, 0)) },
			[]string{"PreInitializedCapacity.Executor.Count is -1 workers"}},
		{"3 vCPU workers", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 3, 8, 0), workers(0, 0, 0, 0)) },
			[]string{"PreInitializedCapacity.Driver.Vcpu is 3", "1, 2, 4, 8 or 16"}},
		{"1 vCPU worker with 9 GB", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 1, 9, 0), workers(0, 0, 0, 0)) },
			[]string{"PreInitializedCapacity.Driver.MemoryGB is 9 GB", "1 vCPU takes 2-8 GB in steps of 1 GB"}},
		{"4 vCPU worker with 7 GB", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 4, 7, 0), workers(0, 0, 0, 0)) },
			[]string{"PreInitializedCapacity.Driver.MemoryGB is 7 GB", "4 vCPU takes 8-30 GB"}},
		{"8 vCPU worker off the 4 GB step", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 8, 18, 0), workers(0, 0, 0, 0)) },
			[]string{"PreInitializedCapacity.Driver.MemoryGB is 18 GB", "16-60 GB in steps of 4 GB"}},
		{"16 vCPU worker with 128 GB", func(p *props) {
			p.PreInitializedCapacity = capacity(workers(1, 16, 128, 0), workers(0, 0, 0, 0))
			p.MaximumMemoryGB = 256
		}, []string{"PreInitializedCapacity.Driver.MemoryGB is 128 GB", "32-120 GB in steps of 8 GB"}},
		{"worker disk 19 GB", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 0, 0, 19), workers(0, 0, 0, 0)) },
			[]string{"PreInitializedCapacity.Driver.DiskGB is 19 GB", "between 20 and 200 GB"}},
		{"worker disk 201 GB", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 0, 0, 0), workers(1, 0, 0, 201)) },
			[]string{"PreInitializedCapacity.Executor.DiskGB is 201 GB"}},
		{"pre-initialized vCPUs above the maximum", func(p *props) {
			p.PreInitializedCapacity = capacity(workers(1, 4, 16, 20), workers(4, 4, 16, 20)) // 20 vCPU > 16
		}, []string{"PreInitializedCapacity needs 20 vCPU in total, but MaximumVcpu is 16 vCPU", "at least 20"}},
		{"pre-initialized memory above the maximum", func(p *props) {
			p.MaximumMemoryGB = 47
			p.PreInitializedCapacity = capacity(workers(1, 4, 16, 20), workers(2, 4, 16, 20)) // 48 GB
		}, []string{"PreInitializedCapacity needs 48 GB in total, but MaximumMemoryGB is 47 GB"}},
		{"pre-initialized disk above the maximum", func(p *props) {
			p.MaximumDiskGB = 59
			p.PreInitializedCapacity = capacity(workers(1, 4, 16, 20), workers(2, 4, 16, 20)) // 60 GB
		}, []string{"PreInitializedCapacity needs 60 GB in total, but MaximumDiskGB is 59 GB"}},
		{"a VPC and create one", func(p *props) { p.Vpc, p.CreateVpc = vpc, true }, []string{"Vpc is set and CreateVpc is true"}},
		{"no VPC and a VPC", func(p *props) { p.Vpc, p.NoVpc = vpc, true }, []string{"NoVpc is true but Vpc or CreateVpc"}},
		{"subnets without a VPC", func(p *props) { p.VpcSubnets = &awsec2.SubnetSelection{} }, []string{"VpcSubnets is set without Vpc"}},
		{"Glue endpoint without a VPC", func(p *props) { p.AddGlueEndpoint = true }, []string{"AddGlueEndpoint is true without Vpc"}},
		{"MaxAzs 7", func(p *props) { p.MaxAzs = 7 }, []string{"MaxAzs is 7 Availability Zones", "between 1 and 6"}},
		{"MaxAzs with a VPC", func(p *props) { p.Vpc, p.MaxAzs = vpc, 2 }, []string{"MaxAzs is 2 but the construct creates no VPC"}},
		{"log prefix without a slash", func(p *props) { p.LogPrefix = "logs" }, []string{`LogPrefix "logs" does not end in "/"`, `use "logs/"`}},
		{"log prefix as an s3:// location", func(p *props) { p.LogPrefix = "s3://b/logs/" }, []string{`LogPrefix "s3://b/logs/" is an S3 location`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &props{Framework: sparklambda.FrameworkDelta}
			if err := p.Validate(); err != nil {
				t.Fatalf("baseline props are invalid: %v", err)
			}
			c.mutate(p)
			err := p.Validate()
			var propsErr *sparklambda.PropsError
			if !errors.As(err, &propsErr) || propsErr.Construct != "SparkEmrServerless" {
				t.Fatalf("Validate() = %v, want a SparkEmrServerless *PropsError", err)
			}
			for _, fragment := range c.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("message does not contain %q:\n%s", fragment, err)
				}
			}
		})
	}
	var nilProps *props
	if err := nilProps.Validate(); err == nil || !strings.Contains(err.Error(), "props are nil") {
		t.Errorf("nil props: Validate() = %v", err)
	}

	accepted := []struct {
		name   string
		mutate func(p *props)
	}{
		{"idle timeout 1 minute", func(p *props) { p.AutoStopIdleMinutes = 1 }},
		{"idle timeout 10080 minutes", func(p *props) { p.AutoStopIdleMinutes = 10080 }},
		{"2 vCPU, 4 GB, 40 GB", func(p *props) { p.MaximumVcpu, p.MaximumMemoryGB, p.MaximumDiskGB = 2, 4, 40 }},
		{"one driver of the smallest size", func(p *props) {
			p.PreInitializedCapacity = capacity(workers(1, 1, 2, 20), workers(0, 0, 0, 0))
		}},
		{"1000000 executors", func(p *props) {
			p.MaximumVcpu, p.MaximumMemoryGB, p.MaximumDiskGB = 1<<30, 1<<30, 1<<30
			p.PreInitializedCapacity = capacity(workers(1, 0, 0, 0), workers(1000000, 1, 2, 20))
		}},
		{"1 vCPU with 8 GB, 200 GB disk", func(p *props) {
			p.MaximumDiskGB = 400
			p.PreInitializedCapacity = capacity(workers(1, 1, 8, 200), workers(0, 0, 0, 0))
		}},
		{"4 vCPU with 30 GB", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 4, 30, 0), workers(0, 0, 0, 0)) }},
		{"8 vCPU with 20 GB", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 8, 20, 0), workers(0, 0, 0, 0)) }},
		{"16 vCPU with 120 GB", func(p *props) { p.PreInitializedCapacity = capacity(workers(1, 16, 120, 0), workers(0, 0, 0, 0)) }},
		{"pre-initialized capacity equal to the maximum", func(p *props) {
			p.MaximumVcpu, p.MaximumMemoryGB, p.MaximumDiskGB = 16, 64, 80
			p.PreInitializedCapacity = capacity(workers(1, 4, 16, 20), workers(3, 4, 16, 20))
		}},
		{"MaxAzs 1", func(p *props) { p.MaxAzs = 1 }},
		{"MaxAzs 6", func(p *props) { p.MaxAzs = 6 }},
		{"a VPC with a Glue endpoint", func(p *props) { p.Vpc, p.AddGlueEndpoint = vpc, true }},
		{"no VPC", func(p *props) { p.NoVpc = true }},
		{"log prefix ending in a slash", func(p *props) { p.LogPrefix = "team/logs/" }},
	}
	for _, c := range accepted {
		t.Run("accepts "+c.name, func(t *testing.T) {
			p := &props{Framework: sparklambda.FrameworkIceberg}
			c.mutate(p)
			if err := p.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

// TestEmrRoutingValidation checks RouteLargeInputsTo's argument rules: each rejected with a *PropsError naming the
// method, each boundary accepted.
func TestEmrRoutingValidation(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("RoutingValidation"), nil)
	script := writeScript(t)
	newFunction := func(id string) *sparklambda.SparkLambda {
		return sparklambda.NewSparkLambda(stack, id, &sparklambda.SparkLambdaProps{
			Framework: sparklambda.FrameworkDelta, ScriptPath: script, NoVpc: true,
		})
	}
	newApplication := func(id string, framework sparklambda.Framework) *sparklambda.SparkEmrServerless {
		return sparklambda.NewSparkEmrServerless(stack, id, &sparklambda.SparkEmrServerlessProps{Framework: framework, NoVpc: true})
	}
	spark := newFunction("Spark")
	delta, hudi := newApplication("DeltaEmr", sparklambda.FrameworkDelta), newApplication("HudiEmr", sparklambda.FrameworkHudi)
	other := awss3.Bucket_FromBucketName(stack, jsii.String("Other"), jsii.String("other-bucket"))
	routed := newFunction("Routed")
	routed.RouteLargeInputsTo(delta, nil)

	route := func(s *sparklambda.SparkLambda, emr *sparklambda.SparkEmrServerless, opts *sparklambda.EmrRoutingOptions) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err, _ = r.(error)
				if err == nil {
					err = fmt.Errorf("panic %v", r)
				}
			}
		}()
		s.RouteLargeInputsTo(emr, opts)
		return nil
	}
	cases := []struct {
		name     string
		function *sparklambda.SparkLambda
		emr      *sparklambda.SparkEmrServerless
		opts     *sparklambda.EmrRoutingOptions
		want     []string
	}{
		{"nil application", spark, nil, nil, []string{"emr is nil"}},
		{"another framework", spark, hudi, nil, []string{"emr runs HUDI, but the function runs DELTA", "Framework DELTA"}},
		{"routed twice", routed, delta, nil, []string{"the function is already routed to RoutingValidation/DeltaEmr"}},
		{"threshold below 1 MiB", spark, delta, &sparklambda.EmrRoutingOptions{ThresholdMiB: -1},
			[]string{"ThresholdMiB is -1 MiB", "1 MiB or more"}},
		{"staging prefix without a slash", spark, delta, &sparklambda.EmrRoutingOptions{StagingPrefix: "staging"},
			[]string{`StagingPrefix "staging" does not end in "/"`, `use "staging/"`}},
		{"staging prefix with a wildcard", spark, delta, &sparklambda.EmrRoutingOptions{StagingPrefix: "staging/*/"},
			[]string{`StagingPrefix "staging/*/" contains "*"`}},
		{"staging prefix inside the log prefix", spark, delta, &sparklambda.EmrRoutingOptions{StagingPrefix: "emr-serverless-logs/staging/"},
			[]string{`StagingPrefix "emr-serverless-logs/staging/" overlaps the application's LogPrefix "emr-serverless-logs/"`}},
		{"staging prefix around the log prefix", spark, delta, &sparklambda.EmrRoutingOptions{StagingBucket: delta.Bucket, StagingPrefix: "emr-"},
			[]string{`overlaps the application's LogPrefix`, `StagingPrefix "emr-" does not end in "/"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := route(c.function, c.emr, c.opts)
			var propsErr *sparklambda.PropsError
			if !errors.As(err, &propsErr) || propsErr.Construct != "SparkLambda.RouteLargeInputsTo" {
				t.Fatalf("RouteLargeInputsTo = %v, want a SparkLambda.RouteLargeInputsTo *PropsError", err)
			}
			for _, fragment := range c.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("message does not contain %q:\n%s", fragment, err)
				}
			}
		})
	}

	accepted := map[string]*sparklambda.EmrRoutingOptions{
		"nil options":                        nil,
		"threshold 1 MiB":                    {ThresholdMiB: 1},
		"log prefix in another bucket":       {StagingBucket: other, StagingPrefix: "emr-serverless-logs/"},
		"staging prefix beside the logs":     {StagingPrefix: "staging/"},
		"staging bucket with default prefix": {StagingBucket: other},
	}
	index := 0
	for name, opts := range accepted {
		index++
		function := newFunction(fmt.Sprintf("Accepted%d", index))
		t.Run("accepts "+name, func(t *testing.T) {
			if err := route(function, delta, opts); err != nil {
				t.Errorf("RouteLargeInputsTo = %v, want no panic", err)
			}
		})
	}
}
