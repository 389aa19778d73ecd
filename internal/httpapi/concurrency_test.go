package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// ---------------------------------------------------------------------------
// Concurrency through HTTP.

func TestConcurrentSetsOfOneNameAllSucceed(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	const n = 100
	type result struct {
		status  int
		version int64
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "RACED", "value": fmt.Sprintf("value-%02d", i)})
			var v layerSecretJSON
			_ = json.Unmarshal(r.Body, &v)
			results[i] = result{r.Status, v.Version}
		}()
	}
	close(start)
	wg.Wait()

	created := 0
	var versions []int64
	for i, r := range results {
		switch r.status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("writer %d: status %d", i, r.status)
		}
		versions = append(versions, r.version)
	}
	if created != 1 {
		t.Errorf("%d writers got 201, want exactly 1", created)
	}
	slices.Sort(versions)
	for i, v := range versions {
		if v != int64(i+1) {
			t.Fatalf("versions = %v, want 1 to %d, each once", versions, n)
		}
	}

	r := e.do(t, "GET", "/v1/org/secrets", super, nil)
	list := decode[struct {
		Secrets []layerSecretJSON `json:"secrets"`
	}](t, r)
	if len(list.Secrets) != 1 || list.Secrets[0].Version != n {
		t.Fatalf("list = %s, want RACED at version %d", r.Body, n)
	}

	row := findRow(t, e, super, "", "RACED")
	r = e.do(t, "GET", "/v1/secrets/"+row.ID+"/versions", super, nil)
	wantStatus(t, r, http.StatusOK)
	var history []int64
	for _, v := range decode[struct {
		Versions []struct {
			Version int64 `json:"version"`
		} `json:"versions"`
	}](t, r).Versions {
		history = append(history, v.Version)
	}
	want := make([]int64, 20) // the versions kept
	for i := range want {
		want[i] = int64(n - i)
	}
	if !slices.Equal(history, want) {
		t.Errorf("history = %v, want %v", history, want)
	}
}

func TestConcurrentPatchesWithOneVersion(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	sec := e.createSecret(t, super, map[string]any{"name": "CONTENDED", "values": map[string]string{"development": "v0"}})
	const n = 10
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 1, "description": fmt.Sprint("writer ", i)})
			statuses[i] = r.Status
		}()
	}
	close(start)
	wg.Wait()
	ok, conflict := 0, 0
	for i, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			conflict++
		default:
			t.Errorf("writer %d: status %d", i, s)
		}
	}
	if ok != 1 || conflict != n-1 {
		t.Errorf("%d × 200 and %d × 409, want 1 and %d", ok, conflict, n-1)
	}
	if got := e.getSecret(t, super, sec.ID); got.Version != 2 {
		t.Errorf("version = %d, want 2", got.Version)
	}
}
