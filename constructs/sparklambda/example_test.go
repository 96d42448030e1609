package sparklambda_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/constructs/sparklambda"
)

// A platform team's stack: a Delta Lake job that runs whenever a CSV lands under incoming/ in the raw bucket
// (and nightly), and writes a table under tables/ in the lake bucket. (Run by `go test`, which checks the output;
// README.md shows the same code.)
func ExampleNewSparkLambda() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Analytics"), nil)

	raw := awss3.NewBucket(stack, jsii.String("Raw"), &awss3.BucketProps{
		EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
	})
	lake := awss3.NewBucket(stack, jsii.String("Lake"), &awss3.BucketProps{
		EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
	})

	// Concurrent writers commit through a DynamoDB lock table the construct creates (CommitCoordination).
	orders := sparklambda.NewSparkLambda(stack, "Orders", &sparklambda.SparkLambdaProps{
		Framework:       sparklambda.FrameworkDelta,
		ScriptPath:      "../../assets/scripts/table_job.py", // uploaded as an asset; or ScriptBucket + ScriptKey
		MemorySizeMiB:   4096,
		TimeoutSeconds:  900,
		WarehouseBucket: lake,
		WarehousePrefix: "tables/",
	})
	orders.AddS3Trigger(raw, "incoming/", ".csv") // subscribes the function and grants read on incoming/
	orders.AddSchedule("Nightly", awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: jsii.String("2")}),
		map[string]any{"action": "compact"})

	template := assertions.Template_FromStack(stack, nil)
	images := template.FindResources(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Properties": map[string]any{"PackageType": "Image"},
	})
	fmt.Println("Spark functions:", len(*images))
	fmt.Println("commit coordination:", orders.CommitCoordination)
	fmt.Println("lock tables:", len(*template.FindResources(jsii.String("AWS::DynamoDB::Table"), nil)))
	fmt.Println("schedules:", len(*template.FindResources(jsii.String("AWS::Events::Rule"), nil)))
	// Output:
	// Spark functions: 1
	// commit coordination: dynamodb
	// lock tables: 1
	// schedules: 1
}
