package sparklambda

import "github.com/sparklambda/spark-lambda-cdk/docker"

// The cdk-nag suppression helpers, for the tests in package sparklambda_test (nag_test.go).
var (
	Suppress       = suppress
	AppliesToRegex = appliesToRegex
)

// PyFilesZip is the py-files zip RouteLargeInputsTo uploads, built from the embedded build context (emr_test.go).
func PyFilesZip() ([]byte, error) { return pyFilesZip(docker.Context()) }
