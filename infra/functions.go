package main

import (
	"maps"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/zwrm/secrets/internal/httpapi"
)

type functionConfig struct {
	env       map[string]*string
	retention awslogs.RetentionDays
	table     awsdynamodb.Table
	key       awskms.Key
	// identityKey signs and checks the authorizer's identities.
	identityKey awskms.Key
	dlq         awssqs.Queue
}

// grantKey allows role the actions on key, under conditions (or none), in
// the role's policy and in the key's: the key policy allows use of the key
// to no one else. The key policy names the role by condition rather than as
// the principal: KMS refuses a policy naming a principal IAM has not
// propagated yet, which a role created in the same deployment may not have
// been. The statements are sid in the role's policy and id+"Function"+sid
// in the key's.
func grantKey(role awsiam.Role, key awskms.Key, id, sid string, actions []string, conditions map[string]any) {
	var roleConditions *map[string]any
	if conditions != nil {
		roleConditions = &conditions
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Actions:    jsii.Strings(actions...),
		Resources:  &[]*string{key.KeyArn()},
		Conditions: roleConditions,
	}))
	keyConditions := maps.Clone(conditions)
	if keyConditions == nil {
		keyConditions = map[string]any{}
	}
	keyConditions["ArnEquals"] = map[string]any{"aws:PrincipalArn": role.RoleArn()}
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(id + "Function" + sid),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
		Actions:    jsii.Strings(actions...),
		Resources:  jsii.Strings("*"),
		Conditions: &keyConditions,
	}), nil)
}

// newFunction makes one function with its own role, log group and
// permissions (functionAccess), and nothing else: no managed policies.
func newFunction(stack awscdk.Stack, name string, p SecretsStackProps, c functionConfig) awslambda.Function {
	id := httpapi.Title(name)
	logs := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: c.retention,
		// Operational logs go with the stack; the audit trail is in the table.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("zwrm secrets " + name + " function (" + p.Stage + ")"),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{logs.LogGroupArn()},
	}))
	a := functionAccess[name]
	for _, ia := range a.Items {
		prefixes := make([]*string, len(ia.Kinds))
		for i, k := range ia.Kinds {
			prefixes[i] = jsii.String(k + "*")
		}
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Table" + ia.Action[len("dynamodb:"):]),
			Actions:   jsii.Strings(ia.Action),
			Resources: &[]*string{c.table.TableArn()},
			Conditions: &map[string]any{
				"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": prefixes},
			},
		}))
	}
	if len(a.Indexes) > 0 {
		indexes := make([]*string, len(a.Indexes))
		for i, ix := range a.Indexes {
			indexes[i] = jsii.String(*c.table.TableArn() + "/index/" + ix)
		}
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("QueryIndexes"),
			Actions:   jsii.Strings("dynamodb:Query"),
			Resources: &indexes,
		}))
	}
	if len(a.KMS) > 0 {
		grantKey(role, c.key, id, "DataKeys", a.KMS, map[string]any{
			"StringEquals": map[string]any{"kms:EncryptionContext:service": serviceContext},
		})
	}
	if len(a.Identity) > 0 {
		grantKey(role, c.identityKey, id, "Identities", a.Identity, nil)
	}

	fp := &awslambda.FunctionProps{
		Description:  jsii.String("zwrm secrets: " + name + " (" + p.Stage + ")"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(p.AssetDir, name+".zip")), nil),
		Role:         role,
		LogGroup:     logs,
		MemorySize:   jsii.Number(256),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(10)),
		Environment:  &c.env,
	}
	if p.ReservedConcurrency > 0 {
		fp.ReservedConcurrentExecutions = jsii.Number(float64(p.ReservedConcurrency))
	}
	switch name {
	case "set":
		// The rotation sweep runs here too: up to 200 rotations a sweep.
		fp.Timeout = awscdk.Duration_Seconds(jsii.Number(60))
		// The scheduler invokes asynchronously: a failed sweep is retried
		// by Lambda, then lands in the dead-letter queue.
		fp.RetryAttempts = jsii.Number(2)
		fp.MaxEventAge = awscdk.Duration_Minutes(jsii.Number(15))
		fp.OnFailure = awslambdadestinations.NewSqsDestination(c.dlq)
	case "authorizer":
		fp.Timeout = awscdk.Duration_Seconds(jsii.Number(5))
	}
	fn := awslambda.NewFunction(stack, jsii.String(id+"Function"), fp)
	return fn
}
