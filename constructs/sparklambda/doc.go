// Package sparklambda provides AWS CDK constructs that run PySpark (Spark local mode) inside an AWS Lambda
// container image, with one image per table format (Apache Hudi, Delta Lake, Apache Iceberg).
//
// The pieces:
//   - SparkImage: the ECR image asset, built from the module's docker/ context for linux/amd64 with provenance
//     and SBOM attestations disabled (Lambda rejects OCI image indexes).
//   - SparkLambda: the Lambda function that runs a PySpark script from S3 with the triggering event, its
//     least-privilege role, its log group, its network (a new isolated VPC with S3 and DynamoDB gateway endpoints
//     by default, an existing VPC, or none), its commit coordination for concurrent writers (a DynamoDB lock table,
//     or Glue's optimistic commits; see CommitCoordination) and its failure queue, plus grant helpers for input
//     locations, table locations and Glue databases.
//   - Trigger helpers on SparkLambda (AddS3Trigger, AddSchedule, AddSqsTrigger, AddKinesisTrigger,
//     AddDynamoDBStreamTrigger, AddMskTrigger) that wire failure handling by default: retries, partial batch
//     responses, and an on-failure destination or dead-letter queue, so that no event is dropped silently. With
//     SparkLambdaProps.ProvisionedConcurrency they invoke the alias "live" (SparkLambda.Alias, InvokeTarget).
//   - AddAlarms: opt-in CloudWatch alarms (errors, throttles, duration near the timeout, the failure queue,
//     provisioned-concurrency spillover).
//   - SparkEmrServerless: an EMR Serverless Spark application (the release label of docker/versions.lock, the
//     format's Spark defaults of the image, logs to S3 and CloudWatch) with a least-privilege job role, for jobs that
//     outgrow Lambda; SparkLambda.RouteLargeInputsTo hands large events to it (environment contract EnvEmr*,
//     StartJobRun and PassRole, the same data grants on the job role, failed job runs into the failure queue).
//
// Where things are: props.go (SparkLambdaProps, defaults, limits, environment names), validation.go (PropsError and
// the rules), function.go (NewSparkLambda: how the pieces are put together), grants.go (every IAM permission the
// role gets, and the role-level data grants both constructs use), network.go (VPC, security group, endpoints, for
// both constructs), emrprops.go, emr.go and sparkconf.go (SparkEmrServerlessProps and its rules, NewSparkEmrServerless,
// the application's Spark defaults), routing.go (RouteLargeInputsTo, the py-files asset), lock.go (reading
// docker/versions.lock), coordination.go (lock table), failures.go and
// encryption.go (failure queue, KMS key policies), triggers.go and sources.go (the trigger helpers), alarms.go (AddAlarms), image.go
// (SparkImage), nag.go and checkov.go (the reasoned cdk-nag suppressions and checkov skips the construct writes
// into its resources' metadata; the package does not import cdk-nag).
//
// Bad props panic at synth time with a *PropsError that names every offending prop, its value, the allowed range
// and why; call (*SparkLambdaProps).Validate to get the same error as a value instead.
package sparklambda
