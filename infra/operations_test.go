package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func TestTheRotationScheduleInvokesSetWithTheRotationEvent(t *testing.T) {
	s := stackUnderTest(t)
	set, dlq := s.logicalID(t, "SetFunction"), s.logicalID(t, "RotationDeadLetters")
	s.hasProperties(t, "schedule", "AWS::Scheduler::Schedule", map[string]any{
		"ScheduleExpression": "rate(5 minutes)",
		"State":              "ENABLED",
		"FlexibleTimeWindow": map[string]any{"Mode": "OFF"},
		"Target": map[string]any{
			"Arn":              map[string]any{"Fn::GetAtt": []any{set, "Arn"}},
			"RoleArn":          map[string]any{"Fn::GetAtt": []any{s.logicalID(t, "RotationScheduleRole"), "Arn"}},
			"DeadLetterConfig": map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}},
			"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
			"Input":            assertions.Match_AnyValue(),
		},
	})
	input, _ := get(s.tpl.Resources[s.logicalID(t, "RotationSchedule")].Properties, "Target", "Input").(string)
	var ev lambdaapp.RotationEvent
	dec := json.NewDecoder(strings.NewReader(input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil || ev.Source != lambdaapp.RotationSource || ev.Schedule != RotationScheduleName {
		t.Errorf("schedule input %s is not the rotation event (%v)", input, err)
	}
	// The scheduler invokes asynchronously: Lambda retries a failed sweep,
	// then sends it to the same dead-letter queue.
	s.hasProperties(t, "set's asynchronous invocations", "AWS::Lambda::EventInvokeConfig", map[string]any{
		"FunctionName":             map[string]any{"Ref": set},
		"MaximumRetryAttempts":     2,
		"MaximumEventAgeInSeconds": 900,
		"DestinationConfig":        map[string]any{"OnFailure": map[string]any{"Destination": map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}}},
	})
	check(t, "dead-letter queue", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SQS::Queue"), &map[string]any{
			"SqsManagedSseEnabled":   true,
			"MessageRetentionPeriod": 14 * 24 * 3600,
		})
		s.template.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), &map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Deny",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		})
	})
}

func TestAlarmsWatchEveryFunctionTheAPIAndRotation(t *testing.T) {
	s := stackUnderTest(t)
	topic := s.logicalID(t, "Alarms")
	type alarm struct{ metric, namespace, dimension string }
	var got []alarm
	for _, id := range s.tpl.ofType("AWS::CloudWatch::Alarm") {
		p := s.tpl.Resources[id].Properties
		if p["Threshold"] != float64(1) || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s: %s", id, jsonString(p))
		}
		if actions := refs(p["AlarmActions"]); !slices.Equal(actions, []string{topic}) {
			t.Errorf("alarm %s notifies %v, want the alarm topic", id, actions)
		}
		dims, _ := p["Dimensions"].([]any)
		a := alarm{metric: p["MetricName"].(string), namespace: p["Namespace"].(string)}
		if len(dims) == 1 {
			a.dimension = ref(get(dims[0], "Value"))
		}
		got = append(got, a)
	}
	var want []alarm
	for _, name := range functionNames {
		fn := s.logicalID(t, httpapi.Title(name)+"Function")
		want = append(want, alarm{"Errors", "AWS/Lambda", fn}, alarm{"Throttles", "AWS/Lambda", fn})
	}
	want = append(want,
		alarm{"5xx", "AWS/ApiGateway", s.logicalID(t, "Api")},
		alarm{"ApproximateNumberOfMessagesVisible", "AWS/SQS", s.logicalID(t, "RotationDeadLetters")},
	)
	less := func(a, b alarm) int { return strings.Compare(a.metric+a.dimension, b.metric+b.dimension) }
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alarms:\n got %v\nwant %v", got, want)
	}
	s.hasProperties(t, "authorizer failures", "AWS::CloudWatch::Alarm", map[string]any{
		"MetricName": "Errors",
		"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": s.logicalID(t, "AuthorizerFunction")}}},
	})
	s.hasProperties(t, "e-mail", "AWS::SNS::Subscription", map[string]any{
		"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": map[string]any{"Ref": topic},
	})
	s.hasProperties(t, "CloudWatch may publish to the topic, for this account's alarms only", "AWS::SNS::TopicPolicy", map[string]any{
		"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{
			"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Allow",
				"Action":    "sns:Publish",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}},
			})}),
		}),
	})
}

func TestTheOutputsNameWhatOperatorsNeed(t *testing.T) {
	s := stackUnderTest(t)
	want := map[string]string{
		"TableName":          s.logicalID(t, "Table"),
		"KeyArn":             s.logicalID(t, "Key"),
		"ResolveFunctionArn": s.logicalID(t, "ResolveDirectFunction"),
		"ApiUrl":             s.logicalID(t, "Api"),
		"CustomDomainTarget": s.logicalID(t, "Domain"),
	}
	for name, id := range want {
		out, ok := s.tpl.Outputs[name]
		if !ok {
			t.Errorf("output %s is missing", name)
			continue
		}
		if !slices.Contains(refs(out.Value), id) {
			t.Errorf("output %s = %s, want it to name %s", name, jsonString(out.Value), id)
		}
	}
	if got := jsonString(s.tpl.Outputs["CustomDomainUrl"].Value); got != `"https://secrets.example.com/"` {
		t.Errorf("custom domain URL %s", got)
	}
	ui := `{"Fn::Join":["",["https://",{"Fn::GetAtt":["` + s.logicalID(t, "UiDistribution") + `","DomainName"]}]]}`
	if got := jsonString(s.tpl.Outputs["UiUrl"].Value); got != ui {
		t.Errorf("UI URL %s, want %s", got, ui)
	}
}
