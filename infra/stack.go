package main

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/envelope"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
	"github.com/zwrm/secrets/internal/secrets"
)

// functionNames are the Lambda functions, as functions/NAME and dist/NAME.zip.
var functionNames = []string{"set", "list", "delete", "resolve", "resolve-direct", "admin", "authorizer"}

// Partition-key prefixes of the store's item kinds (dynamostore.Prefix*):
// IAM conditions on dynamodb:LeadingKeys limit each function to the kinds of
// item its code reads and writes. The permissions test checks them against
// the keys the store really uses.
const (
	itemOrg      = dynamostore.PrefixOrg
	itemHead     = dynamostore.PrefixHead
	itemSecretID = dynamostore.PrefixSecretID
	itemVersion  = dynamostore.PrefixVersion
	itemToken    = dynamostore.PrefixToken
	itemDataKey  = dynamostore.PrefixDataKey
	itemAudit    = dynamostore.PrefixAudit
	itemManifest = dynamostore.PrefixManifest
)

// itemAccess is one DynamoDB action on the table, on the item kinds named.
type itemAccess struct {
	Action string
	Kinds  []string
}

// access is what one function may do; see functionAccess.
type access struct {
	Items   []itemAccess
	Indexes []string // GSIs it queries (dynamodb:Query on the index)
	KMS     []string // actions on the key, under the service's encryption context
	// Identity is what it may do with the identity key: the authorizer
	// signs (kms:GenerateMac), the functions behind it check (kms:VerifyMac).
	Identity []string
}

// resolveItems are the items a resolve reads and writes, whether behind the
// authorizer or invoked directly: the token, the org, its data keys and the
// heads, and the audit record with its manifest.
var resolveItems = []itemAccess{
	{"dynamodb:GetItem", []string{itemToken, itemOrg, itemDataKey, itemAudit}},
	{"dynamodb:Query", []string{itemHead}},
	{"dynamodb:PutItem", []string{itemAudit, itemManifest}},
}

// functionAccess is, per function, exactly the DynamoDB and KMS calls its
// routes make, read from internal/dynamostore and internal/service:
//
//   - GetItem on A# (and on the kinds a function creates) is the read
//     dynamostore makes after a create-if-absent write fails its
//     condition, to tell its own retried write from a collision.
//   - set: reads the org's environment policies (O#), creates (I#, S# by
//     PutItem, then UpdateItem takes the create's mark off the id
//     pointer), updates (PutItem on the head after PutVersion), prunes
//     history and removes a losing create's id pointer (DeleteItem), data
//     keys (K#), the sweep (Query on GSI2: the orgs, each org's due heads
//     and its leftovers, which it removes). It decrypts (a change re-seals
//     every value under the new version) and generates data keys.
//   - list: reads heads by layer (Query S#), by id (GetItem I# then S#),
//     history (Query V#), layers (GSI1) and the org's environment policies
//     (O#: what the caller may write). Masks are stored, so no KMS.
//   - delete: reads the org's environment policies (O#) and the head (by
//     name or id), marks the id pointer (UpdateItem), deletes head, history
//     and pointer, appends audit; a delete by name of a gone head looks for
//     its leftovers (Query on GSI2). No KMS.
//   - Every function that appends audit reads the org (O#) for its audit
//     retention (once a minute at most per container).
//   - resolve: authenticates IAM callers (GetItem T#), reads the org's
//     settings for user tokens (O#), the three layers (Query S#) and data
//     keys (K#), decrypts, stores the manifest of the names it hands out
//     (PutItem M#, if absent: a failed condition needs no read) and
//     appends audit. Only API Gateway invokes it.
//   - resolve-direct: the same for workloads that invoke it directly with
//     a service token in the payload (GetItem T#). It is a function of its own
//     because its invokers could write any event: one that takes API
//     Gateway's events must be invoked by API Gateway alone.
//   - admin: tokens (create, read, revoke by UpdateItem; list on GSI2), org
//     settings (read, UpdateItem), the audit trail (Query A#) and the
//     manifests of its resolves (Query M#). No KMS.
//   - authorizer: reads tokens, nothing else, and signs the identity it
//     returns with the identity key (GenerateMac); the five functions behind
//     it check that signature (VerifyMac). resolve-direct, which API Gateway
//     never invokes, has no rights on that key.
var functionAccess = map[string]access{
	"set": {
		Items: []itemAccess{
			{"dynamodb:GetItem", []string{itemOrg, itemHead, itemSecretID, itemVersion, itemDataKey, itemAudit}},
			{"dynamodb:PutItem", []string{itemHead, itemSecretID, itemVersion, itemDataKey, itemAudit}},
			{"dynamodb:DeleteItem", []string{itemSecretID, itemVersion}},
			{"dynamodb:UpdateItem", []string{itemSecretID}},
			{"dynamodb:Query", []string{itemVersion}},
		},
		Indexes:  []string{dynamostore.IndexGSI2},
		KMS:      []string{"kms:Decrypt", "kms:GenerateDataKey"},
		Identity: []string{"kms:VerifyMac"},
	},
	"list": {
		Items: []itemAccess{
			{"dynamodb:GetItem", []string{itemOrg, itemHead, itemSecretID}},
			{"dynamodb:Query", []string{itemHead, itemVersion}},
		},
		Indexes:  []string{dynamostore.IndexGSI1},
		Identity: []string{"kms:VerifyMac"},
	},
	"delete": {
		Items: []itemAccess{
			{"dynamodb:GetItem", []string{itemOrg, itemHead, itemSecretID, itemAudit}},
			{"dynamodb:DeleteItem", []string{itemHead, itemSecretID, itemVersion}},
			{"dynamodb:UpdateItem", []string{itemSecretID}},
			{"dynamodb:Query", []string{itemVersion}},
			{"dynamodb:PutItem", []string{itemAudit}},
		},
		Indexes:  []string{dynamostore.IndexGSI2},
		Identity: []string{"kms:VerifyMac"},
	},
	"resolve":        {Items: resolveItems, KMS: []string{"kms:Decrypt"}, Identity: []string{"kms:VerifyMac"}},
	"resolve-direct": {Items: resolveItems, KMS: []string{"kms:Decrypt"}},
	"admin": {
		Items: []itemAccess{
			{"dynamodb:GetItem", []string{itemToken, itemOrg, itemAudit}},
			{"dynamodb:PutItem", []string{itemToken, itemAudit}},
			{"dynamodb:UpdateItem", []string{itemToken, itemOrg}},
			{"dynamodb:Query", []string{itemAudit, itemManifest}},
		},
		Indexes:  []string{dynamostore.IndexGSI2},
		Identity: []string{"kms:VerifyMac"},
	},
	"authorizer": {
		Items: []itemAccess{
			{"dynamodb:GetItem", []string{itemToken}},
		},
		Identity: []string{"kms:GenerateMac"},
	},
}

// RotationScheduleName names the schedule in rotation events, and so in the
// audit records of the rotations it makes.
const RotationScheduleName = "zwrm-rotation"

// serviceContext is the encryption-context value every data key of this
// service carries under "service": key policy and grants require it.
var serviceContext = envelope.EncryptionContext("org", secrets.Development, 1)["service"]

// NewSecretsStack defines everything the service runs on: the table, the
// key, one function per handler with its own role and log group, the HTTP
// API with its authorizer, the rotation schedule, alarms, the web UI behind
// CloudFront (with the API on the same origin) and outputs.
func NewSecretsStack(scope constructs.Construct, id string, props *SecretsStackProps) awscdk.Stack {
	p := withDefaults(props)
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("NewSecretsStack: %v", err))
	}
	sp := p.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("zwrm secrets (" + p.Stage + "): web UI, API, functions, table and key")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	// Server access logs reach their bucket by a bucket policy limited to
	// the logged bucket, rather than by the log-delivery group's ACL.
	// (Context must be set before the stack has children.)
	stack.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	awscdk.Tags_Of(stack).Add(jsii.String("app"), jsii.String("zwrm-secrets"), nil)
	awscdk.Tags_Of(stack).Add(jsii.String("stage"), jsii.String(p.Stage), nil)

	retain := p.RemovalPolicy == RemovalRetain
	stateful := awscdk.RemovalPolicy_RETAIN
	if !retain {
		stateful = awscdk.RemovalPolicy_DESTROY
	}
	retention := retentionDays[p.LogRetentionDays]

	// The table: the schema of dynamostore.CreateTable. Values in it are
	// already sealed under data keys that the KMS key wraps, bound to
	// their record; the table's own encryption at rest uses the
	// AWS-owned key, since a customer-managed key there would add no
	// protection for values but would give every function KMS rights
	// (via DynamoDB) on a key that only set and resolve may use.
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: str(dynamostore.AttrPK),
		SortKey:      str(dynamostore.AttrSK),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(retain),
		Encryption:         awsdynamodb.TableEncryption_DEFAULT,
		RemovalPolicy:      stateful,
		// Audit records and their manifests expire (each org's
		// retention); DynamoDB deletes them free of write cost.
		TimeToLiveAttribute: jsii.String(dynamostore.AttrTTL),
	})
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(dynamostore.IndexGSI1),
		PartitionKey:   str(dynamostore.AttrGSI1PK),
		SortKey:        str(dynamostore.AttrGSI1SK),
		ProjectionType: awsdynamodb.ProjectionType_KEYS_ONLY,
	})
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(dynamostore.IndexGSI2),
		PartitionKey:   str(dynamostore.AttrGSI2PK),
		SortKey:        str(dynamostore.AttrGSI2SK),
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})

	// The key. Its policy lets the account administer it (and so enables
	// IAM policies for administration) but use it for nothing: only the
	// set and resolve roles, named below, may use it, and only under this
	// service's encryption context (and only as their IAM policies allow).
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("zwrm secrets (" + p.Stage + "): wraps the per-org, per-environment data keys"),
		EnableKeyRotation: jsii.Bool(true),
		Alias:             jsii.String("alias/zwrm-secrets-" + p.Stage),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
		RemovalPolicy:     stateful,
		Policy:            adminOnlyKeyPolicy(),
	})

	// The identity key: the authorizer signs the identity it hands the
	// functions behind it with this HMAC key, and they check it, so that
	// one who may invoke them directly cannot write an identity they
	// accept. Its policy, like the data key's, lets the account administer
	// but not use it; the authorizer's role alone may sign and the API
	// functions' roles may only check (newFunction adds them). HMAC keys
	// do not rotate automatically.
	identityKey := awskms.NewKey(stack, jsii.String("IdentityKey"), &awskms.KeyProps{
		Description:   jsii.String("zwrm secrets (" + p.Stage + "): signs the identities the authorizer hands the functions"),
		KeySpec:       awskms.KeySpec_HMAC_256,
		KeyUsage:      awskms.KeyUsage_GENERATE_VERIFY_MAC,
		PendingWindow: awscdk.Duration_Days(jsii.Number(30)),
		RemovalPolicy: stateful,
		Policy:        adminOnlyKeyPolicy(),
	})

	// The dead-letter queue of the rotation schedule: deliveries the
	// scheduler gave up on, and sweeps that failed after Lambda's retries.
	dlq := awssqs.NewQueue(stack, jsii.String("RotationDeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the dead-letter queue of the rotation schedule and of the set function's asynchronous invocations."),
	}}, nil)

	env := map[string]*string{
		"TABLE_NAME":     table.TableName(),
		"KMS_KEY_ID":     key.KeyArn(),
		"KEY_CACHE_TTL":  jsii.String(p.KeyCacheTTL.String()),
		"KEY_CACHE_SIZE": jsii.String(strconv.Itoa(p.KeyCacheSize)),
		"KEEP_VERSIONS":  jsii.String(strconv.Itoa(p.KeepVersions)),
	}

	// The authorizer and the functions behind it: the identity key, and
	// the authorizer cache TTL that bounds a signed identity's life.
	identityEnv := map[string]*string{
		"IDENTITY_KEY_ID":      identityKey.KeyArn(),
		"AUTHORIZER_CACHE_TTL": jsii.String(p.AuthorizerCacheTTL.String()),
	}

	fns := map[string]awslambda.Function{}
	for _, name := range functionNames {
		fenv := maps.Clone(env)
		if lambdaapp.UsesIdentityKey(httpapi.Function(name)) {
			maps.Copy(fenv, identityEnv)
		}
		fns[name] = newFunction(stack, name, p, functionConfig{
			env: fenv, retention: retention, table: table, key: key, identityKey: identityKey, dlq: dlq,
		})
	}

	// Workload roles that resolve by invoking resolve-direct. Never the
	// resolve function: it trusts API Gateway's events, whose signed
	// authorizer context a direct invoker could replay until it expires,
	// and whose IAM caller (the SigV4 route) it could write outright.
	for i, arn := range p.ResolveInvokerRoleARNs {
		fns["resolve-direct"].AddPermission(jsii.String(fmt.Sprintf("DirectResolve%d", i)), &awslambda.Permission{
			Principal: awsiam.NewArnPrincipal(jsii.String(arn)),
			Action:    jsii.String("lambda:InvokeFunction"),
		})
	}

	api, stage := newAPI(stack, p, fns, retention)
	newRotationSchedule(stack, p, fns["set"], dlq)
	topic := newAlarms(stack, p, fns, api, dlq)
	ui := newUI(stack, p, api, retention)
	layer := newExtensionLayer(stack, p)

	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("ApiUrl", "Base URL of the API", stage.Url())
	out("UiUrl", "The web UI, with the API on the same origin (/v1/, /healthz)", jsii.String("https://"+*ui.DistributionDomainName()))
	out("TableName", "DynamoDB table (zwrm admin bootstrap --table)", table.TableName())
	out("KeyArn", "KMS key that wraps the data keys (zwrm admin bootstrap --kms-key)", key.KeyArn())
	out("ResolveFunctionArn", "The resolve-direct function, for direct lambda:InvokeFunction by workloads", fns["resolve-direct"].FunctionArn())
	out("ExtensionLayerArn", "The Lambda extension's layer version (arm64): functions add it to read their secrets on localhost:2773", layer.LayerVersionArn())
	out("RotationDeadLetterQueueUrl", "Rotation sweeps that failed or could not be delivered", dlq.QueueUrl())
	if topic != nil {
		out("AlarmTopicArn", "SNS topic the alarms notify", topic.TopicArn())
	}
	return stack
}

// keyAdminActions let a principal manage the key (policy, rotation,
// deletion, tags) but not encrypt, decrypt or generate data keys, nor
// create a grant that would let it (so kms:CreateAlias, not kms:Create*).
var keyAdminActions = []string{
	"kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
	"kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
	"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
}

// adminOnlyKeyPolicy lets the account administer a key (and so enables IAM
// policies for administration) but use it for nothing: the roles that may
// use it are named by grants of their own.
func adminOnlyKeyPolicy() awsiam.PolicyDocument {
	return awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("AccountAdministersTheKeyButCannotUseIt"),
				Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
				Actions:    jsii.Strings(keyAdminActions...),
				Resources:  jsii.Strings("*"),
			}),
		},
	})
}
