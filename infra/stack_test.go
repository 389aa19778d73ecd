package main

import (
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/zwrm/secrets/internal/httpapi"
)

func TestTheStackHoldsExactlyTheseResources(t *testing.T) {
	s := stackUnderTest(t)
	routes := len(httpapi.Routes())
	want := map[string]int{
		"AWS::DynamoDB::Table":                   1,
		"AWS::KMS::Key":                          2, // the data keys' and the identity key
		"AWS::KMS::Alias":                        1,
		"AWS::Lambda::Function":                  7 + 1, // and the UI upload's (the CDK's BucketDeployment)
		"AWS::IAM::Role":                         8 + 1, // a role per function, the schedule's, the UI upload's
		"AWS::IAM::Policy":                       8 + 1,
		"AWS::Logs::LogGroup":                    8 + 1, // a log group per function, the API's access log, the UI upload's
		"AWS::ApiGatewayV2::Api":                 1,
		"AWS::ApiGatewayV2::Stage":               1,
		"AWS::ApiGatewayV2::Authorizer":          1,
		"AWS::ApiGatewayV2::Integration":         5, // one per function that serves routes
		"AWS::ApiGatewayV2::Route":               routes,
		"AWS::ApiGatewayV2::DomainName":          1,
		"AWS::ApiGatewayV2::ApiMapping":          1,
		"AWS::Lambda::Permission":                routes + 1 + len(s.props.ResolveInvokerRoleARNs), // routes, the authorizer, direct resolvers
		"AWS::Lambda::EventInvokeConfig":         1,
		"AWS::Scheduler::Schedule":               1,
		"AWS::SQS::Queue":                        1,
		"AWS::SQS::QueuePolicy":                  1,
		"AWS::CloudWatch::Alarm":                 2*7 + 2, // errors and throttles per function, API 5xx, rotation failures
		"AWS::SNS::Topic":                        1,
		"AWS::SNS::TopicPolicy":                  1,
		"AWS::SNS::Subscription":                 1,
		"AWS::S3::Bucket":                        2, // the UI's files, and the access logs
		"AWS::S3::BucketPolicy":                  2,
		"AWS::CloudFront::Distribution":          1,
		"AWS::CloudFront::OriginAccessControl":   1,
		"AWS::CloudFront::CachePolicy":           1, // the UI's; the API's paths use the managed CachingDisabled
		"AWS::CloudFront::ResponseHeadersPolicy": 1,
		"Custom::CDKBucketDeployment":            2,     // the hashed assets, then index.html
		"AWS::Lambda::LayerVersion":              1 + 1, // the AWS CLI the upload runs, the extension
		"AWS::IAM::ManagedPolicy":                0,
		"AWS::DynamoDB::GlobalTable":             0,
		"Custom::LogRetention":                   0,
		"Custom::S3AutoDeleteObjects":            0,
		"AWS::CloudFormation::CustomResource":    0,
	}
	got := map[string]int{}
	for _, r := range s.tpl.Resources {
		got[r.Type]++
	}
	for typ, n := range want {
		check(t, typ, func() { s.template.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n))) })
	}
	for typ, n := range got {
		if _, ok := want[typ]; !ok {
			t.Errorf("unexpected resources: %d of %s", n, typ)
		}
	}
}
