package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
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

// setDefault sets *v to d where *v is its type's zero value.
func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

func withDefaults(props *SecretsStackProps) SecretsStackProps {
	d := DefaultProps()
	if props == nil {
		return d
	}
	p := *props
	setDefault(&p.Stage, d.Stage)
	setDefault(&p.LogRetentionDays, d.LogRetentionDays)
	setDefault(&p.KeyCacheTTL, d.KeyCacheTTL)
	setDefault(&p.KeyCacheSize, d.KeyCacheSize)
	setDefault(&p.KeepVersions, d.KeepVersions)
	setDefault(&p.RemovalPolicy, d.RemovalPolicy)
	setDefault(&p.RotationSchedule, d.RotationSchedule)
	setDefault(&p.AssetDir, d.AssetDir)
	setDefault(&p.UIAssetDir, d.UIAssetDir)
	setDefault(&p.ThrottleRateLimit, d.ThrottleRateLimit)
	setDefault(&p.ThrottleBurstLimit, d.ThrottleBurstLimit)
	// AuthorizerCacheTTL 0 means no cache, so only nil props get the default.
	return p
}
