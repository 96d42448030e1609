package sparklambda

import (
	"fmt"
	"strings"
)

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
