package sparklambda

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
)

// SparkEmrServerlessProps, its defaults and limits, and their validation.

// Defaults and limits of SparkEmrServerlessProps. EMR Serverless's own limits: an idle timeout of 1-10,080 minutes
// (EMR Serverless API Reference, "AutoStopConfig"), 1-1,000,000 pre-initialized workers of one type
// ("InitialCapacityConfig"), and worker sizes of 1, 2, 4, 8 or 16 vCPU, 2-8 GB memory per vCPU in the steps of the
// table below and 20-200 GB disk (EMR Serverless User Guide, "Understanding application behavior in EMR Serverless",
// "Supported worker configurations"). Maximum capacity has no documented upper bound besides the account's service
// quota of concurrent vCPUs (Service Quotas, "Amazon EMR Serverless"), which caps every application of the account.
const (
	// DefaultAutoStopIdleMinutes is how long, in minutes, the application may be idle before EMR Serverless stops it
	// (and releases pre-initialized capacity): 15, EMR Serverless's own default, made explicit.
	DefaultAutoStopIdleMinutes = 15
	// MinAutoStopIdleMinutes is EMR Serverless's shortest idle timeout, in minutes.
	MinAutoStopIdleMinutes = 1
	// MaxAutoStopIdleMinutes is EMR Serverless's longest idle timeout, in minutes (7 days).
	MaxAutoStopIdleMinutes = 10080
	// DefaultMaximumVcpu is the default cap on the vCPUs all running workers of the application may hold at once:
	// 16, e.g. a driver and three executors of 4 vCPU each.
	DefaultMaximumVcpu = 16
	// MinMaximumVcpu is the smallest vCPU cap accepted: a Spark job needs a driver and at least one executor, each a
	// worker of at least 1 vCPU.
	MinMaximumVcpu = 2
	// DefaultMaximumMemoryGB is the default cap on the memory of all running workers, in GB: 8 GB per vCPU of
	// DefaultMaximumVcpu, the ratio of the EMR Serverless User Guide's example (50 workers of 2 vCPU and 16 GB).
	DefaultMaximumMemoryGB = 128
	// MinMaximumMemoryGB is the smallest memory cap accepted, in GB: two workers of the smallest size (2 GB).
	MinMaximumMemoryGB = 4
	// DefaultMaximumDiskGB is the default cap on the disk of all running workers, in GB: 10 GB per vCPU of
	// DefaultMaximumVcpu, the ratio of the same example (20 GB per 2-vCPU worker).
	DefaultMaximumDiskGB = 160
	// MinMaximumDiskGB is the smallest disk cap accepted, in GB: two workers of the smallest disk (20 GB).
	MinMaximumDiskGB = 40
	// DefaultWorkerVcpu, DefaultWorkerMemoryGB and DefaultWorkerDiskGB are the size of a pre-initialized worker whose
	// EmrWorkers leaves it zero: 4 vCPU, 16 GB memory, 20 GB disk.
	DefaultWorkerVcpu     = 4
	DefaultWorkerMemoryGB = 16
	DefaultWorkerDiskGB   = 20
	// MinWorkerDiskGB and MaxWorkerDiskGB are EMR Serverless's range of one worker's disk, in GB.
	MinWorkerDiskGB = 20
	MaxWorkerDiskGB = 200
	// MaxPreInitializedWorkers is EMR Serverless's largest count of pre-initialized workers of one type.
	MaxPreInitializedWorkers = 1000000
	// DefaultEmrLogPrefix is where, in LogBucket, EMR Serverless writes the job runs' logs.
	DefaultEmrLogPrefix = "emr-serverless-logs/"
)

// workerMemory is the memory range, in GB, and its step of one worker of a vCPU size (EMR Serverless User Guide,
// "Supported worker configurations").
var workerMemory = map[int]struct{ min, max, step int }{
	1: {2, 8, 1}, 2: {4, 16, 1}, 4: {8, 30, 1}, 8: {16, 60, 4}, 16: {32, 120, 8},
}

// EmrWorkers is a number of pre-initialized workers of one size (drivers or executors). Zero sizes mean the
// defaults (DefaultWorkerVcpu, DefaultWorkerMemoryGB, DefaultWorkerDiskGB).
type EmrWorkers struct {
	// Count is the number of workers kept initialized. Valid 0 (none of this kind) to 1,000,000; the driver count of
	// a PreInitializedCapacity must be at least 1 (every job run needs a driver).
	Count int
	// Vcpu is one worker's vCPUs: 1, 2, 4, 8 or 16. Default 4.
	Vcpu int
	// MemoryGB is one worker's memory, in GB: for 1 vCPU 2-8, 2 vCPU 4-16, 4 vCPU 8-30 (steps of 1 GB), 8 vCPU 16-60
	// (steps of 4 GB), 16 vCPU 32-120 (steps of 8 GB). Default 16. Spark's memory overhead (10 %, at least 384 MB)
	// comes out of it: size spark.driver.memory / spark.executor.memory of the jobs about 10 % below it.
	MemoryGB int
	// DiskGB is one worker's disk, in GB: 20-200. Default 20 (the 20 GB every worker has without charge).
	DiskGB int
}

func (w EmrWorkers) vcpu() int     { return orDefault(w.Vcpu, DefaultWorkerVcpu) }
func (w EmrWorkers) memoryGB() int { return orDefault(w.MemoryGB, DefaultWorkerMemoryGB) }
func (w EmrWorkers) diskGB() int   { return orDefault(w.DiskGB, DefaultWorkerDiskGB) }

// EmrPreInitializedCapacity keeps drivers and executors initialized while the application is started, so that job
// runs start in seconds instead of provisioning workers first. They are billed while the application is started
// (until it stops, after AutoStopIdleMinutes idle), whether jobs run or not.
type EmrPreInitializedCapacity struct {
	// Driver is the pre-initialized Spark drivers: one per job run that may start at once (Count at least 1).
	Driver EmrWorkers
	// Executor is the pre-initialized Spark executors, shared by the running jobs (Count 0: executors on demand).
	Executor EmrWorkers
}

// SparkEmrServerlessProps configures a SparkEmrServerless. Zero values mean "use the default"; every default is
// documented on its field.
type SparkEmrServerlessProps struct {
	// Framework is the table format of the jobs (HUDI, DELTA or ICEBERG): the application's spark-defaults are the
	// image's for that format (docker/conf/spark-defaults-<FRAMEWORK>.conf) plus the format's jars of the EMR
	// release. Required; a SparkLambda routed to the application must have the same Framework.
	Framework Framework

	// AutoStart starts the stopped application when a job run is submitted. Default nil: true (EMR Serverless's
	// default). With false, the application must be started (StartApplication) before job runs are accepted.
	AutoStart *bool
	// AutoStopIdleMinutes is how long, in minutes, the application may be idle before it stops. Default 15; valid
	// 1-10,080 (EMR Serverless's range).
	AutoStopIdleMinutes int

	// MaximumVcpu caps the vCPUs of all workers the application runs at once. Default 16; valid 2 or more.
	MaximumVcpu int
	// MaximumMemoryGB caps the memory of all workers the application runs at once, in GB. Default 128; valid 4 or
	// more.
	MaximumMemoryGB int
	// MaximumDiskGB caps the disk of all workers the application runs at once, in GB. Default 160; valid 40 or more.
	MaximumDiskGB int
	// PreInitializedCapacity keeps workers initialized while the application is started (billed while it is).
	// Default nil: none, every job run provisions its workers (a start of about a minute or two). The workers it
	// keeps count towards MaximumVcpu, MaximumMemoryGB and MaximumDiskGB and must fit in them.
	PreInitializedCapacity *EmrPreInitializedCapacity

	// Vpc is an existing VPC for the job runs' network interfaces, e.g. the Vpc of the SparkLambda that routes to
	// the application. Default: a new VPC with isolated subnets only, an S3 gateway endpoint and a flow log (see
	// CreateVpc). Conflicts with CreateVpc and NoVpc. The VPC must route the jobs to S3 (a gateway endpoint or a
	// NAT gateway; a VPC a SparkLambda created has the endpoint).
	Vpc awsec2.IVpc
	// VpcSubnets selects subnets of Vpc. Default: the CDK's default selection (private subnets, or isolated ones
	// when the VPC has no private subnets). Needs Vpc. EMR Serverless accepts 1-16 subnets, in the Availability
	// Zones it supports in the region.
	VpcSubnets *awsec2.SubnetSelection
	// AddGlueEndpoint lets the jobs reach the Glue API through the Glue interface endpoint of the constructs in Vpc
	// (added once per VPC, or the one a SparkLambda with AddGlueEndpoint, or a created VPC, already has). Default
	// false: with Vpc and a Glue database granted, the jobs reach Glue through the VPC's own route, with egress HTTPS
	// to any IPv4 address. Needs Vpc (a VPC that knows its CIDR block).
	AddGlueEndpoint bool
	// CreateVpc states explicitly that the construct creates its own VPC; that is also what happens when neither Vpc
	// nor NoVpc is set. Conflicts with Vpc and NoVpc.
	CreateVpc bool
	// MaxAzs is the number of Availability Zones of a created VPC. Default 2; valid 1-6.
	MaxAzs int
	// NoVpc runs the jobs without a network configuration (EMR Serverless's default networking, outside any VPC of
	// the account). Default false. Conflicts with Vpc, CreateVpc, VpcSubnets and AddGlueEndpoint.
	NoVpc bool

	// EncryptionKey is a customer managed KMS key for what the application stores. Default nil: AWS-managed
	// encryption. With a key: the CloudWatch log group of the job runs (the key policy lets CloudWatch Logs use it, as
	// for SparkLambda), the logs EMR Serverless writes to CloudWatch Logs and to S3 (the monitoring configuration's
	// EncryptionKeyArn), and a LogBucket the construct creates (SSE-KMS); the job role may use the key (the CDK's
	// encrypt/decrypt grant on the key's ARN).
	EncryptionKey awskms.IKey
	// LogRetention is how long the job runs' CloudWatch log group (and a created VPC's flow log) keeps events, and
	// after how many days a LogBucket the construct creates expires the objects under LogPrefix. Default 30 days.
	LogRetention awslogs.RetentionDays
	// LogBucket receives the job runs' logs under LogPrefix (the application's S3 monitoring configuration); the job
	// role may write there. Default: a new bucket (SSE-S3, or SSE-KMS with EncryptionKey; TLS only, public access
	// blocked, versioned, objects under LogPrefix expire after LogRetention), exposed as SparkEmrServerless.Bucket,
	// which RouteLargeInputsTo also uses for its staging prefix by default.
	LogBucket awss3.IBucket
	// LogPrefix is the key prefix of the logs in LogBucket. Default "emr-serverless-logs/". Valid: a key prefix that
	// ends in "/", without a leading "/", "s3://" or "*".
	LogPrefix string
}

func (p *SparkEmrServerlessProps) autoStopIdleMinutes() int {
	return orDefault(p.AutoStopIdleMinutes, DefaultAutoStopIdleMinutes)
}
func (p *SparkEmrServerlessProps) maximumVcpu() int {
	return orDefault(p.MaximumVcpu, DefaultMaximumVcpu)
}
func (p *SparkEmrServerlessProps) maximumMemoryGB() int {
	return orDefault(p.MaximumMemoryGB, DefaultMaximumMemoryGB)
}
func (p *SparkEmrServerlessProps) maximumDiskGB() int {
	return orDefault(p.MaximumDiskGB, DefaultMaximumDiskGB)
}
func (p *SparkEmrServerlessProps) maxAzs() int { return orDefault(p.MaxAzs, DefaultMaxAzs) }
func (p *SparkEmrServerlessProps) logPrefix() string {
	if p.LogPrefix == "" {
		return DefaultEmrLogPrefix
	}
	return p.LogPrefix
}
func (p *SparkEmrServerlessProps) logRetention() awslogs.RetentionDays {
	if p.LogRetention == "" {
		return DefaultLogRetention
	}
	return p.LogRetention
}

// Validate checks props without building anything and returns a *PropsError listing every problem, or nil.
func (p *SparkEmrServerlessProps) Validate() error {
	check := propsChecker{construct: "SparkEmrServerless"}
	if p == nil {
		check.addf("props are nil: pass &SparkEmrServerlessProps{Framework: ...}")
		return check.err()
	}
	if !p.Framework.Valid() {
		check.addf("Framework is %q, but it must be one of %s: it selects the table format's Spark settings and jars",
			p.Framework, frameworkList())
	}
	check.intRange("AutoStopIdleMinutes", p.autoStopIdleMinutes(), MinAutoStopIdleMinutes, MaxAutoStopIdleMinutes,
		"minutes", "this is EMR Serverless's range for the idle timeout")
	check.atLeast("MaximumVcpu", p.maximumVcpu(), MinMaximumVcpu, "vCPU",
		"a Spark job needs a driver and an executor, each a worker of at least 1 vCPU")
	check.atLeast("MaximumMemoryGB", p.maximumMemoryGB(), MinMaximumMemoryGB, "GB",
		"a Spark job needs a driver and an executor, each a worker of at least 2 GB")
	check.atLeast("MaximumDiskGB", p.maximumDiskGB(), MinMaximumDiskGB, "GB",
		"a Spark job needs a driver and an executor, each a worker of at least 20 GB disk")
	if capacity := p.PreInitializedCapacity; capacity != nil {
		checkWorkers(&check, "PreInitializedCapacity.Driver", capacity.Driver, 1)
		checkWorkers(&check, "PreInitializedCapacity.Executor", capacity.Executor, 0)
		vcpu := capacity.Driver.Count*capacity.Driver.vcpu() + capacity.Executor.Count*capacity.Executor.vcpu()
		memory := capacity.Driver.Count*capacity.Driver.memoryGB() + capacity.Executor.Count*capacity.Executor.memoryGB()
		disk := capacity.Driver.Count*capacity.Driver.diskGB() + capacity.Executor.Count*capacity.Executor.diskGB()
		for _, total := range []struct {
			prop, unit string
			value, max int
		}{
			{"MaximumVcpu", "vCPU", vcpu, p.maximumVcpu()},
			{"MaximumMemoryGB", "GB", memory, p.maximumMemoryGB()},
			{"MaximumDiskGB", "GB", disk, p.maximumDiskGB()},
		} {
			if total.value > total.max {
				check.addf("PreInitializedCapacity needs %d %s in total, but %s is %d %s: pre-initialized workers count "+
					"towards the maximum capacity; raise %s to at least %d or keep fewer or smaller workers",
					total.value, total.unit, total.prop, total.max, total.unit, total.prop, total.value)
			}
		}
	}

	checkNetworkChoice(&check, "the jobs", p.Vpc != nil, p.VpcSubnets != nil, p.CreateVpc, p.NoVpc, p.MaxAzs, p.maxAzs())
	if p.AddGlueEndpoint && p.Vpc == nil {
		check.addf("AddGlueEndpoint is true without Vpc: the endpoint is added to an existing VPC; a created VPC gets one when a Glue database is granted")
	}
	if p.LogPrefix != "" && checkKeyPart(&check, "LogPrefix", p.LogPrefix, DefaultEmrLogPrefix) &&
		!strings.HasSuffix(p.LogPrefix, "/") {
		check.addf("LogPrefix %q does not end in \"/\": EMR Serverless writes the logs below it and the job role may "+
			"write %q, which also matches e.g. %q; use %q", p.LogPrefix, p.LogPrefix+"*", p.LogPrefix+"-old/", p.LogPrefix+"/")
	}
	return check.err()
}

// checkWorkers adds the problems of one kind of pre-initialized workers (name is the prop path) to check; minCount is
// the smallest count accepted.
func checkWorkers(check *propsChecker, name string, workers EmrWorkers, minCount int) {
	why := "this is EMR Serverless's range of pre-initialized workers of one kind"
	if minCount == 1 {
		why = "every job run needs a driver, and EMR Serverless keeps at most 1000000 workers of one kind"
	}
	check.intRange(name+".Count", workers.Count, minCount, MaxPreInitializedWorkers, "workers", why)
	memory, known := workerMemory[workers.vcpu()]
	if !known {
		check.addf("%s.Vcpu is %d, but it must be 1, 2, 4, 8 or 16: EMR Serverless's worker sizes (or 0 for %d)",
			name, workers.Vcpu, DefaultWorkerVcpu)
	} else if m := workers.memoryGB(); m < memory.min || m > memory.max || (m-memory.min)%memory.step != 0 {
		check.addf("%s.MemoryGB is %d GB, but a worker of %d vCPU takes %d-%d GB in steps of %d GB (EMR Serverless's "+
			"worker sizes)", name, m, workers.vcpu(), memory.min, memory.max, memory.step)
	}
	check.intRange(name+".DiskGB", workers.diskGB(), MinWorkerDiskGB, MaxWorkerDiskGB, "GB",
		"this is EMR Serverless's range of one worker's disk")
}

// atLeast checks that value is min or more; unit names the unit and why explains the bound.
func (c *propsChecker) atLeast(prop string, value, min int, unit, why string) {
	if value < min {
		c.addf("%s is %d %s, but it must be %d %s or more: %s", prop, value, unit, min, unit, why)
	}
}

// networkSpec resolves the network props of a SparkEmrServerless.
func (p *SparkEmrServerlessProps) networkSpec() networkSpec {
	return networkSpec{label: "Spark EMR Serverless", noVpc: p.NoVpc, vpc: p.Vpc, subnets: p.VpcSubnets,
		addGlueEndpoint: p.AddGlueEndpoint, maxAzs: p.maxAzs(), encryptionKey: p.EncryptionKey,
		retention: p.logRetention()}
}

// workerSize is one worker's size in the L1's strings ("4 vCPU", "16 GB", "20 GB").
func (w EmrWorkers) workerSize() (vcpu, memory, disk string) {
	return fmt.Sprintf("%d vCPU", w.vcpu()), fmt.Sprintf("%d GB", w.memoryGB()), fmt.Sprintf("%d GB", w.diskGB())
}
