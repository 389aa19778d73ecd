package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// contextOf is app.Node().TryGetContext over a map.
func contextOf(m map[string]any) func(*string) any {
	return func(k *string) any { return m[*k] }
}

func TestUnsetContextGivesTheDefaults(t *testing.T) {
	got, err := PropsFromContext(contextOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultProps(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got.RemovalPolicy != RemovalRetain || got.AuthorizerCacheTTL != time.Minute || got.RotationSchedule != "rate(5 minutes)" {
		t.Errorf("defaults changed: %+v", got)
	}
}

func TestContextSetsEverySetting(t *testing.T) {
	// As `-c key=value` hands them over: strings.
	ctx := map[string]any{
		"stage": "dev", "logRetentionDays": "14", "keyCacheTtl": "90s", "keyCacheSize": "200", "keepVersions": "5",
		"removalPolicy": "Destroy", "resolveInvokerRoleArns": "arn:aws:iam::111111111111:role/a, arn:aws:iam::222222222222:role/b",
		"alarmEmail": "ops@example.com", "domainName": "secrets.example.com",
		"certificateArn":   "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
		"rotationSchedule": "rate(1 hour)", "uiOrigin": "https://ui.example.com", "assetDir": "build", "uiAssetDir": "web/out",
		"reservedConcurrency": "3", "throttleRateLimit": "10", "throttleBurstLimit": "20", "authorizerCacheTtl": "0s",
	}
	got, err := PropsFromContext(contextOf(ctx))
	if err != nil {
		t.Fatal(err)
	}
	want := SecretsStackProps{
		Stage: "dev", LogRetentionDays: 14, KeyCacheTTL: 90 * time.Second, KeyCacheSize: 200, KeepVersions: 5,
		RemovalPolicy:          RemovalDestroy,
		ResolveInvokerRoleARNs: []string{"arn:aws:iam::111111111111:role/a", "arn:aws:iam::222222222222:role/b"},
		AlarmEmail:             "ops@example.com",
		CustomDomain:           &CustomDomain{Name: "secrets.example.com", CertificateARN: ctx["certificateArn"].(string)},
		RotationSchedule:       "rate(1 hour)", UIOrigin: "https://ui.example.com", AssetDir: "build", UIAssetDir: "web/out",
		ReservedConcurrency: 3, ThrottleRateLimit: 10, ThrottleBurstLimit: 20, AuthorizerCacheTTL: 0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if len(contextKeys) != len(ctx) {
		t.Errorf("the test sets %d keys, the app reads %d: cover the new ones", len(ctx), len(contextKeys))
	}
}

func TestContextFromJSONTakesNumbersAndLists(t *testing.T) {
	var ctx map[string]any
	if err := json.Unmarshal([]byte(`{"logRetentionDays": 7, "resolveInvokerRoleArns": ["arn:aws:iam::111111111111:role/a"], "reservedConcurrency": 0}`), &ctx); err != nil {
		t.Fatal(err)
	}
	got, err := PropsFromContext(contextOf(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if got.LogRetentionDays != 7 || !slices.Equal(got.ResolveInvokerRoleARNs, []string{"arn:aws:iam::111111111111:role/a"}) || got.ReservedConcurrency != 0 {
		t.Errorf("got %+v", got)
	}
}

func TestBadContextIsRefusedWithTheReason(t *testing.T) {
	for _, tc := range []struct {
		key, value, want string
	}{
		{"stage", "Prod", "stage"},
		{"logRetentionDays", "10", "retention"},
		{"logRetentionDays", "ten", "whole number"},
		{"keyCacheTtl", "5", "duration"},
		{"keyCacheTtl", "0s", "duration"},
		{"removalPolicy", "snapshot", "retain or destroy"},
		{"resolveInvokerRoleArns", "arn:aws:iam::111111111111:user/bob", "role ARN"},
		{"resolveInvokerRoleArns", "*", "role ARN"},
		{"alarmEmail", "ops", "e-mail"},
		{"domainName", "secrets.example.com", "certificate"},
		{"certificateArn", "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b", "domain"},
		{"rotationSchedule", "every 5 minutes", "rate"},
		{"uiOrigin", "*", "scheme://host"},
		{"uiOrigin", "https://ui.example.com/app", "scheme://host"},
		{"uiOrigin", "http://ui.example.com", "localhost"},
		{"uiOrigin", "http://localhost.evil.example", "localhost"},
		{"uiOrigin", "http://127.0.0.1.nip.io", "localhost"},
		{"rotationSchedule", "rate(1 minutes)", "rate"},
		{"rotationSchedule", "rate(5 minute)", "rate"},
		{"authorizerCacheTtl", "2h", "duration"},
		{"authorizerCacheTtl", "1500ms", "whole seconds"},
		{"reservedConcurrency", "-1", "whole number"},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			_, err := PropsFromContext(contextOf(map[string]any{tc.key: tc.value}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestUnknownContextKeysAreTheMisspeltSettings(t *testing.T) {
	got := UnknownContextKeys(map[string]any{
		"stage": "dev", "alarmEmial": "x", "@aws-cdk/core:newStyleStackSynthesis": true,
		"aws:cdk:enable-path-metadata": true, "acknowledged-issue-numbers": []any{},
	})
	if !slices.Equal(got, []string{"alarmEmial"}) {
		t.Errorf("got %v", got)
	}
}

func TestUnbuiltAssetsSayWhatToRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fresh func(dir string) error // what the directory holds before a build
		check func(dir string) error
		say   []string
		build func(dir string) error
	}{
		{
			name:  "missing function code says to run make lambdas",
			fresh: func(string) error { return nil },
			check: CheckAssets, say: []string{"make lambdas"}, build: writePlaceholderZips,
		},
		{
			name: "an unbuilt web UI says to run make web",
			// What internal/webui/dist holds on a fresh clone.
			fresh: func(dir string) error {
				return os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("*\n!.gitignore\n"), 0o644)
			},
			check: CheckUIAssets, say: []string{"make web", "uiAssetDir"}, build: writePlaceholderUI,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.fresh(dir); err != nil {
				t.Fatal(err)
			}
			err := tc.check(dir)
			if err == nil || !containsAll(err.Error(), tc.say) {
				t.Fatalf("got %v, want an error that says %q", err, tc.say)
			}
			if err := tc.build(dir); err != nil {
				t.Fatal(err)
			}
			if err := tc.check(dir); err != nil {
				t.Errorf("once built: %v", err)
			}
		})
	}
}

// containsAll reports whether s contains every one of subs.
func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestTheDefaultUIDirectoryIsWhereMakeWebBuilds(t *testing.T) {
	// make web writes internal/webui/dist (web/build.mjs); the CDK app runs
	// from the repository root.
	if got, want := DefaultProps().UIAssetDir, filepath.Join("internal", "webui", "dist"); got != want {
		t.Errorf("UIAssetDir = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join("..", DefaultProps().UIAssetDir, ".gitignore")); err != nil {
		t.Errorf("the UI build directory is not in the repository: %v", err)
	}
}

func TestEveryFunctionHasItsMainAndItsAccess(t *testing.T) {
	for _, fn := range functionNames {
		if _, err := os.Stat(filepath.Join("..", "functions", fn, "main.go")); err != nil {
			t.Errorf("function %s: %v", fn, err)
		}
		if _, ok := functionAccess[fn]; !ok {
			t.Errorf("function %s has no entry in functionAccess", fn)
		}
	}
	entries, err := os.ReadDir(filepath.Join("..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		// The extension is not a function of the stack: it ships as a layer.
		if e.IsDir() && !slices.Contains(functionNames, e.Name()) && e.Name() != extensionDir {
			t.Errorf("functions/%s is not deployed by the stack", e.Name())
		}
	}
}

func TestCDKJSONRunsThisApp(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		App string `json:"app"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.App != "go run ./infra" {
		t.Errorf("cdk.json app = %q", cfg.App)
	}
}

// nodeRecorder records what requireNode decides.
type nodeRecorder struct{ fatal, skip string }

func (r *nodeRecorder) Helper()                        {}
func (r *nodeRecorder) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *nodeRecorder) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

func TestWithoutNodeTheStackTestsSkipOrFailInCI(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	var r nodeRecorder
	requireNode(&r)
	if r.skip == "" || r.fatal != "" {
		t.Errorf("outside CI: skip %q, fatal %q; want a skip", r.skip, r.fatal)
	}
	t.Setenv("CI", "true")
	r = nodeRecorder{}
	requireNode(&r)
	if r.fatal == "" || !strings.Contains(r.fatal, "Node.js") {
		t.Errorf("under CI=true: fatal %q, skip %q; want a failure", r.fatal, r.skip)
	}
}
