package main

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

// newRotationSchedule invokes the set function with the rotation event on
// the configured schedule. It is the plain CloudFormation resource, with a
// role that may invoke exactly the set function (not its versions) and
// send to the dead-letter queue.
func newRotationSchedule(stack awscdk.Stack, p SecretsStackProps, set awslambda.Function, dlq awssqs.Queue) {
	role := awsiam.NewRole(stack, jsii.String("RotationScheduleRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
			},
		}),
		Description: jsii.String("zwrm secrets rotation schedule (" + p.Stage + ")"),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvokeSet"),
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{set.FunctionArn()},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DeadLetters"),
		Actions:   jsii.Strings("sqs:SendMessage"),
		Resources: &[]*string{dlq.QueueArn()},
	}))
	input, err := json.Marshal(lambdaapp.RotationEvent{Source: lambdaapp.RotationSource, Schedule: RotationScheduleName})
	if err != nil {
		panic(err)
	}
	awsscheduler.NewCfnSchedule(stack, jsii.String("RotationSchedule"), &awsscheduler.CfnScheduleProps{
		Description:        jsii.String("zwrm secrets (" + p.Stage + "): rotate the secrets whose rotation is due"),
		ScheduleExpression: jsii.String(p.RotationSchedule),
		State:              jsii.String("ENABLED"),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     set.FunctionArn(),
			RoleArn: role.RoleArn(),
			Input:   jsii.String(string(input)),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(3),
				MaximumEventAgeInSeconds: jsii.Number(600),
			},
			DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
		},
	})
}

// newAlarms makes the alarms, and the topic they notify when an e-mail
// address is configured (nil otherwise).
func newAlarms(stack awscdk.Stack, p SecretsStackProps, fns map[string]awslambda.Function, api awsapigatewayv2.HttpApi, dlq awssqs.Queue) awssns.Topic {
	var topic awssns.Topic
	if p.AlarmEmail != "" {
		// Not encrypted with a KMS key: notifications carry alarm names
		// and metric values, never secret data, and CloudWatch cannot
		// publish to a topic under the AWS-managed SNS key. TLS-only.
		topic = awssns.NewTopic(stack, jsii.String("Alarms"), &awssns.TopicProps{
			DisplayName: jsii.String("zwrm secrets alarms (" + p.Stage + ")"),
			EnforceSSL:  jsii.Bool(true),
		})
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(p.AlarmEmail), nil))
		// EnforceSSL gives the topic a policy of its own, which replaces
		// SNS's default one: CloudWatch must be allowed to publish, from
		// this account's alarms only.
		topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchAlarmsPublish"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  &[]*string{topic.TopicArn()},
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
		}))
	}
	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))
	alarm := func(id, desc string, metric awscloudwatch.IMetric) {
		a := awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(desc),
			Metric:             metric,
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if topic != nil {
			a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
		}
	}
	sum := &awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}
	for _, name := range functionNames {
		fn, id := fns[name], httpapi.Title(name)
		if name == "authorizer" {
			alarm("AuthorizerFailures", "The authorizer failed to check tokens (API Gateway answered 500): DynamoDB unreachable or the function broken.", fn.MetricErrors(sum))
		} else {
			alarm(id+"Errors", "The "+name+" function failed (an error or timeout, not an API error answer).", fn.MetricErrors(sum))
		}
		alarm(id+"Throttles", "The "+name+" function was throttled: raise its concurrency or the account quota.", fn.MetricThrottles(sum))
	}
	alarm("Api5xx", "The API answered 5xx: internal errors, an unavailable dependency, or the authorizer failing.", api.MetricServerError(sum))
	alarm("RotationFailures", "A rotation sweep failed or could not be delivered: see the dead-letter queue and the set function's logs.",
		dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum")}))
	return topic
}
