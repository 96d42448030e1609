// Command synth synthesizes the consumer app (package consumer) into the cloud assembly directory given as its only
// argument, so that `make checkov` and `make cfn-lint` check a platform team's kind of stack too, not only the
// sample app. It exits with status 2 on a usage error.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/test/consumer"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: synth OUTDIR")
		os.Exit(2)
	}
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "..", "assets", "scripts", "table_job.py")
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(os.Args[1])})
	consumer.Build(app, script)
	app.Synth(nil)
	fmt.Printf("consumer app synthesized into %s\n", os.Args[1])
}
