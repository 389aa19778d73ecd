package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Context keys: `npx cdk deploy -c stage=dev -c alarmEmail=ops@example.com`,
// or CDK_CONTEXT_JSON='{"stage":"dev"}' for `go run ./infra`. docs/deploy.md
// lists them with their defaults.
const (
	ctxStage               = "stage"
	ctxLogRetentionDays    = "logRetentionDays"
	ctxKeyCacheTTL         = "keyCacheTtl"
	ctxKeyCacheSize        = "keyCacheSize"
	ctxKeepVersions        = "keepVersions"
	ctxRemovalPolicy       = "removalPolicy"
	ctxResolveInvokerRoles = "resolveInvokerRoleArns"
	ctxAlarmEmail          = "alarmEmail"
	ctxDomainName          = "domainName"
	ctxCertificateARN      = "certificateArn"
	ctxRotationSchedule    = "rotationSchedule"
	ctxUIOrigin            = "uiOrigin"
	ctxAssetDir            = "assetDir"
	ctxUIAssetDir          = "uiAssetDir"
	ctxReservedConcurrency = "reservedConcurrency"
	ctxThrottleRate        = "throttleRateLimit"
	ctxThrottleBurst       = "throttleBurstLimit"
	ctxAuthorizerCacheTTL  = "authorizerCacheTtl"
)

// contextKeys lists every key PropsFromContext reads, so that a misspelt
// key is an error rather than a silently ignored setting.
var contextKeys = []string{
	ctxStage, ctxLogRetentionDays, ctxKeyCacheTTL, ctxKeyCacheSize, ctxKeepVersions, ctxRemovalPolicy,
	ctxResolveInvokerRoles, ctxAlarmEmail, ctxDomainName, ctxCertificateARN, ctxRotationSchedule,
	ctxUIOrigin, ctxAssetDir, ctxUIAssetDir, ctxReservedConcurrency, ctxThrottleRate, ctxThrottleBurst, ctxAuthorizerCacheTTL,
}

var (
	stagePattern   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	certARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$`)
	originPattern  = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)
	domainPattern  = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	emailPattern   = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	settingKey     = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	// rate(1 minute) but rate(5 minutes): EventBridge wants the unit
	// singular for 1 and plural otherwise.
	schedulePatt = regexp.MustCompile(`^(rate\(1 (minute|hour|day)\)|rate\(([2-9]|[1-9][0-9]+) (minutes|hours|days)\)|cron\(.+\))$`)
)

// PropsFromContext reads the stack's settings from CDK context; get is
// app.Node().TryGetContext. Context from `-c key=value` arrives as strings,
// from cdk.json or CDK_CONTEXT_JSON as JSON values; both are accepted.
// Unset keys take the defaults of DefaultProps.
func PropsFromContext(get func(key *string) any) (SecretsStackProps, error) {
	p := DefaultProps()
	str := func(key string) (string, bool, error) {
		v := get(&key)
		switch v := v.(type) {
		case nil:
			return "", false, nil
		case string:
			return strings.TrimSpace(v), strings.TrimSpace(v) != "", nil
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), true, nil
		case bool:
			return strconv.FormatBool(v), true, nil
		case []any:
			// A JSON list: joined, and split again by the caller.
			parts := make([]string, 0, len(v))
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					return "", false, fmt.Errorf("context %s: want strings in the list, got %v", key, e)
				}
				parts = append(parts, s)
			}
			return strings.Join(parts, ","), len(parts) > 0, nil
		}
		return "", false, fmt.Errorf("context %s: want a string or a number, got %T", key, v)
	}
	integer := func(key string, dst *int, lo, hi int) error {
		return bounded(str, key, dst, strconv.Atoi, lo, hi, fmt.Sprintf("a whole number from %d to %d", lo, hi))
	}
	duration := func(key string, dst *time.Duration, lo, hi time.Duration) error {
		return bounded(str, key, dst, time.ParseDuration, lo, hi, fmt.Sprintf("a duration from %s to %s, such as 5m", lo, hi))
	}
	text := func(key string, dst *string) error {
		s, ok, err := str(key)
		if ok {
			*dst = s
		}
		return err
	}

	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(text(ctxStage, &p.Stage))
	add(integer(ctxLogRetentionDays, &p.LogRetentionDays, 1, 3653))
	add(duration(ctxKeyCacheTTL, &p.KeyCacheTTL, time.Second, 24*time.Hour))
	add(integer(ctxKeyCacheSize, &p.KeyCacheSize, 1, 1_000_000))
	add(integer(ctxKeepVersions, &p.KeepVersions, 1, 1000))
	var removal string
	add(text(ctxRemovalPolicy, &removal))
	if removal != "" {
		p.RemovalPolicy = RemovalPolicy(strings.ToLower(removal))
	}
	var roles string
	add(text(ctxResolveInvokerRoles, &roles))
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			p.ResolveInvokerRoleARNs = append(p.ResolveInvokerRoleARNs, r)
		}
	}
	add(text(ctxAlarmEmail, &p.AlarmEmail))
	var domain, cert string
	add(text(ctxDomainName, &domain))
	add(text(ctxCertificateARN, &cert))
	if domain != "" || cert != "" {
		p.CustomDomain = &CustomDomain{Name: domain, CertificateARN: cert}
	}
	add(text(ctxRotationSchedule, &p.RotationSchedule))
	add(text(ctxUIOrigin, &p.UIOrigin))
	add(text(ctxAssetDir, &p.AssetDir))
	add(text(ctxUIAssetDir, &p.UIAssetDir))
	add(integer(ctxReservedConcurrency, &p.ReservedConcurrency, 0, 1000))
	add(integer(ctxThrottleRate, &p.ThrottleRateLimit, 1, 10_000))
	add(integer(ctxThrottleBurst, &p.ThrottleBurstLimit, 1, 5_000))
	add(duration(ctxAuthorizerCacheTTL, &p.AuthorizerCacheTTL, 0, time.Hour))
	if len(errs) > 0 {
		return p, errors.Join(errs...)
	}
	return p, p.Validate()
}

// bounded sets *dst to the context value of key, as str reads it and parse
// parses it, if it is set: a value from lo to hi, which want describes.
func bounded[T cmp.Ordered](str func(string) (string, bool, error), key string, dst *T, parse func(string) (T, error), lo, hi T, want string) error {
	s, ok, err := str(key)
	if err != nil || !ok {
		return err
	}
	v, err := parse(s)
	if err != nil || v < lo || v > hi {
		return fmt.Errorf("context %s=%q: want %s", key, s, want)
	}
	*dst = v
	return nil
}

// UnknownContextKeys returns the keys of ctx that look like this app's
// settings (camelCase words, unlike CDK's own "aws:cdk:…" and
// "@aws-cdk/…" keys) but are not among them, so that main can warn about
// a misspelling that would otherwise be ignored.
func UnknownContextKeys(ctx map[string]any) []string {
	known := map[string]bool{}
	for _, k := range contextKeys {
		known[k] = true
	}
	var out []string
	for k := range ctx {
		if known[k] || !settingKey.MatchString(k) {
			continue
		}
		out = append(out, k)
	}
	return out
}

// ContextFromEnv decodes CDK_CONTEXT_JSON, the context the CDK CLI (or a
// caller of `go run ./infra`) hands the app.
func ContextFromEnv() (map[string]any, error) {
	raw := os.Getenv("CDK_CONTEXT_JSON")
	if raw == "" {
		return map[string]any{}, nil
	}
	var ctx map[string]any
	if err := json.Unmarshal([]byte(raw), &ctx); err != nil {
		return nil, fmt.Errorf("CDK_CONTEXT_JSON: %w", err)
	}
	return ctx, nil
}

// Validate checks settings that CloudFormation would otherwise refuse late,
// or accept and get wrong.
func (p SecretsStackProps) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !stagePattern.MatchString(p.Stage) {
		bad("stage %q: want 1 to 20 lowercase letters, digits and '-', starting with a letter", p.Stage)
	}
	if _, ok := retentionDays[p.LogRetentionDays]; !ok {
		bad("log retention %d days: CloudWatch Logs accepts %s", p.LogRetentionDays, retentionChoices())
	}
	if p.KeyCacheTTL < time.Second {
		bad("data-key cache TTL %s: want at least 1s", p.KeyCacheTTL)
	}
	if p.KeyCacheSize < 1 || p.KeepVersions < 1 {
		bad("key cache size and versions kept must be 1 or more")
	}
	switch p.RemovalPolicy {
	case RemovalRetain, RemovalDestroy:
	default:
		bad("removal policy %q: want retain or destroy", p.RemovalPolicy)
	}
	for _, arn := range p.ResolveInvokerRoleARNs {
		if !roleARNPattern.MatchString(arn) {
			bad("resolve invoker %q: want an IAM role ARN, arn:aws:iam::123456789012:role/NAME", arn)
		}
	}
	if p.AlarmEmail != "" && !emailPattern.MatchString(p.AlarmEmail) {
		bad("alarm e-mail %q is not an e-mail address", p.AlarmEmail)
	}
	if d := p.CustomDomain; d != nil {
		if !domainPattern.MatchString(d.Name) {
			bad("custom domain %q: want a lowercase DNS name such as secrets.example.com", d.Name)
		}
		if !certARNPattern.MatchString(d.CertificateARN) {
			bad("custom domain needs the ARN of an ACM certificate in the stack's region (certificateArn), got %q", d.CertificateARN)
		}
	}
	if !schedulePatt.MatchString(p.RotationSchedule) {
		bad("rotation schedule %q: want an EventBridge Scheduler rate(...) or cron(...) expression", p.RotationSchedule)
	}
	if p.UIOrigin != "" && !originPattern.MatchString(p.UIOrigin) {
		bad("UI origin %q: want scheme://host[:port] with no path, e.g. https://secrets.example.com", p.UIOrigin)
	}
	if u, err := url.Parse(p.UIOrigin); p.UIOrigin != "" && err == nil && u.Scheme == "http" && u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1" {
		bad("UI origin %q: plain http is only allowed for localhost", p.UIOrigin)
	}
	if p.AssetDir == "" {
		bad("asset directory is empty")
	}
	if p.UIAssetDir == "" {
		bad("web UI directory is empty")
	}
	if p.ReservedConcurrency < 0 {
		bad("reserved concurrency %d: want 0 (none) or more", p.ReservedConcurrency)
	}
	if p.ThrottleRateLimit < 1 || p.ThrottleBurstLimit < 1 {
		bad("API throttling limits must be 1 or more")
	}
	if p.AuthorizerCacheTTL < 0 || p.AuthorizerCacheTTL > time.Hour || p.AuthorizerCacheTTL%time.Second != 0 {
		bad("authorizer cache TTL %s: want whole seconds from 0 (no cache) to 1h", p.AuthorizerCacheTTL)
	}
	return errors.Join(errs...)
}

func functionZips() []string {
	zips := make([]string, len(functionNames))
	for i, fn := range functionNames {
		zips[i] = fn + ".zip"
	}
	return zips
}

// CheckAssets reports a missing function zip (or the extension's layer) with what to do about it.
func CheckAssets(dir string) error {
	for _, zip := range append(functionZips(), extensionLayerZip) {
		path := filepath.Join(dir, zip)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("function code %s is missing: run `make lambdas` first (or set -c %s=DIR)", path, ctxAssetDir)
		}
	}
	return nil
}

// CheckUIAssets reports a web UI that was not built (`make web` writes
// index.html and its assets into dir), with what to do about it.
func CheckUIAssets(dir string) error {
	path := filepath.Join(dir, "index.html")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the web UI is not built (%s is missing): run `make web` first (or set -c %s=DIR to a built UI)", path, ctxUIAssetDir)
	}
	return nil
}
