package sparklambda

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
)

// Validation of props and arguments: the *PropsError every constructor and helper panics with at synth time, and
// the rules themselves.

// PropsError lists every problem found in a construct's props. Constructors panic with a *PropsError at synth
// time, so `cdk synth` stops with a message that names each prop, the value given, the allowed range and why.
type PropsError struct {
	// Construct is the kind of construct whose props were rejected, e.g. "SparkLambda".
	Construct string
	// Problems holds one human-readable sentence per offending prop.
	Problems []string
}

// Error joins all problems into one message.
func (e *PropsError) Error() string {
	return fmt.Sprintf("invalid %s props:\n  - %s", e.Construct, strings.Join(e.Problems, "\n  - "))
}

// propsChecker accumulates problems so that a user sees every mistake at once, not one per synth.
type propsChecker struct {
	construct string
	problems  []string
}

func (c *propsChecker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// intRange checks that value lies in [min, max]; unit names the unit (e.g. "MiB") and why explains the limit.
func (c *propsChecker) intRange(prop string, value, min, max int, unit, why string) {
	if value < min || value > max {
		c.addf("%s is %d %s, but it must be between %d and %d %s: %s", prop, value, unit, min, max, unit, why)
	}
}

func (c *propsChecker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &PropsError{Construct: c.construct, Problems: c.problems}
}

var (
	functionNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	glueNamePattern     = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)
	// environmentKeyPattern is Lambda's rule for environment variable names (the Environment API type:
	// [a-zA-Z]([a-zA-Z0-9_])+; one letter is accepted too).
	environmentKeyPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	ownedEnvironment      = []string{EnvScriptBucket, EnvScriptKey, EnvFramework, EnvWarehouse, EnvGlueDatabase, EnvIcebergCatalogType,
		EnvCommitCoordination, EnvLockTable, EnvEmrApplicationID, EnvEmrExecutionRoleArn, EnvEmrThresholdBytes,
		EnvEmrStagingURI, EnvEmrPyFiles}
	// Lambda's reserved environment variables, which a function configuration cannot set (AWS Lambda Developer
	// Guide, "Defined runtime environment variables"). Other AWS_* keys, such as AWS_MAX_ATTEMPTS, are allowed.
	reservedEnvironment = map[string]bool{
		"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
		"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
		"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
		"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
		"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
		"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
	}
)

// Validate checks props without building anything and returns a *PropsError listing every problem, or nil.
func (p *SparkLambdaProps) Validate() error {
	check := propsChecker{construct: "SparkLambda"}
	if p == nil {
		check.addf("props are nil: pass &SparkLambdaProps{Framework: ..., ScriptPath: ...}")
		return check.err()
	}
	if !p.Framework.Valid() {
		check.addf("Framework is %q, but it must be one of %s: it selects the image's table-format jars",
			p.Framework, frameworkList())
	}
	if p.Image != nil && (p.Image.Location == nil || p.Image.Repository == nil) {
		check.addf("Image has no image location (Location or Repository is nil): build it with " +
			"sparklambda.NewSparkImage(scope, id, &SparkImageProps{Framework: ...}), not as a struct literal, or leave Image nil")
	}
	if p.Image != nil && p.Framework.Valid() && p.Image.Framework != p.Framework {
		check.addf("Image is built for %s, but Framework is %s: pass an image of the same framework or leave Image nil",
			p.Image.Framework, p.Framework)
	}

	// Where the script comes from: exactly one source.
	switch {
	case p.ScriptPath == "" && p.ScriptBucket == nil && p.ScriptKey == "":
		check.addf("no script: set ScriptPath (a local .py file to upload) or ScriptBucket + ScriptKey (an object you already have)")
	case p.ScriptPath != "" && (p.ScriptBucket != nil || p.ScriptKey != ""):
		check.addf("ScriptPath %q conflicts with ScriptBucket/ScriptKey: give one script source, not both", p.ScriptPath)
	case p.ScriptPath != "":
		if info, err := os.Stat(p.ScriptPath); err != nil {
			check.addf("ScriptPath %q cannot be read (%v): give the path of an existing PySpark file", p.ScriptPath, err)
		} else if info.IsDir() {
			check.addf("ScriptPath %q is a directory: give the path of one PySpark file", p.ScriptPath)
		}
	case p.ScriptBucket == nil:
		check.addf("ScriptKey %q is set but ScriptBucket is nil: set the bucket that holds the script", p.ScriptKey)
	case strings.TrimSpace(p.ScriptKey) == "":
		check.addf("ScriptKey is empty: set the S3 key of the script in ScriptBucket, e.g. \"scripts/job.py\"")
	case strings.HasSuffix(p.ScriptKey, "/"):
		check.addf("ScriptKey %q must name one object, without a trailing \"/\", e.g. \"scripts/job.py\"", p.ScriptKey)
	default:
		checkKeyPart(&check, "ScriptKey", p.ScriptKey, "scripts/job.py")
	}

	check.intRange("MemorySizeMiB", p.memorySizeMiB(), MinMemorySizeMiB, MaxMemorySizeMiB, "MiB",
		"below 2048 MiB the Spark JVM cannot start; 10240 MiB is Lambda's limit")
	check.intRange("TimeoutSeconds", p.timeoutSeconds(), MinTimeoutSeconds, MaxTimeoutSeconds, "seconds",
		"a cold JVM and SparkContext start alone takes 10-30 s; 900 s is Lambda's limit")
	check.intRange("EphemeralStorageMiB", p.ephemeralStorageMiB(), MinEphemeralStorageMiB, MaxEphemeralStorageMiB, "MiB",
		"this is Lambda's range for /tmp")
	if p.ReservedConcurrency != nil && *p.ReservedConcurrency < 1 {
		check.addf("ReservedConcurrency is %d, but it must be 1 or more: 0 throttles every invocation; leave it nil for unreserved concurrency",
			*p.ReservedConcurrency)
	}
	if p.ProvisionedConcurrency != nil {
		switch provisioned := *p.ProvisionedConcurrency; {
		case provisioned < 1:
			check.addf("ProvisionedConcurrency is %d, but it must be 1 or more: leave it nil for no provisioned "+
				"concurrency (every environment then starts on demand)", provisioned)
		case p.ReservedConcurrency != nil && *p.ReservedConcurrency >= 1 && provisioned > *p.ReservedConcurrency:
			check.addf("ProvisionedConcurrency is %d, but ReservedConcurrency is %d: Lambda rejects provisioned "+
				"concurrency above the function's reserved concurrency; lower ProvisionedConcurrency to at most %d or "+
				"raise ReservedConcurrency", provisioned, *p.ReservedConcurrency, *p.ReservedConcurrency)
		}
	}
	if p.FunctionName != "" && !functionNamePattern.MatchString(p.FunctionName) {
		check.addf("FunctionName %q is invalid: use 1-64 letters, digits, '-' or '_' (Lambda's naming rule)", p.FunctionName)
	}
	if p.GlueDatabase != "" && !glueNamePattern.MatchString(p.GlueDatabase) {
		check.addf("GlueDatabase %q is invalid: use 1-255 lowercase letters, digits or '_' (Glue's naming rule)", p.GlueDatabase)
	}
	if p.WarehousePrefix != "" && p.WarehouseBucket == nil {
		check.addf("WarehousePrefix %q is set but WarehouseBucket is nil: set the bucket the tables live in", p.WarehousePrefix)
	}
	checkPrefix(&check, "WarehousePrefix", p.WarehousePrefix, "tables/")
	keys := make([]string, 0, len(p.Environment))
	for key := range p.Environment {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if !environmentKeyPattern.MatchString(key) {
			check.addf("Environment key %q is invalid: Lambda accepts only a letter followed by letters, digits and '_' "+
				"(deployment would fail); rename it, e.g. %q", key, environmentKeyFix(key))
		}
		for _, owned := range ownedEnvironment {
			if key == owned {
				check.addf("Environment sets %s, which the construct owns: use the matching prop instead (ScriptPath/ScriptBucket/ScriptKey, Framework, WarehouseBucket, GlueDatabase, CommitCoordination, RouteLargeInputsTo)", key)
			}
		}
		if reservedEnvironment[key] {
			check.addf("Environment sets %s, which Lambda reserves for the runtime: choose another name", key)
		}
	}

	checkNetworkChoice(&check, "a function", p.Vpc != nil, p.VpcSubnets != nil, p.CreateVpc, p.NoVpc, p.MaxAzs, p.maxAzs())
	if p.AddS3Endpoint && p.Vpc == nil {
		check.addf("AddS3Endpoint is true without Vpc: the endpoint is added to an existing VPC; a created VPC always has one")
	}
	if p.AddGlueEndpoint && (p.Vpc == nil || p.GlueDatabase == "") {
		check.addf("AddGlueEndpoint is true without Vpc and GlueDatabase: the endpoint is added to an existing VPC for a declared Glue database; a created VPC gets one automatically")
	}
	p.validateCommitCoordination(&check)
	p.validateFailureHandling(&check)
	return check.err()
}

// checkNetworkChoice adds the problems of a construct's network props to check: one of "create a VPC" (the
// default), "use this VPC", "no VPC"; subnets only in the user's VPC; MaxAzs (maxAzs resolved) only for a created
// VPC, 1-6. workload names what runs in the network in the messages ("a function").
func checkNetworkChoice(check *propsChecker, workload string, vpc, subnets, createVpc, noVpc bool, maxAzsSet, maxAzs int) {
	if vpc && createVpc {
		check.addf("Vpc is set and CreateVpc is true: choose one, either your existing VPC or a VPC the construct creates")
	}
	if noVpc && (vpc || createVpc) {
		check.addf("NoVpc is true but Vpc or CreateVpc is also set: %s cannot run both outside and inside a VPC", workload)
	}
	if subnets && !vpc {
		check.addf("VpcSubnets is set without Vpc: subnets can only be selected in an existing VPC; a created VPC uses its isolated subnets")
	}
	if maxAzsSet != 0 && (vpc || noVpc) {
		check.addf("MaxAzs is %d but the construct creates no VPC (Vpc or NoVpc is set): remove MaxAzs", maxAzsSet)
	} else {
		check.intRange("MaxAzs", maxAzs, 1, 6, "Availability Zones", "a created VPC spans 1 to 6 AZs")
	}
}

// environmentKeyFix suggests a valid environment key for key: other characters become '_', and a key that does not
// start with a letter gets the prefix "V_".
func environmentKeyFix(key string) string {
	fixed := regexp.MustCompile(`[^A-Za-z0-9_]`).ReplaceAllString(key, "_")
	if fixed == "" || !(fixed[0] >= 'A' && fixed[0] <= 'Z' || fixed[0] >= 'a' && fixed[0] <= 'z') {
		fixed = "V_" + fixed
	}
	return fixed
}

// checkGrantArgs panics with a *PropsError for method when bucket is nil or prefix is not a valid grant prefix.
func checkGrantArgs(method string, bucket awss3.IBucket, prefix, example string) {
	check := propsChecker{construct: method}
	if bucket == nil {
		check.addf("bucket is nil: pass the bucket to grant access to")
	}
	checkPrefix(&check, "prefix", prefix, example)
	if err := check.err(); err != nil {
		panic(err)
	}
}

// checkKeyPart rejects an S3 key, key prefix or key suffix that is not literal and relative to the bucket: an
// "s3://" location, a leading "/" or a "*" wildcard (S3 notification filters and keys are literal, and grants add
// their own "*"). It reports whether value passed.
func checkKeyPart(check *propsChecker, name, value, example string) bool {
	switch {
	case strings.HasPrefix(strings.ToLower(value), "s3://"):
		check.addf("%s %q is an S3 location, but the bucket is given separately and this is the object key only: "+
			"pass the key %s without \"s3://bucket/\", e.g. %q", name, value, name, example)
	case strings.HasPrefix(value, "/"):
		check.addf("%s %q starts with \"/\", but S3 keys do not: remove the leading \"/\", e.g. %q", name, value, example)
	case strings.Contains(value, "*"):
		check.addf("%s %q contains \"*\", but S3 keys and notification filters are literal (no wildcards; grants add "+
			"their own): pass a plain key %s, e.g. %q", name, value, name, example)
	default:
		return true
	}
	return false
}

// checkPrefix rejects a key prefix of a grant (WarehousePrefix, GrantReadInput, GrantReadWriteTable): besides
// checkKeyPart's rules it must be "" (the whole bucket) or end in "/", because the grant covers prefix + "*".
func checkPrefix(check *propsChecker, name, value, example string) {
	if checkKeyPart(check, name, value, example) && value != "" && !strings.HasSuffix(value, "/") {
		check.addf("%s %q does not end in \"/\": the grant covers %q, which also matches e.g. %q; use %q (or \"\" "+
			"for the whole bucket)", name, value, value+"*", value+"-old/", value+"/")
	}
}
