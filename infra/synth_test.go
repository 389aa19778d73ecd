package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// The one synthesized stack every test of this package reads: the CDK's
// Go binding drives Node.js (jsii), so each synthesis costs seconds.

// testProps configures every optional feature, so that the tests see all
// of it: direct resolve invokers, alarm e-mail, a custom domain, CORS,
// reserved concurrency. The rest are the defaults, but for a shorter cache
// and history and a longer log retention than a stage nobody configured.
func testProps(assetDir, uiAssetDir string) SecretsStackProps {
	p := DefaultProps()
	p.Stage = "test"
	p.LogRetentionDays = 90
	p.KeyCacheTTL = 2 * time.Minute
	p.KeyCacheSize = 500
	p.KeepVersions = 10
	p.ResolveInvokerRoleARNs = []string{
		"arn:aws:iam::111111111111:role/web-prod",
		"arn:aws:iam::222222222222:role/batch/worker",
	}
	p.AlarmEmail = "ops@example.com"
	p.CustomDomain = &CustomDomain{Name: "secrets.example.com", CertificateARN: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"}
	p.UIOrigin = "https://secrets.example.com"
	p.AssetDir, p.UIAssetDir = assetDir, uiAssetDir
	p.ReservedConcurrency = 5
	return p
}

// synthesized is the stack under test, synthesized once, with the AWS
// Solutions checks applied.
type synthesized struct {
	app         awscdk.App
	stack       awscdk.Stack
	props       SecretsStackProps
	template    assertions.Template
	annotations assertions.Annotations
	// tpl is the template as plain Go values, for the checks that walk it.
	tpl template
}

var (
	synthOnce   sync.Once
	synthResult *synthesized
	synthErr    error
	synthTook   time.Duration
	// synthStarted is set once a test asked for the stack (and so for
	// Node.js).
	synthStarted bool
	testDir      string // everything the tests write, jsii's runtime included
)

// TestMain gives the tests one temporary directory and removes it at the
// end, with the directory the jsii runtime unpacked itself into. Once
// Node.js runs, it does not call jsii.Close, which races with the runtime's
// own wait for that process (jsii-runtime-go 1.133) and so fails `make
// test`'s race detector: the Node.js process ends when this one does, as
// its stdin closes.
func TestMain(m *testing.M) {
	var err error
	if testDir, err = os.MkdirTemp("", "zwrm-infra-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if synthStarted {
		for _, dir := range jsiiRuntimeDirs() {
			os.RemoveAll(dir)
		}
	} else {
		// No Node.js process was started: nothing to race with, and Close
		// removes the directory the runtime prepared at init.
		jsii.Close()
	}
	os.RemoveAll(testDir)
	os.Exit(code)
}

// jsiiRuntimeDirs finds the directories the jsii runtime of this process
// unpacked itself into (TMPDIR/jsii-runtime.*), from the command lines of
// its Node.js children. Linux only; elsewhere it finds none.
func jsiiRuntimeDirs() []string {
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	self := strconv.Itoa(os.Getpid())
	var dirs []string
	for _, stat := range procs {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so split after ')'.
		_, rest, ok := strings.Cut(string(b), ") ")
		if f := strings.Fields(rest); !ok || len(f) < 2 || f[1] != self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(filepath.Dir(stat), "cmdline"))
		if err != nil {
			continue
		}
		for _, arg := range strings.Split(string(cmdline), "\x00") {
			dir := filepath.Dir(filepath.Dir(arg))
			if strings.HasSuffix(arg, "/bin/jsii-runtime.js") && strings.HasPrefix(filepath.Base(dir), "jsii-runtime.") && filepath.Dir(dir) == filepath.Clean(os.TempDir()) {
				dirs = append(dirs, dir)
			}
		}
	}
	return dirs
}

// skipper is the part of testing.TB requireNode uses.
type skipper interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// requireNode skips the test without Node.js, or fails it under CI=true,
// where a missing Node.js is a broken machine rather than a choice.
func requireNode(tb skipper) {
	tb.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("the CDK stack tests need Node.js (jsii runs the CDK on it): %v", err)
		}
		tb.Skipf("Node.js not found (%v): the CDK stack tests need it; CI=true makes this a failure", err)
	}
}

// stackUnderTest returns the synthesized stack, synthesizing it on first use.
func stackUnderTest(tb testing.TB) *synthesized {
	tb.Helper()
	requireNode(tb)
	synthOnce.Do(func() {
		synthStarted = true
		start := time.Now()
		synthResult, synthErr = synthesize()
		synthTook = time.Since(start)
	})
	if synthErr != nil {
		tb.Fatalf("synthesize the stack: %v", synthErr)
	}
	return synthResult
}

func synthesize() (s *synthesized, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	assetDir := filepath.Join(testDir, "dist")
	if err := os.MkdirAll(assetDir, 0o755); err != nil {
		return nil, err
	}
	if err := writePlaceholderZips(assetDir); err != nil {
		return nil, err
	}
	uiAssetDir := filepath.Join(testDir, "ui")
	if err := writePlaceholderUI(uiAssetDir); err != nil {
		return nil, err
	}
	out := filepath.Join(testDir, "cdk.out")
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
	props := testProps(assetDir, uiAssetDir)
	props.Env = &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}
	stack := NewSecretsStack(app, StackName(props.Stage), &props)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true), LogIgnores: jsii.Bool(true)}), nil)

	// Annotations synthesize (forced); the template then reuses that
	// synthesis.
	s = &synthesized{app: app, stack: stack, props: props}
	s.annotations = assertions.Annotations_FromStack(stack)
	s.template = assertions.Template_FromStack(stack, nil)
	raw, err := json.Marshal(s.template.ToJSON())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &s.tpl); err != nil {
		return nil, err
	}
	return s, nil
}

// writePlaceholderZips stands in for `make lambdas`: a zip per function,
// each different, so that each function's code asset is its own.
func writePlaceholderZips(dir string) error {
	for _, fn := range append(slices.Clone(functionNames), strings.TrimSuffix(extensionLayerZip, ".zip")) {
		f, err := os.Create(filepath.Join(dir, fn+".zip"))
		if err != nil {
			return err
		}
		zw := zip.NewWriter(f)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
		if err == nil {
			_, err = fmt.Fprintf(w, "#!/bin/sh\necho placeholder for %s\n", fn)
		}
		if err == nil {
			err = zw.Close()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writePlaceholderUI stands in for `make web`: a page, a hashed asset with
// its compressed copies, and the .gitignore that internal/webui/dist keeps.
func writePlaceholderUI(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, body := range map[string]string{
		"index.html":  `<!doctype html><script type="module" src="/app-TEST.js"></script>` + "\n",
		"app-TEST.js": "console.log('placeholder')\n",
		".gitignore":  "*\n!.gitignore\n",
		// The build's compressed copies, which CloudFront makes itself.
		"app-TEST.js.br": "brotli\n",
		"app-TEST.js.gz": "gzip\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// check runs an assertion of the CDK's assertions package, which panics
// on a mismatch, and reports the mismatch as a test error.
func check(t *testing.T, what string, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assertion()
}

// hasResource checks, as what, that the template has a resource of type
// typ that matches resource (its properties, policies and the rest).
func (s *synthesized) hasResource(t *testing.T, what, typ string, resource map[string]any) {
	t.Helper()
	check(t, what, func() { s.template.HasResource(jsii.String(typ), &resource) })
}

// hasProperties checks, as what, that the template has a resource of type
// typ whose properties match props.
func (s *synthesized) hasProperties(t *testing.T, what, typ string, props map[string]any) {
	t.Helper()
	check(t, what, func() { s.template.HasResourceProperties(jsii.String(typ), &props) })
}

// template is the synthesized CloudFormation template.
type template struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]struct {
		Value       any    `json:"Value"`
		Description string `json:"Description"`
	} `json:"Outputs"`
}

type resource struct {
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
	DependsOn           any            `json:"DependsOn"`
	Metadata            map[string]any `json:"Metadata"`
}

// ofType returns the logical ids of the resources of type typ, sorted.
func (t template) ofType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// logicalID returns the logical id of the CloudFormation resource behind
// the construct at path (construct ids from the stack down).
func (s *synthesized) logicalID(tb testing.TB, path ...string) string {
	tb.Helper()
	var c constructs.IConstruct = s.stack
	for _, id := range path {
		c = c.Node().TryFindChild(jsii.String(id))
		if c == nil {
			tb.Fatalf("no construct %s in the stack", strings.Join(path, "/"))
		}
	}
	if def := c.Node().DefaultChild(); def != nil {
		c = def
	}
	el, ok := c.(awscdk.CfnElement)
	if !ok {
		tb.Fatalf("construct %s is not a CloudFormation element", strings.Join(path, "/"))
	}
	return *s.stack.GetLogicalId(el)
}

// ref returns the logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]}
// names, or "".
func ref(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if id, ok := m["Ref"].(string); ok {
		return id
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		id, _ := ga[0].(string)
		return id
	}
	return ""
}

// refs returns every logical id v mentions, at any depth.
func refs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if id := ref(v); id != "" {
				out = append(out, id)
				return
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// strs turns a JSON string or list of strings into a sorted []string.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		sort.Strings(out)
		return out
	}
	return nil
}

// get walks m by keys.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
