package main

// docs/kubernetes.md gives a ClusterSecretStore for the external-secrets
// operator's Webhook provider and ExternalSecrets that use it. This test
// reads those YAML blocks, builds the request the operator would send for
// each ExternalSecret entry (templates rendered with text/template over the
// operator's data: remoteRef.{key,version,property,namespace} and one map per
// entry of the store's `secrets`, the URL's data query-escaped, the body's,
// headers' and JSONPath's raw), sends it to a real local server with a
// service token, and evaluates the rendered JSONPath with
// github.com/PaesslerAG/jsonpath, the library the operator uses, in the way
// its GetSecret (one value) and GetSecretMap (dataFrom) do.
//
// The operator's template functions (sprig and its own) are not loaded: the
// page's templates use only text/template's builtins, and a template that
// used another function fails here to parse, so the page cannot drift to one
// untested.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"text/template"

	"github.com/PaesslerAG/jsonpath"
	"gopkg.in/yaml.v3"
)

// webhookStore is the part of a ClusterSecretStore's spec.provider.webhook
// that builds a request and reads its answer.
type webhookStore struct {
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
	Result  struct {
		JSONPath string `yaml:"jsonPath"`
	} `yaml:"result"`
	Secrets []struct {
		Name      string `yaml:"name"`
		SecretRef struct {
			Name      string  `yaml:"name"`
			Namespace *string `yaml:"namespace"`
		} `yaml:"secretRef"`
	} `yaml:"secrets"`
}

// k8sObject is the part of the page's objects the test reads.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		Provider struct {
			Webhook *webhookStore `yaml:"webhook"`
		} `yaml:"provider"`
		SecretStoreRef struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"secretStoreRef"`
		Data []struct {
			SecretKey string `yaml:"secretKey"`
			RemoteRef struct {
				Key string `yaml:"key"`
			} `yaml:"remoteRef"`
		} `yaml:"data"`
		DataFrom []struct {
			Extract *struct {
				Key string `yaml:"key"`
			} `yaml:"extract"`
		} `yaml:"dataFrom"`
	} `yaml:"spec"`
}

var yamlBlockRE = regexp.MustCompile("(?s)```yaml\n(.*?)\n```")

// kubernetesPage reads docs/kubernetes.md: its text and its YAML objects.
func kubernetesPage(t *testing.T) (string, []k8sObject) {
	t.Helper()
	b, err := os.ReadFile("../../docs/kubernetes.md")
	if err != nil {
		t.Fatal(err)
	}
	var objs []k8sObject
	for _, m := range yamlBlockRE.FindAllStringSubmatch(string(b), -1) {
		dec := yaml.NewDecoder(strings.NewReader(m[1]))
		for {
			var o k8sObject
			err := dec.Decode(&o)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("a YAML block of docs/kubernetes.md does not parse: %v\n%s", err, m[1])
			}
			objs = append(objs, o)
		}
	}
	return string(b), objs
}

// esoTemplate renders a Webhook provider template as the operator does
// (an empty template renders empty).
func esoTemplate(t *testing.T, what, tmpl string, data map[string]map[string]string) string {
	t.Helper()
	if tmpl == "" {
		return ""
	}
	tp, err := template.New("webhooktemplate").Parse(tmpl)
	if err != nil {
		t.Fatalf("the page's %s template does not parse with text/template's builtins: %v", what, err)
	}
	var out bytes.Buffer
	if err := tp.Execute(&out, data); err != nil {
		t.Fatalf("the page's %s template: %v", what, err)
	}
	return out.String()
}

// esoData is the operator's template data for remoteRef key: the key and
// the store's Secrets, query-escaped for the URL or raw for the rest.
func esoData(key string, escape bool, secrets map[string]map[string]string) map[string]map[string]string {
	ref := map[string]string{"key": key, "version": "", "property": "", "namespace": "web"}
	if escape {
		ref["key"] = url.QueryEscape(key)
	}
	data := map[string]map[string]string{"remoteRef": ref}
	for k, v := range secrets {
		data[k] = v
	}
	return data
}

// esoCall sends the request the store describes for key to the server at
// endpoint (the page's scheme and host replaced by it) and returns the
// answer's body and the rendered JSONPath.
func esoCall(t *testing.T, store *webhookStore, endpoint, key string, secrets map[string]map[string]string) ([]byte, string) {
	t.Helper()
	raw := esoData(key, false, secrets)
	u, err := url.Parse(esoTemplate(t, "url", store.URL, esoData(key, true, secrets)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Path, "/v1/resolve"; got != want {
		t.Fatalf("the store's URL path is %q, want %q", got, want)
	}
	base, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme, u.Host = base.Scheme, base.Host
	method := store.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, u.String(), strings.NewReader(esoTemplate(t, "body", store.Body, raw)))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range store.Headers {
		req.Header.Add(k, esoTemplate(t, "header "+k, v, raw))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		t.Fatalf("the store's request for key %q answered %d: %s", key, resp.StatusCode, body)
	}
	return body, esoTemplate(t, "result.jsonPath", store.Result.JSONPath, raw)
}

// esoGetSecret is the operator's GetSecret: one value picked by the JSONPath.
func esoGetSecret(body []byte, path string) (string, error) {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", err
	}
	v, err := jsonpath.Get(path, doc)
	if err != nil {
		return "", fmt.Errorf("failed to get response path %s: %w", path, err)
	}
	if l, ok := v.([]any); ok && len(l) > 0 {
		v = l[0] // the operator takes a list's first element
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("a %T at %s, not a string", v, path)
	}
	return s, nil
}

// esoGetSecretMap is the operator's GetSecretMap: a map of strings at the
// JSONPath.
func esoGetSecretMap(body []byte, path string) (map[string]string, error) {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	v, err := jsonpath.Get(path, doc)
	if err != nil {
		return nil, fmt.Errorf("failed to get response path %s: %w", path, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a %T at %s, not a map", v, path)
	}
	out := map[string]string{}
	for k, x := range m {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("a %T under %s, not a string", x, k)
		}
		out[k] = s
	}
	return out, nil
}

func TestTheKubernetesPagesStoreResolvesWhatItsExternalSecretsAskFor(t *testing.T) {
	srv, c := serveCLI(t)
	page, objs := kubernetesPage(t)

	var store *k8sObject
	var externals []k8sObject
	for i, o := range objs {
		switch o.Kind {
		case "ClusterSecretStore":
			store = &objs[i]
		case "ExternalSecret":
			externals = append(externals, o)
		}
	}
	if store == nil || store.Spec.Provider.Webhook == nil {
		t.Fatal("docs/kubernetes.md has no ClusterSecretStore with a webhook provider")
	}
	wh := store.Spec.Provider.Webhook
	if len(wh.Secrets) != 1 || wh.Secrets[0].SecretRef.Namespace == nil {
		t.Fatalf("the store should take the token from one Secret, with its namespace (a ClusterSecretStore needs it): %+v", wh.Secrets)
	}
	ref := wh.Secrets[0].SecretRef
	// The page's kubectl commands make that Secret, with the key the header
	// template reads and the label the operator requires.
	for _, want := range []string{
		fmt.Sprintf("kubectl create secret generic %s -n %s --from-file=token=", ref.Name, *ref.Namespace),
		fmt.Sprintf("kubectl label secret %s -n %s external-secrets.io/type=webhook", ref.Name, *ref.Namespace),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("docs/kubernetes.md does not say %q", want)
		}
	}

	// What the page's tested block sets, and values whose characters JSON
	// and the JSONPath must carry through.
	values := map[string]string{
		"DATABASE_URL": "postgres://web:p%40ss\"w0rd@db:5432/web?sslmode=require",
		"LOG_LEVEL":    "info",
		"GREETING":     "grüß dich\nzweite Zeile\t{{ .remoteRef.key }}",
	}
	c.okIn(values["DATABASE_URL"], "secrets", "set", "--app", "web", "DATABASE_URL=-", "--env", "production")
	c.okIn(values["GREETING"], "secrets", "set", "--app", "web", "GREETING=-", "--env", "production")
	c.ok("org", "secrets", "set", "LOG_LEVEL=info")
	c.ok("secrets", "set", "--app", "web", "STAGING_ONLY=x", "--env", "staging")
	c.ok("secrets", "set", "--app", "api", "API_ONLY=x", "--env", "production")
	token := strings.TrimSpace(c.ok("tokens", "create", "--kind", "service", "--name", "eso-web-production",
		"--app", "web", "--environments", "production", "--expires", "90d"))
	secrets := map[string]map[string]string{wh.Secrets[0].Name: {"token": token}}

	var sawOne, sawMap bool
	for _, es := range externals {
		if es.Spec.SecretStoreRef.Kind != "ClusterSecretStore" || es.Spec.SecretStoreRef.Name != store.Metadata.Name {
			t.Errorf("ExternalSecret %s refers to %s %s, not the page's store %s", es.Metadata.Name,
				es.Spec.SecretStoreRef.Kind, es.Spec.SecretStoreRef.Name, store.Metadata.Name)
		}
		for _, d := range es.Spec.Data {
			key := d.RemoteRef.Key
			body, path := esoCall(t, wh, srv.endpoint, key, secrets)
			got, err := esoGetSecret(body, path)
			if err != nil {
				t.Fatalf("ExternalSecret %s, key %s: %v", es.Metadata.Name, key, err)
			}
			want, ok := values[key]
			if !ok {
				t.Fatalf("ExternalSecret %s asks for %s, which the test does not set", es.Metadata.Name, key)
			}
			if got != want {
				t.Errorf("ExternalSecret %s, key %s: got %q, want %q", es.Metadata.Name, key, got, want)
			}
			sawOne = true
		}
		for _, d := range es.Spec.DataFrom {
			if d.Extract == nil {
				continue
			}
			body, path := esoCall(t, wh, srv.endpoint, d.Extract.Key, secrets)
			got, err := esoGetSecretMap(body, path)
			if err != nil {
				t.Fatalf("ExternalSecret %s, extract %q: %v", es.Metadata.Name, d.Extract.Key, err)
			}
			if len(got) != len(values) {
				t.Errorf("ExternalSecret %s, extract %q: got names %v, want those of %v", es.Metadata.Name, d.Extract.Key, keys(got), keys(values))
			}
			for k, want := range values {
				if got[k] != want {
					t.Errorf("ExternalSecret %s, extract %q: %s = %q, want %q", es.Metadata.Name, d.Extract.Key, k, got[k], want)
				}
			}
			sawMap = true
		}
	}
	if !sawOne || !sawMap {
		t.Errorf("docs/kubernetes.md should show an ExternalSecret with one value (data) and one with the whole map (dataFrom); one value %v, map %v", sawOne, sawMap)
	}

	t.Run("a name with no value is an error, not an empty value", func(t *testing.T) {
		for _, key := range []string{"NOT_SET", "STAGING_ONLY", "API_ONLY"} {
			body, path := esoCall(t, wh, srv.endpoint, key, secrets)
			got, err := esoGetSecret(body, path)
			if err == nil || !strings.Contains(err.Error(), "failed to get response path") {
				t.Errorf("key %s: got %q, %v; want the JSONPath to find nothing", key, got, err)
			}
		}
	})
	t.Run("the header carries the token: without it the API refuses", func(t *testing.T) {
		empty := map[string]map[string]string{wh.Secrets[0].Name: {"token": ""}}
		u := strings.Replace(esoTemplate(t, "url", wh.URL, esoData("LOG_LEVEL", true, empty)), "https://zwrm.example.com", srv.endpoint, 1)
		req, err := http.NewRequest(wh.Method, u, strings.NewReader(esoTemplate(t, "body", wh.Body, esoData("LOG_LEVEL", false, empty))))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range wh.Headers {
			req.Header.Add(k, esoTemplate(t, "header", v, esoData("LOG_LEVEL", false, empty)))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := resp.StatusCode, http.StatusUnauthorized; got != want {
			t.Errorf("status = %d, want %d", got, want)
		}
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
