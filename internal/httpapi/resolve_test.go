package httpapi_test

import (
	"encoding/json"
	"testing"
)

func TestResolveAnswers304WithTheETagWhenUnchanged(t *testing.T) {
	e, super := newAcme(t)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "A", "value": "value-a"}), 201)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "B", "value": "value-b"}), 201)

	first := e.do(t, "POST", "/v1/resolve", super, map[string]any{"environment": "development", "names": []string{"A"}})
	wantStatus(t, first, 200)
	var got struct {
		Fingerprint string            `json:"fingerprint"`
		Secrets     map[string]string `json:"secrets"`
		Sources     map[string]struct {
			Layer   string `json:"layer"`
			Version int64  `json:"version"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(first.Body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Secrets) != 1 || got.Secrets["A"] != "value-a" {
		t.Errorf("resolve of names [A] = %v, want only A", got.Secrets)
	}
	if src := got.Sources["A"]; len(got.Sources) != 1 || src.Layer != "global" || src.Version != 1 {
		t.Errorf("sources = %+v, want A from global, version 1", got.Sources)
	}
	if etag := first.Header.Get("ETag"); etag != `"`+got.Fingerprint+`"` || len(got.Fingerprint) != 64 {
		t.Errorf("ETag %q, fingerprint %q; want the quoted fingerprint", etag, got.Fingerprint)
	}

	same := e.do(t, "POST", "/v1/resolve", super, map[string]any{"environment": "development", "names": []string{"A"}, "if_none_match": got.Fingerprint})
	wantStatus(t, same, 304)
	if len(same.Body) != 0 || same.Header.Get("ETag") != `"`+got.Fingerprint+`"` {
		t.Errorf("304 answer: body %q, ETag %q; want no body and the ETag", same.Body, same.Header.Get("ETag"))
	}
	wantStatus(t, e.do(t, "POST", "/v1/resolve", super, map[string]any{"environment": "development", "if_none_match": got.Fingerprint}), 200)
	wantStatus(t, e.do(t, "POST", "/v1/resolve", super, map[string]any{"environment": "development", "names": []string{"1BAD"}}), 400)
}
