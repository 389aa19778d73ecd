package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestTheStackPassesTheAWSSolutionsChecks runs cdk-nag's AwsSolutions pack
// over the stack: no error and no warning may be left. The suppressions
// live beside the resources they concern in stack.go, each with its reason.
func TestTheStackPassesTheAWSSolutionsChecks(t *testing.T) {
	s := stackUnderTest(t)
	t.Logf("synthesized with the AWS Solutions checks in %s", synthTook.Round(100_000_000))
	rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, m := range *s.annotations.FindError(jsii.String("*"), rule) {
		t.Errorf("%s: %v", *m.Id, m.Entry.Data)
	}
	for _, m := range *s.annotations.FindWarning(jsii.String("*"), rule) {
		t.Errorf("warning %s: %v", *m.Id, m.Entry.Data)
	}
	// Rules the checks could not evaluate are reported as errors too.
	for _, m := range *s.annotations.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("CdkNagValidationFailure.*"))) {
		t.Errorf("cdk-nag could not check %s: %v", *m.Id, m.Entry.Data)
	}
}

// TestEverySuppressionIsUsedAndSaysWhy reads what the checks suppressed
// (logged because the tests set LogIgnores): exactly these findings, each
// with a reason. It also shows that the checks ran at all.
func TestEverySuppressionIsUsedAndSaysWhy(t *testing.T) {
	s := stackUnderTest(t)
	re := regexp.MustCompile(`^(AwsSolutions-[A-Za-z0-9]+) was triggered but suppressed\. Provided reason: "(.*)"$`)
	var got []string
	for _, m := range *s.annotations.FindInfo(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("CdkNagSuppression.*"))) {
		data, _ := m.Entry.Data.(string)
		sub := re.FindStringSubmatch(strings.TrimSpace(strings.TrimPrefix(data, "CdkNagSuppression: ")))
		if sub == nil {
			t.Errorf("%s: unexpected suppression message %q", *m.Id, data)
			continue
		}
		if len(strings.Fields(sub[2])) < 8 {
			t.Errorf("%s: %s is suppressed without a real reason: %q", *m.Id, sub[1], sub[2])
		}
		path := strings.TrimPrefix(*m.Id, "/"+StackName(s.props.Stage)+"/")
		got = append(got, sub[1]+" "+path)
	}
	slices.Sort(got)
	want := []string{
		"AwsSolutions-APIG4 Api/GET--healthz/Resource",          // public health check
		"AwsSolutions-APIG4 Api/GET--v1--openapi.json/Resource", // public API description
		"AwsSolutions-SQS3 RotationDeadLetters/Resource",        // it is the dead-letter queue
	}
	if !slices.Equal(got, want) {
		t.Errorf("suppressed findings:\n got %q\nwant %q", got, want)
	}
}
