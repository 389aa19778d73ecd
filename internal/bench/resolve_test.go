package bench_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/envelope"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

type countingWrapper struct {
	secrets.KeyWrapper
	unwraps atomic.Int64
}

func (c *countingWrapper) Unwrap(ctx context.Context, w []byte, ec secrets.EncryptionContext) ([]byte, error) {
	c.unwraps.Add(1)
	return c.KeyWrapper.Unwrap(ctx, w, ec)
}

type fixture struct {
	store   *boltstore.Store
	wrapper *countingWrapper
	token   string
	quiet   *slog.Logger
}

// handler builds a fresh service and handler: a fresh data key cache, as a
// cold Lambda would have.
func (f *fixture) handler() http.Handler {
	sealer := envelope.New(f.wrapper, f.store, envelope.Options{})
	svc := service.New(f.store, sealer, service.Config{Logger: f.quiet})
	return httpapi.New(svc, httpapi.Options{Logger: f.quiet})
}

// newFixture stores n secrets spread over the three layers of app "web",
// machine "web-1": a third global, a third app, a third machine, with
// names overlapping so that precedence does work.
func newFixture(b *testing.B, n int) *fixture {
	b.Helper()
	store, err := boltstore.Open(filepath.Join(b.TempDir(), "db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	master := make([]byte, 32)
	rand.Read(master)
	w, _ := localkey.New(master)
	f := &fixture{store: store, wrapper: &countingWrapper{KeyWrapper: w}, quiet: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	sealer := envelope.New(f.wrapper, store, envelope.Options{})
	svc := service.New(store, sealer, service.Config{Logger: f.quiet})
	ctx := context.Background()
	if f.token, err = svc.Bootstrap(ctx, "bench", "bench@example.com", "Bench"); err != nil {
		b.Fatal(err)
	}
	id, err := svc.Authenticate(ctx, f.token)
	if err != nil {
		b.Fatal(err)
	}
	layers := []secrets.Layer{secrets.Global, {App: "web"}, {App: "web", Machine: "web-1"}}
	for i := 0; i < n; i++ {
		layer := layers[i%3]
		name := fmt.Sprintf("SECRET_%04d", i/2) // pairs share a name across layers
		value := fmt.Sprintf("value-%04d-%s", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
		if _, err := svc.Create(ctx, id, service.CreateInput{Layer: layer, Name: name,
			Values: map[secrets.Environment]string{secrets.Development: value, secrets.Production: value}}); err != nil && !secrets.IsCode(err, secrets.CodeConflict) {
			b.Fatal(err)
		}
	}
	return f
}

func resolve(b *testing.B, h http.Handler, token string) int {
	req := httptest.NewRequest("POST", "/v1/resolve", bytes.NewReader([]byte(`{"environment":"development","app":"web","machine":"web-1"}`)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("resolve = %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Len()
}

// reportLatency adds p50 and p99 of the iterations to the benchmark line.
func reportLatency(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkResolve resolves through the HTTP handler on the embedded store:
// warm (data key cached) and cold (a fresh process for every resolve).
func BenchmarkResolve(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		f := newFixture(b, n)
		b.Run(fmt.Sprintf("N=%d/warm", n), func(b *testing.B) {
			h := f.handler()
			resolve(b, h, f.token)
			f.wrapper.unwraps.Store(0)
			lat := make([]time.Duration, 0, b.N)
			bytesOut := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				bytesOut = resolve(b, h, f.token)
				lat = append(lat, time.Since(start))
			}
			b.ReportMetric(float64(f.wrapper.unwraps.Load())/float64(b.N), "unwraps/op")
			b.ReportMetric(float64(bytesOut), "resp-bytes")
			reportLatency(b, lat)
		})
		b.Run(fmt.Sprintf("N=%d/cold", n), func(b *testing.B) {
			f.wrapper.unwraps.Store(0)
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				h := f.handler()
				b.StartTimer()
				start := time.Now()
				resolve(b, h, f.token)
				lat = append(lat, time.Since(start))
			}
			b.ReportMetric(float64(f.wrapper.unwraps.Load())/float64(b.N), "unwraps/op")
			reportLatency(b, lat)
		})
	}
}
