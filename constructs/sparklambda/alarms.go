package sparklambda

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// CloudWatch alarms on a SparkLambda (AddAlarms): opt-in, because alarms cost money (CloudWatch pricing, per alarm
// and month) and teams route them differently.

// Defaults and limits of AlarmOptions. CloudWatch's own limits (PutMetricAlarm, Amazon CloudWatch API Reference):
// a period of 10, 20, 30 s or a multiple of 60 s (Lambda and SQS publish one data point a minute, so only multiples
// of 60 make sense here), and Period × EvaluationPeriods at most 86,400 s (one day) for periods under one hour, at
// most 604,800 s (seven days) otherwise.
const (
	// DefaultAlarmDurationThresholdPercent is the default share of the function timeout, in percent, at which the
	// duration alarm fires.
	DefaultAlarmDurationThresholdPercent = 80
	// DefaultAlarmPeriodSeconds is the default length of one alarm period, in seconds (5 minutes).
	DefaultAlarmPeriodSeconds = 300
	// MinAlarmPeriodSeconds is the shortest period accepted, in seconds: Lambda and SQS metrics have one-minute
	// resolution.
	MinAlarmPeriodSeconds = 60
	// MaxAlarmPeriodSeconds is the longest period accepted, in seconds (one day).
	MaxAlarmPeriodSeconds = 86400
	// DefaultAlarmEvaluationPeriods is the default number of periods an alarm evaluates (one breaching period
	// fires it).
	DefaultAlarmEvaluationPeriods = 1
	// maxAlarmShortRangeSeconds and maxAlarmLongRangeSeconds are CloudWatch's limits of Period ×
	// EvaluationPeriods for periods under an hour and from an hour on.
	maxAlarmShortRangeSeconds = 86400
	maxAlarmLongRangeSeconds  = 604800
)

// AlarmOptions configures AddAlarms. Zero values mean "use the default"; nil options are all defaults.
type AlarmOptions struct {
	// Action is what every alarm does when it goes into ALARM, e.g.
	// awscloudwatchactions.NewSnsAction(topic). Default nil: no action (the alarms only change state). A topic
	// encrypted with a customer managed KMS key must let cloudwatch.amazonaws.com use the key (kms:Decrypt,
	// kms:GenerateDataKey*), or CloudWatch cannot publish to it (Amazon SNS Developer Guide, "Enable compatibility
	// between event sources from AWS services and encrypted topics"); the construct cannot see through an
	// IAlarmAction to add that (apps/sample does it for its topic).
	Action awscloudwatch.IAlarmAction
	// DurationThresholdPercent is the share of the function timeout, in percent, at which the duration alarm fires:
	// threshold = TimeoutSeconds × 1,000 × percent / 100 milliseconds (timeout 600 s, 80 % → 480,000 ms). Default 80;
	// valid 1–100.
	DurationThresholdPercent int
	// PeriodSeconds is the length of one alarm period in seconds. Default 300; valid 60–86,400 and a multiple of 60.
	PeriodSeconds int
	// EvaluationPeriods is how many periods each alarm evaluates; every one of them must breach. Default 1; valid 1
	// or more, with PeriodSeconds × EvaluationPeriods at most 86,400 s (periods under an hour) or 604,800 s.
	EvaluationPeriods int
}

func (o *AlarmOptions) durationThresholdPercent() int {
	return orDefault(o.DurationThresholdPercent, DefaultAlarmDurationThresholdPercent)
}
func (o *AlarmOptions) periodSeconds() int {
	return orDefault(o.PeriodSeconds, DefaultAlarmPeriodSeconds)
}
func (o *AlarmOptions) evaluationPeriods() int {
	return orDefault(o.EvaluationPeriods, DefaultAlarmEvaluationPeriods)
}

// Validate checks the options without building anything and returns a *PropsError (Construct
// "SparkLambda.AddAlarms") listing every problem, or nil. Nil options are valid (all defaults).
func (o *AlarmOptions) Validate() error {
	check := propsChecker{construct: "SparkLambda.AddAlarms"}
	if o == nil {
		return nil
	}
	check.intRange("DurationThresholdPercent", o.durationThresholdPercent(), 1, 100, "percent",
		"it is a share of the function timeout (a duration never exceeds the timeout)")
	period := o.periodSeconds()
	check.intRange("PeriodSeconds", period, MinAlarmPeriodSeconds, MaxAlarmPeriodSeconds, "seconds",
		"Lambda and SQS publish one data point a minute, and CloudWatch periods go up to a day")
	if lower := period / 60 * 60; period%60 != 0 {
		suggestion := fmt.Sprintf("%d or %d", lower, lower+60)
		if lower < MinAlarmPeriodSeconds {
			suggestion = fmt.Sprint(MinAlarmPeriodSeconds)
		}
		check.addf("PeriodSeconds is %d seconds, but CloudWatch accepts only multiples of 60 for these metrics: use %s",
			period, suggestion)
	}
	evaluations := o.evaluationPeriods()
	limit := maxAlarmLongRangeSeconds
	if period < 3600 {
		limit = maxAlarmShortRangeSeconds
	}
	switch {
	case evaluations < 1:
		check.addf("EvaluationPeriods is %d, but it must be 1 or more: leave it 0 for the default of %d", evaluations,
			DefaultAlarmEvaluationPeriods)
	case period > 0 && period*evaluations > limit:
		check.addf("EvaluationPeriods is %d with PeriodSeconds %d: %d s in all, but CloudWatch evaluates at most %d s "+
			"(one day for periods under an hour, seven days otherwise); use at most %d periods", evaluations, period,
			period*evaluations, limit, limit/period)
	}
	return check.err()
}

// SparkLambdaAlarms are the alarms AddAlarms created. Every alarm fires at or above its threshold in each of
// AlarmOptions.EvaluationPeriods periods and treats missing data (no invocations, an empty queue) as not breaching.
type SparkLambdaAlarms struct {
	// Errors fires when an invocation fails (Lambda's Errors metric, Sum ≥ 1: script errors, timeouts, out of
	// memory).
	Errors awscloudwatch.Alarm
	// Throttles fires when an invocation is throttled (Throttles, Sum ≥ 1: concurrency exhausted, e.g. by
	// ReservedConcurrency).
	Throttles awscloudwatch.Alarm
	// Duration fires when an invocation runs near the timeout (Duration, Maximum ≥ DurationThresholdPercent of the
	// timeout, in milliseconds): the job is growing towards Lambda's limit. Maximum, not a percentile, because one
	// slow run of a batch job matters and a period holds few invocations.
	Duration awscloudwatch.Alarm
	// FailureQueue fires when the failure queue the construct created holds a message (SQS
	// ApproximateNumberOfMessagesVisible, Maximum ≥ 1). Nil when SparkLambdaProps.FailureQueue was given: that
	// queue's owner watches it (it may be shared with other producers).
	FailureQueue awscloudwatch.Alarm
	// ProvisionedSpillover fires when invocations of the alias ran in on-demand environments because every
	// provisioned one was busy (ProvisionedConcurrencySpilloverInvocations of the alias, Sum ≥ 1): those started
	// cold. Nil without SparkLambdaProps.ProvisionedConcurrency.
	ProvisionedSpillover awscloudwatch.Alarm
}

// AddAlarms adds CloudWatch alarms on the function (see SparkLambdaAlarms) below a construct "Alarms", sends them to
// opts.Action when given, and returns them. opts may be nil (all defaults).
//
// Errors, Throttles and Duration use the function's FunctionName dimension, which aggregates every version and
// alias (AWS Lambda Developer Guide, "Viewing metrics for Lambda functions"): with ProvisionedConcurrency they cover
// the alias's invocations and unqualified ones alike; the alias's own dimension (FunctionName + Resource) is used
// where only it has the data, for ProvisionedSpillover.
//
// It panics with a *PropsError when opts are invalid (AlarmOptions.Validate) or when AddAlarms was already called
// for this function.
func (s *SparkLambda) AddAlarms(opts *AlarmOptions) *SparkLambdaAlarms {
	if opts == nil {
		opts = &AlarmOptions{}
	}
	err := opts.Validate()
	if s.Node().TryFindChild(jsii.String("Alarms")) != nil {
		err = &PropsError{Construct: "SparkLambda.AddAlarms", Problems: []string{
			"AddAlarms was already called for " + *s.Node().Path() + ": call it once per function (each call would " +
				"add the same alarms again)"}}
	}
	if err != nil {
		panic(err)
	}
	scope := constructs.NewConstruct(s.Construct, jsii.String("Alarms"))
	period := awscdk.Duration_Seconds(jsii.Number(float64(opts.periodSeconds())))
	options := func(statistic string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String(statistic)}
	}
	newAlarm := func(id string, metric awscloudwatch.IMetric, threshold int, description string) awscloudwatch.Alarm {
		alarm := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
			Metric:             metric,
			Threshold:          jsii.Number(float64(threshold)),
			EvaluationPeriods:  jsii.Number(float64(opts.evaluationPeriods())),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			AlarmDescription:   jsii.String(description),
		})
		if opts.Action != nil {
			alarm.AddAlarmAction(opts.Action)
		}
		return alarm
	}

	thresholdMs := s.timeoutSeconds * 1000 * opts.durationThresholdPercent() / 100
	alarms := &SparkLambdaAlarms{
		Errors: newAlarm("Errors", s.Function.MetricErrors(options("Sum")), 1,
			"The Spark function failed an invocation (script error, timeout or out of memory); see its log group "+
				"and, for asynchronous and stream invocations, the failure queue."),
		Throttles: newAlarm("Throttles", s.Function.MetricThrottles(options("Sum")), 1,
			"Invocations of the Spark function were throttled: its concurrency (reserved, or the account's) is "+
				"exhausted."),
		Duration: newAlarm("Duration", s.Function.MetricDuration(options("Maximum")), thresholdMs,
			fmt.Sprintf("An invocation of the Spark function ran %d ms or longer, %d%% of its %d s timeout: raise "+
				"the timeout or memory, or split the job.", thresholdMs, opts.durationThresholdPercent(), s.timeoutSeconds)),
	}
	if s.createdFailureQueue != nil {
		alarms.FailureQueue = newAlarm("FailureQueue",
			s.createdFailureQueue.MetricApproximateNumberOfMessagesVisible(options("Maximum")), 1,
			"The Spark function's failure queue holds events it could not process after every retry: inspect and "+
				"redrive them within 14 days.")
	}
	if s.Alias != nil {
		alarms.ProvisionedSpillover = newAlarm("ProvisionedSpillover",
			s.Alias.Metric(jsii.String("ProvisionedConcurrencySpilloverInvocations"), options("Sum")), 1,
			"Invocations of the alias ran in on-demand environments (cold starts) because every provisioned "+
				"environment was busy: raise ProvisionedConcurrency.")
	}
	return alarms
}
