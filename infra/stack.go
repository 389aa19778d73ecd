package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
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

// RemovalPolicy says what happens to the table and the key when the stack
// is deleted.
type RemovalPolicy string

const (
	// RemovalRetain keeps them (the default): deleting the stack never
	// deletes secrets.
	RemovalRetain RemovalPolicy = "retain"
	// RemovalDestroy deletes the table and schedules the key for deletion
	// (30 days), and turns the table's deletion protection off: for
	// throw-away stages only.
	RemovalDestroy RemovalPolicy = "destroy"
)

// CustomDomain serves the API under a name of one's own.
type CustomDomain struct {
	Name           string // secrets.example.com
	CertificateARN string // an ACM certificate for Name, in the stack's region
}

// SecretsStackProps configures the stack. Zero values take DefaultProps',
// except where 0 means something: AuthorizerCacheTTL (no cache) and
// ReservedConcurrency (none reserved).
type SecretsStackProps struct {
	awscdk.StackProps

	// Stage names this deployment (prod, dev, …): it goes into the key
	// alias, descriptions and tags, so that stages can share an account.
	Stage string
	// LogRetentionDays keeps each function's and the API's logs this long.
	LogRetentionDays int
	// KeyCacheTTL is how long a function keeps unwrapped data keys
	// (KEY_CACHE_TTL): longer is fewer KMS calls, shorter makes a key
	// policy change bite sooner.
	KeyCacheTTL time.Duration
	// KeyCacheSize bounds the cached data keys per container (KEY_CACHE_SIZE).
	KeyCacheSize int
	// KeepVersions is how many versions of a secret are kept (KEEP_VERSIONS).
	KeepVersions int
	// RemovalPolicy applies to the table and the key.
	RemovalPolicy RemovalPolicy
	// ResolveInvokerRoleARNs may invoke the resolve function directly
	// (lambda:InvokeFunction), e.g. the roles of workloads in this or
	// other accounts.
	ResolveInvokerRoleARNs []string
	// AlarmEmail, if set, subscribes to an SNS topic the alarms notify.
	AlarmEmail string
	// CustomDomain, if set, maps the API to a domain name.
	CustomDomain *CustomDomain
	// RotationSchedule is the EventBridge Scheduler expression of the
	// rotation sweep.
	RotationSchedule string
	// UIOrigin is the one origin CORS allows (https://host[:port]); empty
	// allows none.
	UIOrigin string
	// AssetDir holds FUNCTION.zip for every function (`make lambdas`).
	AssetDir string
	// UIAssetDir holds the built web UI (`make web`): index.html and its
	// content-hashed assets, uploaded to the UI bucket.
	UIAssetDir string
	// ReservedConcurrency, if above 0, is reserved for each function.
	// 0 reserves none: an account with Lambda's default quota for new
	// accounts (10) cannot reserve any, and the API's throttling already
	// bounds how many run at once.
	ReservedConcurrency int
	// ThrottleRateLimit and ThrottleBurstLimit are the API stage's default
	// limits (requests per second, burst).
	ThrottleRateLimit  int
	ThrottleBurstLimit int
	// AuthorizerCacheTTL is how long API Gateway caches the authorizer's
	// answer per Authorization header: a revoked token keeps working for
	// up to this long. 0 disables the cache.
	AuthorizerCacheTTL time.Duration
}

// DefaultProps are the settings of a stage nobody configured.
func DefaultProps() SecretsStackProps {
	return SecretsStackProps{
		Stage:              "prod",
		LogRetentionDays:   30,
		KeyCacheTTL:        5 * time.Minute,
		KeyCacheSize:       1000,
		KeepVersions:       20,
		RemovalPolicy:      RemovalRetain,
		RotationSchedule:   "rate(5 minutes)",
		AssetDir:           "dist",
		UIAssetDir:         filepath.Join("internal", "webui", "dist"),
		ThrottleRateLimit:  50,
		ThrottleBurstLimit: 100,
		AuthorizerCacheTTL: 60 * time.Second,
	}
}

// StackName is the CloudFormation stack name of a stage.
func StackName(stage string) string { return "zwrm-secrets-" + stage }

// functionNames are the Lambda functions, as functions/NAME and dist/NAME.zip.
var functionNames = []string{"set", "list", "delete", "resolve", "resolve-direct", "admin", "authorizer"}

// Partition-key prefixes of the store's item kinds (dynamostore's items.go):
// IAM conditions on dynamodb:LeadingKeys limit each function to the kinds of
// item its code reads and writes. The permissions test checks them against
// the keys the store really uses.
const (
	itemOrg      = "O#" // organization settings
	itemHead     = "S#" // a secret's current version, by org, layer and name
	itemSecretID = "I#" // a secret's id pointer to its head
	itemVersion  = "V#" // a secret's history
	itemToken    = "T#" // API tokens and IAM registrations, by id
	itemDataKey  = "K#" // wrapped data keys
	itemAudit    = "A#" // audit records
	itemManifest = "M#" // audit manifests: the lists of names resolves hand out
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
	"resolve": {
		Items: []itemAccess{
			{"dynamodb:GetItem", []string{itemToken, itemOrg, itemDataKey, itemAudit}},
			{"dynamodb:Query", []string{itemHead}},
			{"dynamodb:PutItem", []string{itemAudit, itemManifest}},
		},
		KMS:      []string{"kms:Decrypt"},
		Identity: []string{"kms:VerifyMac"},
	},
	"resolve-direct": {
		Items: []itemAccess{
			{"dynamodb:GetItem", []string{itemToken, itemOrg, itemDataKey, itemAudit}},
			{"dynamodb:Query", []string{itemHead}},
			{"dynamodb:PutItem", []string{itemAudit, itemManifest}},
		},
		KMS: []string{"kms:Decrypt"},
	},
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

// retentionDays maps the retention periods CloudWatch Logs accepts.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

func retentionChoices() string {
	days := make([]int, 0, len(retentionDays))
	for d := range retentionDays {
		days = append(days, d)
	}
	sort.Ints(days)
	return fmt.Sprint(days)
}

// accessLogFormat is the API's access log line: who asked for which route
// and how it went. Never a header (Authorization included), a query string,
// a path with its parameters, or a body.
func accessLogFormat() string {
	fields := map[string]string{
		"requestId":          "$context.requestId",
		"time":               "$context.requestTime",
		"sourceIp":           "$context.identity.sourceIp",
		"userAgent":          "$context.identity.userAgent",
		"method":             "$context.httpMethod",
		"routeKey":           "$context.routeKey",
		"protocol":           "$context.protocol",
		"status":             "$context.status",
		"responseLength":     "$context.responseLength",
		"responseLatency":    "$context.responseLatency",
		"integrationStatus":  "$context.integrationStatus",
		"integrationLatency": "$context.integrationLatency",
		"integrationError":   "$context.integrationErrorMessage",
		"authorizerError":    "$context.authorizer.error",
		"org":                "$context.authorizer.org",
		"tokenId":            "$context.authorizer.token_id",
		"iamCaller":          "$context.identity.userArn",
	}
	b, err := json.Marshal(fields) // keys sorted: a stable template
	if err != nil {
		panic(err)
	}
	return string(b)
}

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

	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("ApiUrl", "Base URL of the API", stage.Url())
	out("UiUrl", "The web UI, with the API on the same origin (/v1/, /healthz)", jsii.String("https://"+*ui.DistributionDomainName()))
	out("TableName", "DynamoDB table (zwrm admin bootstrap --table)", table.TableName())
	out("KeyArn", "KMS key that wraps the data keys (zwrm admin bootstrap --kms-key)", key.KeyArn())
	out("ResolveFunctionArn", "The resolve-direct function, for direct lambda:InvokeFunction by workloads", fns["resolve-direct"].FunctionArn())
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

func withDefaults(props *SecretsStackProps) SecretsStackProps {
	d := DefaultProps()
	if props == nil {
		return d
	}
	p := *props
	if p.Stage == "" {
		p.Stage = d.Stage
	}
	if p.LogRetentionDays == 0 {
		p.LogRetentionDays = d.LogRetentionDays
	}
	if p.KeyCacheTTL == 0 {
		p.KeyCacheTTL = d.KeyCacheTTL
	}
	if p.KeyCacheSize == 0 {
		p.KeyCacheSize = d.KeyCacheSize
	}
	if p.KeepVersions == 0 {
		p.KeepVersions = d.KeepVersions
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = d.RemovalPolicy
	}
	if p.RotationSchedule == "" {
		p.RotationSchedule = d.RotationSchedule
	}
	if p.AssetDir == "" {
		p.AssetDir = d.AssetDir
	}
	if p.UIAssetDir == "" {
		p.UIAssetDir = d.UIAssetDir
	}
	if p.ThrottleRateLimit == 0 {
		p.ThrottleRateLimit = d.ThrottleRateLimit
	}
	if p.ThrottleBurstLimit == 0 {
		p.ThrottleBurstLimit = d.ThrottleBurstLimit
	}
	// AuthorizerCacheTTL 0 means no cache, so only nil props get the default.
	return p
}

type functionConfig struct {
	env       map[string]*string
	retention awslogs.RetentionDays
	table     awsdynamodb.Table
	key       awskms.Key
	// identityKey signs and checks the authorizer's identities.
	identityKey awskms.Key
	dlq         awssqs.Queue
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
		onlyThisService := &map[string]any{
			"StringEquals": map[string]any{"kms:EncryptionContext:service": serviceContext},
		}
		// In the role's policy and in the key's: the key policy allows use
		// of the key to no one else.
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("DataKeys"),
			Actions:    jsii.Strings(a.KMS...),
			Resources:  &[]*string{c.key.KeyArn()},
			Conditions: onlyThisService,
		}))
		// The key policy names the role by condition rather than as the
		// principal: KMS refuses a policy naming a principal IAM has not
		// propagated yet, which a role created in the same deployment may
		// not have been.
		c.key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(id + "FunctionDataKeys"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
			Actions:    jsii.Strings(a.KMS...),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"kms:EncryptionContext:service": serviceContext},
				"ArnEquals":    map[string]any{"aws:PrincipalArn": role.RoleArn()},
			},
		}), nil)
	}
	if len(a.Identity) > 0 {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Identities"),
			Actions:   jsii.Strings(a.Identity...),
			Resources: &[]*string{c.identityKey.KeyArn()},
		}))
		c.identityKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(id + "FunctionIdentities"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
			Actions:    jsii.Strings(a.Identity...),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{
				"ArnEquals": map[string]any{"aws:PrincipalArn": role.RoleArn()},
			},
		}), nil)
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

// newAPI makes the HTTP API: one route per httpapi route, to the function
// that serves it, authorized as the route table says.
func newAPI(stack awscdk.Stack, p SecretsStackProps, fns map[string]awslambda.Function, retention awslogs.RetentionDays) (awsapigatewayv2.HttpApi, awsapigatewayv2.HttpStage) {
	var cors *awsapigatewayv2.CorsPreflightOptions
	if p.UIOrigin != "" {
		cors = &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins: jsii.Strings(p.UIOrigin),
			AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{
				awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST, awsapigatewayv2.CorsHttpMethod_PATCH,
				awsapigatewayv2.CorsHttpMethod_PUT, awsapigatewayv2.CorsHttpMethod_DELETE,
			},
			AllowHeaders:  jsii.Strings("Authorization", "Content-Type", "X-Request-Id"),
			ExposeHeaders: jsii.Strings("X-Request-Id"),
			MaxAge:        awscdk.Duration_Hours(jsii.Number(1)),
		}
	}
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String("zwrm-secrets-" + p.Stage),
		Description:        jsii.String("zwrm secrets API v1 (" + p.Stage + ")"),
		CorsPreflight:      cors,
		CreateDefaultStage: jsii.Bool(false),
	})

	var mapping *awsapigatewayv2.DomainMappingOptions
	if d := p.CustomDomain; d != nil {
		dn := awsapigatewayv2.NewDomainName(stack, jsii.String("Domain"), &awsapigatewayv2.DomainNameProps{
			DomainName:     jsii.String(d.Name),
			Certificate:    awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(d.CertificateARN)),
			SecurityPolicy: awsapigatewayv2.SecurityPolicy_TLS_1_2,
		})
		mapping = &awsapigatewayv2.DomainMappingOptions{DomainName: dn}
		awscdk.NewCfnOutput(stack, jsii.String("CustomDomainTarget"), &awscdk.CfnOutputProps{
			Value:       dn.RegionalDomainName(),
			Description: jsii.String("Point a CNAME (or alias) for " + d.Name + " here"),
		})
		awscdk.NewCfnOutput(stack, jsii.String("CustomDomainUrl"), &awscdk.CfnOutputProps{
			Value: jsii.String("https://" + d.Name + "/"),
		})
	}
	stage := awsapigatewayv2.NewHttpStage(stack, jsii.String("Stage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(float64(p.ThrottleRateLimit)),
			BurstLimit: jsii.Number(float64(p.ThrottleBurstLimit)),
		},
		DomainMapping: mapping,
	})
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// The L2 stage takes access log settings only as an interface value;
	// the underlying resource takes them plainly.
	cfnStage := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat()),
	})

	authorizer := awsapigatewayv2authorizers.NewHttpLambdaAuthorizer(jsii.String("Authorizer"), fns["authorizer"], &awsapigatewayv2authorizers.HttpLambdaAuthorizerProps{
		AuthorizerName:  jsii.String("zwrm-bearer"),
		ResponseTypes:   &[]awsapigatewayv2authorizers.HttpLambdaResponseType{awsapigatewayv2authorizers.HttpLambdaResponseType_SIMPLE},
		IdentitySource:  jsii.Strings("$request.header.Authorization"),
		ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(p.AuthorizerCacheTTL.Seconds())),
	})
	iam := awsapigatewayv2authorizers.NewHttpIamAuthorizer()

	integrations := map[httpapi.Function]awsapigatewayv2integrations.HttpLambdaIntegration{}
	for _, r := range httpapi.Routes() {
		integ, ok := integrations[r.Function]
		if !ok {
			fn, found := fns[string(r.Function)]
			if !found {
				panic("NewSecretsStack: route " + r.Method + " " + r.Pattern + " names function " + string(r.Function) + ", which the stack does not define")
			}
			integ = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(httpapi.Title(string(r.Function))+"Integration"), fn, &awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			})
			integrations[r.Function] = integ
		}
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Pattern),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: integ,
		}
		switch r.Auth {
		case httpapi.AuthBearer:
			opts.Authorizer = authorizer
		case httpapi.AuthIAM:
			opts.Authorizer = iam
		case httpapi.AuthNone:
			// No authorizer: API Gateway lets the request through.
		default:
			panic(fmt.Sprintf("NewSecretsStack: route %s %s has an authorization kind the stack does not know (%d)", r.Method, r.Pattern, r.Auth))
		}
		routes := api.AddRoutes(opts)
		if r.Auth == httpapi.AuthNone {
			for _, route := range *routes {
				cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{{
					Id: jsii.String("AwsSolutions-APIG4"),
					Reason: jsii.String("Public by design (httpapi.AuthNone): " + r.Method + " " + r.Pattern +
						" answers a health check or the OpenAPI document, reads no data and is throttled with the stage."),
				}}, jsii.Bool(true))
			}
		}
	}
	return api, stage
}

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
