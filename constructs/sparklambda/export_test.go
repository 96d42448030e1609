package sparklambda

// The cdk-nag suppression helpers, for the tests in package sparklambda_test (nag_test.go).
var (
	Suppress       = suppress
	AppliesToRegex = appliesToRegex
)
