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
	// Rules with granular findings (IAM5) name the finding:
	// "CdkNagSuppression[Action::s3:List*]: AwsSolutions-IAM5 was triggered …".
	re := regexp.MustCompile(`^CdkNagSuppression(\[[^\]]+\])?: (AwsSolutions-[A-Za-z0-9]+) was triggered but suppressed\. Provided reason: "(.*)"$`)
	var got []string
	for _, m := range *s.annotations.FindInfo(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("CdkNagSuppression.*"))) {
		data, _ := m.Entry.Data.(string)
		sub := re.FindStringSubmatch(strings.TrimSpace(data))
		if sub == nil {
			t.Errorf("%s: unexpected suppression message %q", *m.Id, data)
			continue
		}
		if len(strings.Fields(sub[3])) < 8 {
			t.Errorf("%s: %s is suppressed without a real reason: %q", *m.Id, sub[2], sub[3])
		}
		path := strings.TrimPrefix(*m.Id, "/"+StackName(s.props.Stage)+"/")
		got = append(got, sub[2]+sub[1]+" "+path)
	}
	slices.Sort(got)
	uploadPolicy := "UiDeploymentRole/DefaultPolicy/Resource"
	want := []string{
		"AwsSolutions-APIG4 Api/GET--healthz/Resource",          // public health check
		"AwsSolutions-APIG4 Api/GET--v1--openapi.json/Resource", // public API description
		"AwsSolutions-CFR1 UiDistribution/Resource",             // no geo restriction
		"AwsSolutions-CFR2 UiDistribution/Resource",             // no WAF
		"AwsSolutions-CFR4 UiDistribution/Resource",             // the default certificate's TLS policy
		// The CDK's BucketDeployment: its handler's runtime, and the
		// grants it gives that handler on the asset bucket and the UI bucket.
		"AwsSolutions-IAM5[Action::s3:Abort*] " + uploadPolicy,
		"AwsSolutions-IAM5[Action::s3:DeleteObject*] " + uploadPolicy,
		"AwsSolutions-IAM5[Action::s3:GetBucket*] " + uploadPolicy,
		"AwsSolutions-IAM5[Action::s3:GetObject*] " + uploadPolicy,
		"AwsSolutions-IAM5[Action::s3:List*] " + uploadPolicy,
		"AwsSolutions-IAM5[Resource::<" + s.logicalID(t, "UiBucket") + ".Arn>/*] " + uploadPolicy,
		"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/*] " + uploadPolicy,
		"AwsSolutions-L1 Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C/Resource",
		"AwsSolutions-SQS3 RotationDeadLetters/Resource", // it is the dead-letter queue
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("suppressed findings:\n got %q\nwant %q", got, want)
	}
}
