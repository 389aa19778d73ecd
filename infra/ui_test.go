package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/zwrm/secrets/internal/webui"
)

// CloudFront's managed policies, by their fixed ids.
const (
	cachingDisabled           = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	allViewerExceptHostHeader = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
)

// distribution returns the distribution's config.
func (s *synthesized) distribution(tb testing.TB) map[string]any {
	tb.Helper()
	cfg, _ := get(s.tpl.Resources[s.logicalID(tb, "UiDistribution")].Properties, "DistributionConfig").(map[string]any)
	if cfg == nil {
		tb.Fatal("the distribution has no config")
	}
	return cfg
}

// origin returns the distribution's origin with the given id.
func origin(tb testing.TB, cfg map[string]any, id any) map[string]any {
	tb.Helper()
	list, _ := cfg["Origins"].([]any)
	for _, o := range list {
		if m, _ := o.(map[string]any); m != nil && m["Id"] == id {
			return m
		}
	}
	tb.Fatalf("no origin %v", id)
	return nil
}

// privateBucket matches a retained S3 bucket closed to the public and
// encrypted, with the given object ownership and the properties props.
func privateBucket(ownership string, props map[string]any) map[string]any {
	props["PublicAccessBlockConfiguration"] = map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}
	props["BucketEncryption"] = map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}}
	props["OwnershipControls"] = map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": ownership}}}
	return map[string]any{
		// CloudFormation cannot delete a bucket that holds objects.
		"DeletionPolicy": "Retain",
		"Properties":     assertions.Match_ObjectLike(&props),
	}
}

func TestTheUIBucketIsPrivateEncryptedAndReadOnlyByTheDistribution(t *testing.T) {
	s := stackUnderTest(t)
	bucket, logs, dist := s.logicalID(t, "UiBucket"), s.logicalID(t, "AccessLogs"), s.logicalID(t, "UiDistribution")
	s.hasResource(t, "UI bucket", "AWS::S3::Bucket", privateBucket("BucketOwnerEnforced", map[string]any{
		"LoggingConfiguration": map[string]any{"DestinationBucketName": map[string]any{"Ref": logs}, "LogFilePrefix": "s3/ui/"},
		"WebsiteConfiguration": assertions.Match_Absent(),
	}))
	// CloudFront's standard logs are delivered with an ACL.
	s.hasResource(t, "access-log bucket", "AWS::S3::Bucket", privateBucket("BucketOwnerPreferred", map[string]any{
		"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{
			"ExpirationInDays": 90, "AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1}, "Status": "Enabled",
		}}},
	}))

	// Each bucket's policy: TLS 1.2 or later only, and one grant.
	allows := map[string][]map[string]any{}
	for _, id := range s.tpl.ofType("AWS::S3::BucketPolicy") {
		p := s.tpl.Resources[id].Properties
		b := ref(p["Bucket"])
		denies := 0
		for _, st := range statements(p["PolicyDocument"]) {
			switch {
			case st["Effect"] == "Deny" && jsonString(st["Condition"]) == `{"Bool":{"aws:SecureTransport":"false"}}`:
				denies++
			case st["Effect"] == "Deny" && jsonString(st["Condition"]) == `{"NumericLessThan":{"s3:TlsVersion":1.2}}`:
				denies++
			case st["Effect"] == "Allow":
				allows[b] = append(allows[b], st)
			default:
				t.Errorf("bucket policy %s: unexpected statement %s", id, jsonString(st))
			}
		}
		if denies != 2 {
			t.Errorf("bucket policy %s does not refuse plain HTTP and TLS before 1.2: %s", id, jsonString(p))
		}
	}
	if got := allows[bucket]; len(got) != 1 ||
		jsonString(got[0]["Principal"]) != `{"Service":"cloudfront.amazonaws.com"}` || got[0]["Action"] != "s3:GetObject" ||
		!slices.Contains(refs(get(got[0], "Condition", "StringEquals", "AWS:SourceArn")), dist) ||
		!slices.Equal(refs(got[0]["Resource"]), []string{bucket}) {
		t.Errorf("the UI bucket lets in %s; want only s3:GetObject by this distribution", jsonString(got))
	}
	if got := allows[logs]; len(got) != 1 ||
		jsonString(got[0]["Principal"]) != `{"Service":"logging.s3.amazonaws.com"}` || got[0]["Action"] != "s3:PutObject" ||
		ref(get(got[0], "Condition", "ArnLike", "aws:SourceArn")) != bucket {
		t.Errorf("the access-log bucket lets in %s; want only S3's log delivery from the UI bucket", jsonString(got))
	}
}

func TestCloudFrontServesTheUIFromTheBucketOverHTTPS(t *testing.T) {
	s := stackUnderTest(t)
	cfg := s.distribution(t)
	def, _ := cfg["DefaultCacheBehavior"].(map[string]any)
	o := origin(t, cfg, def["TargetOriginId"])
	if ref(o["DomainName"]) != s.logicalID(t, "UiBucket") || ref(o["OriginAccessControlId"]) == "" {
		t.Errorf("the default behavior's origin is %s; want the UI bucket through origin access control", jsonString(o))
	}
	want := map[string]any{
		"ViewerProtocolPolicy":    "redirect-to-https",
		"AllowedMethods":          []any{"GET", "HEAD"},
		"CachePolicyId":           map[string]any{"Ref": s.logicalID(t, "UiCachePolicy")},
		"ResponseHeadersPolicyId": map[string]any{"Ref": s.logicalID(t, "UiHeaders")},
		"Compress":                true,
	}
	for k, w := range want {
		if !reflect.DeepEqual(normalize(def[k]), normalize(w)) {
			t.Errorf("default behavior %s = %s, want %s", k, jsonString(def[k]), jsonString(w))
		}
	}
	if cfg["DefaultRootObject"] != "index.html" || cfg["HttpVersion"] != "http2and3" {
		t.Errorf("distribution: root object %v, HTTP %v", cfg["DefaultRootObject"], cfg["HttpVersion"])
	}
	if got, want := jsonString(cfg["Logging"]), `{"Bucket":{"Fn::GetAtt":["`+s.logicalID(t, "AccessLogs")+`","RegionalDomainName"]},"Prefix":"cloudfront/"}`; got != want {
		t.Errorf("distribution logging %s, want %s (and no cookies)", got, want)
	}
	// The files' own Cache-Control decides: no minimum TTL, which would
	// override index.html's no-store, and nothing in the cache key.
	s.hasProperties(t, "the UI's cache policy", "AWS::CloudFront::CachePolicy", map[string]any{
		"CachePolicyConfig": assertions.Match_ObjectLike(&map[string]any{
			"MinTTL": 0,
			"MaxTTL": 365 * 24 * 3600,
			"ParametersInCacheKeyAndForwardedToOrigin": map[string]any{
				"CookiesConfig":              map[string]any{"CookieBehavior": "none"},
				"HeadersConfig":              map[string]any{"HeaderBehavior": "none"},
				"QueryStringsConfig":         map[string]any{"QueryStringBehavior": "none"},
				"EnableAcceptEncodingGzip":   true,
				"EnableAcceptEncodingBrotli": true,
			},
		}),
	})
}

func TestTheAPIPathsGoToTheAPIUncachedWithTheirHeaders(t *testing.T) {
	s := stackUnderTest(t)
	cfg := s.distribution(t)
	behaviors, _ := cfg["CacheBehaviors"].([]any)
	var patterns []string
	for _, b := range behaviors {
		b := b.(map[string]any)
		pattern, _ := b["PathPattern"].(string)
		patterns = append(patterns, pattern)
		o := origin(t, cfg, b["TargetOriginId"])
		// The API's own endpoint: https://ID.execute-api.REGION.amazonaws.com.
		wantDomain := `{"Fn::Select":[2,{"Fn::Split":["/",{"Fn::GetAtt":["` + s.logicalID(t, "Api") + `","ApiEndpoint"]}]}]}`
		if got := jsonString(o["DomainName"]); got != wantDomain {
			t.Errorf("%s goes to %s, want the API's endpoint", pattern, got)
		}
		if got := jsonString(o["CustomOriginConfig"]); got != `{"OriginProtocolPolicy":"https-only","OriginSSLProtocols":["TLSv1.2"]}` {
			t.Errorf("%s: origin protocol %s, want HTTPS with TLS 1.2", pattern, got)
		}
		methods := []any{"GET", "HEAD"}
		if pattern == "/v1/*" {
			methods = []any{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
		}
		want := map[string]any{
			"PathPattern":    pattern,
			"TargetOriginId": b["TargetOriginId"],
			"AllowedMethods": methods,
			// Never cached: answers depend on the Authorization header.
			"CachePolicyId": cachingDisabled,
			// Authorization and the query string reach the API; Host is
			// the API's own.
			"OriginRequestPolicyId": allViewerExceptHostHeader,
			// No response headers policy: the API's own headers
			// (Cache-Control: no-store, X-Request-Id, …) pass unchanged.
			"ViewerProtocolPolicy": "https-only",
			"Compress":             true,
		}
		if !reflect.DeepEqual(normalize(b), normalize(want)) {
			t.Errorf("behavior %s:\n got %s\nwant %s", pattern, jsonString(b), jsonString(want))
		}
	}
	slices.Sort(patterns)
	if !slices.Equal(patterns, []string{"/healthz", "/v1/*"}) {
		t.Errorf("the API's paths are %v", patterns)
	}

	// The same split as webui.Mount makes for zwrm dev.
	mount := webui.Mount(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api") }),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ui") }),
	)
	served := func(path string) string {
		rec := httptest.NewRecorder()
		mount.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Body.String()
	}
	for _, p := range patterns {
		if path := strings.ReplaceAll(p, "*", "secrets/x"); served(path) != "api" {
			t.Errorf("CloudFront sends %s to the API, zwrm dev serves it the UI", path)
		}
	}
	for _, path := range []string{"/", "/index.html", "/app-ABC.js", "/v1x", "/healthzz"} {
		if served(path) != "ui" {
			t.Errorf("CloudFront serves %s from the bucket, zwrm dev sends it to the API", path)
		}
	}

	// No error answer is cached (CloudFront's default is 10 s per URL,
	// whoever asked) and none is replaced by a page: no SPA fallback.
	got := map[float64]bool{}
	errs, _ := cfg["CustomErrorResponses"].([]any)
	for _, e := range errs {
		e := e.(map[string]any)
		if e["ErrorCachingMinTTL"] != float64(0) || e["ResponsePagePath"] != nil || e["ResponseCode"] != nil {
			t.Errorf("error response %s", jsonString(e))
		}
		got[e["ErrorCode"].(float64)] = true
	}
	for _, code := range []float64{400, 403, 404, 405, 414, 500, 501, 502, 503, 504} {
		if !got[code] {
			t.Errorf("CloudFront may cache a %v answer", code)
		}
	}
}

func TestTheUISecurityHeadersAreThoseOfTheWebUI(t *testing.T) {
	s := stackUnderTest(t)
	cfg, _ := get(s.tpl.Resources[s.logicalID(t, "UiHeaders")].Properties, "ResponseHeadersPolicyConfig").(map[string]any)
	got := map[string]string{}
	for name, h := range get(cfg, "SecurityHeadersConfig").(map[string]any) {
		h := h.(map[string]any)
		if h["Override"] != true {
			t.Errorf("%s does not override the origin's", name)
		}
		switch name {
		case "ContentSecurityPolicy":
			got["Content-Security-Policy"], _ = h["ContentSecurityPolicy"].(string)
		case "ContentTypeOptions":
			got["X-Content-Type-Options"] = "nosniff"
		case "FrameOptions":
			got["X-Frame-Options"], _ = h["FrameOption"].(string)
		case "ReferrerPolicy":
			got["Referrer-Policy"], _ = h["ReferrerPolicy"].(string)
		case "StrictTransportSecurity":
			if h["AccessControlMaxAgeSec"] != float64(365*24*3600) || h["IncludeSubdomains"] != nil || h["Preload"] != nil {
				t.Errorf("HSTS %s", jsonString(h))
			}
			got["Strict-Transport-Security"] = "max-age=31536000"
		default:
			t.Errorf("unexpected security header %s", name)
		}
	}
	for _, h := range get(cfg, "CustomHeadersConfig", "Items").([]any) {
		h := h.(map[string]any)
		if h["Override"] != true {
			t.Errorf("%s does not override the origin's", h["Header"])
		}
		got[h["Header"].(string)] = h["Value"].(string)
	}
	want := webui.SecurityHeaders()
	want["Strict-Transport-Security"] = "max-age=31536000" // HTTPS only, unlike zwrm dev
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CloudFront sends\n%v\nwant (internal/webui)\n%v", got, want)
	}
	if got["Content-Security-Policy"] != webui.ContentSecurityPolicy {
		t.Errorf("CSP %q", got["Content-Security-Policy"])
	}
	if cfg["CorsConfig"] != nil || cfg["RemoveHeadersConfig"] != nil {
		t.Errorf("the UI's headers policy does more: %s", jsonString(cfg))
	}
}

func TestTheBuiltUIIsUploadedWithItsCacheControlAndNothingDeleted(t *testing.T) {
	s := stackUnderTest(t)
	assets, page := s.logicalID(t, "UiAssets", "CustomResource"), s.logicalID(t, "UiPage", "CustomResource")
	a, p := s.tpl.Resources[assets], s.tpl.Resources[page]
	for id, r := range map[string]resource{assets: a, page: p} {
		if r.Type != "Custom::CDKBucketDeployment" {
			t.Fatalf("%s is a %s", id, r.Type)
		}
		if ref(r.Properties["DestinationBucketName"]) != s.logicalID(t, "UiBucket") || r.Properties["Prune"] != false ||
			r.Properties["DestinationBucketKeyPrefix"] != nil || r.Properties["DistributionId"] != nil {
			t.Errorf("%s: %s; want the UI bucket's root, nothing deleted", id, jsonString(r.Properties))
		}
	}
	if got, want := jsonString(a.Properties["SystemMetadata"]), jsonString(map[string]any{"cache-control": webui.AssetCacheControl}); got != want {
		t.Errorf("assets uploaded with %s, want %s", got, want)
	}
	if got, want := jsonString(p.Properties["SystemMetadata"]), jsonString(map[string]any{"cache-control": webui.PageCacheControl}); got != want {
		t.Errorf("index.html uploaded with %s, want %s", got, want)
	}
	if got := strs(a.Properties["Exclude"]); !slices.Equal(got, []string{"index.html"}) || a.Properties["Include"] != nil {
		t.Errorf("the assets upload excludes %v and includes %v; want all but index.html", got, a.Properties["Include"])
	}
	if ex, in := strs(p.Properties["Exclude"]), strs(p.Properties["Include"]); !slices.Equal(ex, []string{"*"}) || !slices.Equal(in, []string{"index.html"}) {
		t.Errorf("the page upload excludes %v and includes %v; want index.html only", ex, in)
	}
	// The page after its assets, so that it never names one not there yet.
	if deps := strs(p.DependsOn); !slices.Contains(deps, assets) {
		t.Errorf("index.html is uploaded without waiting for the assets (depends on %v)", deps)
	}

	// Both from the one asset: the directory given as UIAssetDir.
	keys := strs(a.Properties["SourceObjectKeys"])
	if len(keys) != 1 || !slices.Equal(strs(p.Properties["SourceObjectKeys"]), keys) {
		t.Fatalf("sources %v and %v", keys, p.Properties["SourceObjectKeys"])
	}
	staged := filepath.Join(testDir, "cdk.out", "asset."+strings.TrimSuffix(keys[0], ".zip"))
	want, _ := os.ReadFile(filepath.Join(s.props.UIAssetDir, "index.html"))
	if got, err := os.ReadFile(filepath.Join(staged, "index.html")); err != nil || string(got) != string(want) {
		t.Errorf("the uploaded asset is not the UI directory %s: %v", s.props.UIAssetDir, err)
	}
	// Without dotfiles (dist/.gitignore is not part of the UI) and without the
	// compressed copies: CloudFront compresses by Accept-Encoding itself.
	if files, err := os.ReadDir(staged); err == nil {
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		if !slices.Equal(names, []string{"app-TEST.js", "index.html"}) {
			t.Errorf("the uploaded asset holds %v", names)
		}
	}

	// One upload function, with the stack's role and log group.
	handler := ref(a.Properties["ServiceToken"])
	if ref(p.Properties["ServiceToken"]) != handler {
		t.Errorf("the uploads run in different functions")
	}
	fn := s.tpl.Resources[handler].Properties
	if ref(fn["Role"]) != s.logicalID(t, "UiDeploymentRole") || ref(get(fn, "LoggingConfig", "LogGroup")) != s.logicalID(t, "UiDeploymentLogs") {
		t.Errorf("the upload function runs as %v and logs to %v", fn["Role"], get(fn, "LoggingConfig", "LogGroup"))
	}
	if layers, _ := fn["Layers"].([]any); len(layers) != 1 {
		t.Errorf("the upload function has layers %s", jsonString(fn["Layers"]))
	}
}
