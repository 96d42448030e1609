package sparklambda

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/sparklambda/spark-lambda-cdk/docker"
)

// Routing events that outgrow Lambda to EMR Serverless: RouteLargeInputsTo wires a SparkLambda to a
// SparkEmrServerless of the same table format, so that the handler can run the same script there (a contract of
// environment variables, EnvEmr*), with the same data grants on both sides and the job runs' failures in the
// function's failure queue.

const (
	// DefaultEmrThresholdMiB is the default size, in MiB, of an event's S3 inputs above which the handler hands the
	// event to EMR Serverless: 256 MiB. It rests on `make bench` (README, "Benchmark", 2026-12-08, 2 cores): a cold
	// invocation of a function of DefaultMemorySizeMiB costs a fixed part (JVM, session, the format's first run) plus,
	// per MiB of input, the warm difference between the 10 MB and the small input; projected linearly, it reaches half
	// of DefaultTimeoutSeconds at ~416 MiB for Hudi (0.71 s per MiB), ~1,129 MiB for Delta (0.26 s) and ~1,342 MiB
	// for Iceberg (0.22 s). 256 MiB stays below the lowest of these, so that one default is safe for every format with
	// the timeout's other half as margin for what the linear projection misses (spills, skew, a slower S3). A Delta
	// or Iceberg function may raise it; a function with more memory or a longer timeout may raise it further.
	DefaultEmrThresholdMiB = 256
	// MinEmrThresholdMiB is the smallest threshold accepted, in MiB.
	MinEmrThresholdMiB = 1
	// DefaultEmrStagingPrefix is the start of the default staging prefix; the function's unique id and "/" follow it,
	// so that functions routed to one application never share staged objects.
	DefaultEmrStagingPrefix = "spark-lambda-staging/"
	// EmrJobRunTagPrefix starts the key of every tag the handler puts on the job runs it starts
	// (spark-lambda:function, spark-lambda:request-id; docker/python/handler/routing.py); the function may tag job
	// runs with such keys only.
	EmrJobRunTagPrefix = "spark-lambda:"
	// EmrStagedEventRetentionDays is after how many days the staged events (<staging prefix>events/, one object per
	// event handed over by reference) expire when the staging bucket is the one SparkEmrServerless created: 7 days,
	// far above a job run's longest life (EMR Serverless's default execution timeout is 720 minutes). The staged
	// jars and Hudi defaults are few and content-addressed, and are kept.
	EmrStagedEventRetentionDays = 7
	// EmrJobRunStateChange is the EventBridge detail type of EMR Serverless's job run state changes (Amazon
	// EventBridge events reference, "Amazon EMR Serverless events").
	EmrJobRunStateChange = "EMR Serverless Job Run State Change"
	// eventsTargetQueueSameAccount is aws-cdk-lib's feature flag (cx-api EVENTS_TARGET_QUEUE_SAME_ACCOUNT) that
	// makes the SQS target of a rule limit a KMS-encrypted queue's EventBridge grant to the stack's account.
	eventsTargetQueueSameAccount = "@aws-cdk/aws-events:eventsTargetQueueSameAccount"
	// mebibyte is the number of bytes in a MiB.
	mebibyte = 1 << 20
)

// EmrFailedStates are the job run states that send the state change event to the function's failure queue: FAILED
// (the job failed) and CANCELLED (cancelled, which includes a job run stopped at its execution timeout): in both,
// the event the function handed over was not processed. SUCCESS and the in-flight states are not kept.
var EmrFailedStates = []string{"FAILED", "CANCELLED"}

// EmrRoutingOptions configures RouteLargeInputsTo. Zero values mean "use the default"; nil options are all defaults.
type EmrRoutingOptions struct {
	// ThresholdMiB is the size, in MiB, of an event's S3 input objects (their sum) above which the handler hands the
	// event to EMR Serverless. Default 256 (DefaultEmrThresholdMiB, from `make bench`'s measurements); valid 1 or
	// more.
	ThresholdMiB int
	// StagingBucket is where the handler stages what a job run needs by reference (the event, the image's
	// commit-coordination jars) under StagingPrefix. Default: the application's Bucket.
	StagingBucket awss3.IBucket
	// StagingPrefix is the key prefix of the staged objects in StagingBucket. Default "spark-lambda-staging/<the
	// function's unique id>/". Valid: a key prefix ending in "/", not "" (the whole bucket), without a leading "/",
	// "s3://" or "*", and apart from the application's LogPrefix when the bucket is the application's.
	StagingPrefix string
}

// RouteLargeInputsTo wires the function to emr, an EMR Serverless application of the same table format, so that the
// handler runs an event whose S3 inputs are larger than opts.ThresholdMiB there, with the same script (the image's
// handler/routing.py; README "Routing"):
//   - the function gets the environment variables EnvEmrApplicationID, EnvEmrExecutionRoleArn, EnvEmrThresholdBytes,
//     EnvEmrStagingURI and EnvEmrPyFiles (the contract with the handler, README "Environment variables");
//   - the function's role may call emr-serverless:StartJobRun on the application and its job runs (and TagResource on
//     its job runs, for tag keys starting with EmrJobRunTagPrefix), iam:PassRole on
//     exactly the job role with iam:PassedToService emr-serverless.amazonaws.com, and read and write the staging
//     prefix;
//   - the job role gets every data grant of the function (the script object, input and table prefixes, Glue
//     database, lock table), now and for grants made after this call, and may read the staging prefix and the py-files
//     zip; emr's network is opened to DynamoDB and Glue as the function's is;
//   - an EventBridge rule sends the application's job run state changes to FAILED or CANCELLED (EmrFailedStates) to
//     the function's FailureQueue (the CDK's SQS target, which also lets EventBridge use the queue's KMS key when the
//     key is defined in the app; an imported key's policy must allow it, see the synth warning). With several
//     functions routed to one application, each failure queue receives every failed run of that application.
//
// It returns the rule. It panics with a *PropsError when emr is nil, its Framework differs from the function's, the
// function is already routed, or an option is invalid (ThresholdMiB below 1, a bad StagingPrefix).
func (s *SparkLambda) RouteLargeInputsTo(emr *SparkEmrServerless, opts *EmrRoutingOptions) awsevents.Rule {
	if opts == nil {
		opts = &EmrRoutingOptions{}
	}
	s.checkRouting(emr, opts)
	stagingBucket, stagingPrefix := opts.StagingBucket, opts.StagingPrefix
	if stagingBucket == nil {
		stagingBucket = emr.Bucket
	}
	if stagingPrefix == "" {
		stagingPrefix = DefaultEmrStagingPrefix + *awscdk.Names_UniqueId(s.Construct) + "/"
	}
	s.emr = emr
	emr.routed = append(emr.routed, s)
	pyFiles := pyFilesAsset(awscdk.Stack_Of(s.Construct))

	// The function: the contract, StartJobRun, PassRole, staging read/write.
	threshold := int64(orDefault(opts.ThresholdMiB, DefaultEmrThresholdMiB)) * mebibyte
	stagingURI := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("s3://"), stagingBucket.BucketName(),
		jsii.String("/" + stagingPrefix)})
	for _, variable := range []struct{ key, value *string }{
		{jsii.String(EnvEmrApplicationID), emr.ApplicationId},
		{jsii.String(EnvEmrExecutionRoleArn), emr.JobRole.RoleArn()},
		{jsii.String(EnvEmrThresholdBytes), jsii.String(strconv.FormatInt(threshold, 10))},
		{jsii.String(EnvEmrStagingURI), stagingURI},
		{jsii.String(EnvEmrPyFiles), pyFiles.S3ObjectUrl()},
	} {
		s.Function.AddEnvironment(variable.key, variable.value, nil)
	}
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      s.Role,
		Actions:      jsii.Strings("emr-serverless:StartJobRun"),
		ResourceArns: &[]*string{emr.ApplicationArn, jsii.String(*emr.ApplicationArn + "/jobruns/*")},
	})
	// StartJobRun with tags (the handler names the function and request id on each run) also needs
	// emr-serverless:TagResource (tagging on creation: Service Authorization Reference, Amazon EMR Serverless); only on
	// job runs and only for the handler's own tag keys.
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      s.Role,
		Actions:      jsii.Strings("emr-serverless:TagResource"),
		ResourceArns: &[]*string{jsii.String(*emr.ApplicationArn + "/jobruns/*")},
		Conditions: &map[string]*map[string]any{
			"ForAllValues:StringLike": {"aws:TagKeys": EmrJobRunTagPrefix + "*"},
		},
	})
	suppressEmrRouting(s.Role)
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      s.Role,
		Actions:      jsii.Strings("iam:PassRole"),
		ResourceArns: &[]*string{emr.JobRole.RoleArn()},
		Conditions: &map[string]*map[string]any{
			"StringEquals": {"iam:PassedToService": EmrServerlessServicePrincipal},
		},
	})
	stagingWhy := "The handler stages each handed-over event (and the jars a job run needs) under a name generated per " +
		"invocation"
	stagingBucket.GrantReadWrite(s.Role, jsii.String(stagingPrefix+"*"))
	suppressS3PrefixGrantFor(s.Role, stagingPrefix, stagingWhy)
	if key := stagingBucket.EncryptionKey(); key != nil {
		suppressKmsKeyGrant(s.Role, key, "staging events in bucket "+*stagingBucket.Node().Path())
	}

	// Staged events are read by the job run after the invocation has ended, so the handler never deletes them; in the
	// construct's own bucket they expire (a bucket of the user's is theirs to manage: README "Routing").
	if emr.ownBucket != nil && opts.StagingBucket == nil {
		emr.ownBucket.AddLifecycleRule(&awss3.LifecycleRule{
			Id:         jsii.String("ExpireStagedEvents" + *awscdk.Names_UniqueId(s.Construct)),
			Prefix:     jsii.String(stagingPrefix + "events/"),
			Expiration: awscdk.Duration_Days(jsii.Number(EmrStagedEventRetentionDays)),
		})
	}

	// The job role: the function's data grants (now and later), staging read, the py-files zip.
	s.mirrorDataGrants(emr.access())
	stagingBucket.GrantRead(emr.JobRole, jsii.String(stagingPrefix+"*"))
	suppressS3PrefixGrantFor(emr.JobRole, stagingPrefix, stagingWhy)
	grantReadObject(emr.JobRole, "ReadSparkLambdaPyFiles", pyFiles.S3BucketName(), pyFiles.S3ObjectKey(), nil)

	// The job runs' failures: into the function's failure queue.
	if key := s.FailureQueue.EncryptionMasterKey(); key != nil && !keyPolicyEditable(key) {
		warnImportedKey(s.Construct, key, "EventBridge (events.amazonaws.com) to send failed EMR Serverless job runs "+
			"to the failure queue (kms:GenerateDataKey* and kms:Decrypt)")
	}
	// With a KMS-encrypted queue, the CDK's SQS target can name no rule in the queue and key policies (a dependency
	// cycle); its feature flag eventsTargetQueueSameAccount then limits EventBridge to this account
	// (aws:SourceAccount) instead of allowing any account's rules. The flag is set on a scope of the rule's own, not
	// on the user's app. Without a key the target names the rule (aws:SourceArn) either way.
	scope := constructs.NewConstruct(s.Construct, jsii.String("EmrJobRunFailures"))
	scope.Node().SetContext(jsii.String(eventsTargetQueueSameAccount), true)
	return awsevents.NewRule(scope, jsii.String("Rule"), &awsevents.RuleProps{
		Description: jsii.String("Failed or cancelled EMR Serverless job runs of the routed application to the " +
			"function's failure queue"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.emr-serverless"),
			DetailType: jsii.Strings(EmrJobRunStateChange),
			Detail: &map[string]any{
				"state":         EmrFailedStates,
				"applicationId": []*string{emr.ApplicationId},
			},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSqsQueue(s.FailureQueue, nil)},
	})
}

// checkRouting panics with a *PropsError listing every problem of RouteLargeInputsTo's arguments.
func (s *SparkLambda) checkRouting(emr *SparkEmrServerless, opts *EmrRoutingOptions) {
	check := propsChecker{construct: "SparkLambda.RouteLargeInputsTo"}
	switch {
	case emr == nil:
		check.addf("emr is nil: pass the SparkEmrServerless that runs the events too large for Lambda")
	case emr.Framework != s.framework:
		check.addf("emr runs %s, but the function runs %s: the same script needs the same table format on both "+
			"engines; route to a SparkEmrServerless with Framework %s", emr.Framework, s.framework, s.framework)
	}
	if s.emr != nil {
		check.addf("the function is already routed to %s: a function hands its large events to one application",
			*s.emr.Node().Path())
	}
	if opts.ThresholdMiB != 0 {
		check.atLeast("ThresholdMiB", opts.ThresholdMiB, MinEmrThresholdMiB, "MiB",
			"an event's inputs above it go to EMR Serverless; leave it 0 for the default of 1024 MiB")
	}
	if prefix := opts.StagingPrefix; prefix != "" {
		if checkKeyPart(&check, "StagingPrefix", prefix, "staging/") && !strings.HasSuffix(prefix, "/") {
			check.addf("StagingPrefix %q does not end in \"/\": the staging URI is a folder, and the grants cover %q, "+
				"which also matches e.g. %q; use %q", prefix, prefix+"*", prefix+"-old/", prefix+"/")
		}
		sharedBucket := opts.StagingBucket == nil ||
			(emr != nil && *opts.StagingBucket.Node().Path() == *emr.Bucket.Node().Path())
		if emr != nil && sharedBucket && (strings.HasPrefix(prefix, emr.LogPrefix) || strings.HasPrefix(emr.LogPrefix, prefix)) {
			check.addf("StagingPrefix %q overlaps the application's LogPrefix %q in the same bucket: the function "+
				"could then write into the job runs' logs; choose a prefix apart from it, e.g. %q", prefix,
				emr.LogPrefix, DefaultEmrStagingPrefix)
		}
	}
	if err := check.err(); err != nil {
		panic(err)
	}
}

// pyFilesAssetID is the construct id of the stack's one py-files asset (a child of the stack).
const pyFilesAssetID = "SparkLambdaPyFiles"

// pyFilesAsset returns the stack's S3 asset of the script API package: a zip whose top-level folder is sparklambda/,
// the files of docker/python/sparklambda (embedded in the module), built once per stack and written into the cloud
// assembly. The zip is byte-for-byte reproducible (sorted entries, fixed times), so its asset hash changes only with
// the package's files. It panics with an error when the zip cannot be written (the cloud assembly directory).
func pyFilesAsset(stack awscdk.Stack) awss3assets.Asset {
	if existing, ok := stack.Node().TryFindChild(jsii.String(pyFilesAssetID)).(awss3assets.Asset); ok {
		return existing
	}
	archive, err := pyFilesZip(docker.Context())
	if err != nil {
		panic(fmt.Errorf("RouteLargeInputsTo: building the sparklambda py-files zip: %w", err))
	}
	sum := sha256.Sum256(archive)
	path := filepath.Join(*awscdk.Stage_Of(stack).Outdir(), "sparklambda-pyfiles."+hex.EncodeToString(sum[:])+".zip")
	if err := os.WriteFile(path, archive, 0o644); err != nil {
		panic(fmt.Errorf("RouteLargeInputsTo: writing the sparklambda py-files zip into the cloud assembly: %w", err))
	}
	return awss3assets.NewAsset(stack, jsii.String(pyFilesAssetID), &awss3assets.AssetProps{
		Path:        jsii.String(path),
		DisplayName: jsii.String("sparklambda script API (--py-files)"),
	})
}

// pyFilesZip zips the Python files of python/sparklambda in fsys under the top-level folder sparklambda/.
func pyFilesZip(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "python/sparklambda/*.py")
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("no python/sparklambda/*.py in the embedded build context (%v)", err)
	}
	var out bytes.Buffer
	writer := zip.NewWriter(&out)
	for _, name := range names { // fs.Glob returns names in lexical order
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		header := &zip.FileHeader{Name: strings.TrimPrefix(name, "python/"), Method: zip.Deflate,
			Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
		header.SetMode(0o644)
		entry, err := writer.CreateHeader(header)
		if err != nil {
			return nil, err
		}
		if _, err := entry.Write(data); err != nil {
			return nil, err
		}
	}
	if err := writer.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
