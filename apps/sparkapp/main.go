// Command sparkapp is the sample CDK app: one stack per table format (Hudi, Delta, Iceberg), or the one chosen
// with `cdk synth -c framework=DELTA`. cdk.json runs it; it needs no AWS credentials to synthesize.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/apps/sample"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if _, err := sample.Build(app, "assets"); err != nil {
		fmt.Fprintln(os.Stderr, "sparkapp:", err)
		os.Exit(1)
	}
	app.Synth(nil)
}
