package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/localkms"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// sizes are the numbers of secrets stored, spread over the three layers.
var sizes = []int{10, 100, 1000}

// seedWorkers create secrets concurrently: dynalite answers one request
// at a time per connection, and a create is a few round trips.
const seedWorkers = 4

// resolveBody is what a workload on machine web-1 of app web asks for.
const resolveBody = `{"environment":"production","app":"web","machine":"web-1"}`

// BenchmarkResolve resolves through the HTTP handler (httptest, no network
// for the handler itself) on each backend, with N secrets stored:
//
//   - cold: a new service and sealer for every resolve, so the data-key
//     cache is empty, as in a fresh Lambda container (built with the timer
//     stopped; the SDK clients and their connections are kept);
//   - warm: one service, its data key cached by an earlier resolve.
//
// Besides time and allocations it reports, per resolve, the latency
// percentiles, data-key unwraps and, on DynamoDB, the store's calls by
// operation (the audit record's PutItem included), the bytes on the wire
// and the KMS calls.
//
// On DynamoDB it also measures the read of a resolve alone, the layers'
// Queries, both as a resolve makes them now (read=resolve: one
// environment's value and the fields that bind it) and as it made them
// before (read=all-attributes: whole items), and prints the two side by
// side.
func BenchmarkResolve(b *testing.B) {
	var reads []readResult
	for _, be := range backends {
		b.Run("backend="+be.name, func(b *testing.B) {
			newStack := be.start(b)
			for _, n := range sizes {
				b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
					f := newFixture(b, newStack(b), n)
					b.Run("cold", func(b *testing.B) { measure(b, f, true) })
					b.Run("warm", func(b *testing.B) { measure(b, f, false) })
					if f.ddb == nil {
						return
					}
					var before, after readResult
					b.Run("read=all-attributes", func(b *testing.B) { before = measureRead(b, f, false) })
					b.Run("read=resolve", func(b *testing.B) { after = measureRead(b, f, true) })
					reads = append(reads, before, after)
				})
			}
		})
	}
	if len(reads) == 0 {
		return
	}
	var t strings.Builder
	fmt.Fprintf(&t, "\nthe read of a resolve on DynamoDB (dynalite), per resolve: the layer Queries alone\n\n")
	fmt.Fprintf(&t, "| N | read | bytes read | per stored secret | read units |\n|---:|---|---:|---:|---:|\n")
	for _, r := range reads {
		fmt.Fprintf(&t, "| %d | %s | %.0f B | %.0f B | %.1f |\n", r.n, r.name, r.bytes, r.bytes/float64(r.n), r.units)
	}
	// A parent benchmark's log is not printed once it has sub-benchmarks.
	fmt.Print(t.String() + "\n")
}

// readResult is what one read of a resolve's layers cost.
type readResult struct {
	name         string
	n            int     // secrets stored in the layers read
	bytes, units float64 // response bytes and read units, per read
}

// measureRead reads the layers of the benchmark's resolve b.N times, as
// ListSecretsIn reads them for a resolve in production (projected) or as
// whole items, one ListSecrets per layer, which is what a resolve read
// before it asked for less (not projected), and reports the bytes and
// read units each read cost.
func measureRead(b *testing.B, f *fixture, projected bool) readResult {
	ctx := context.Background()
	chain := secrets.Layer{App: "web", Machine: "web-1"}.ResolveChain()
	f.reset()
	b.ResetTimer()
	for range b.N {
		if projected {
			if _, err := f.store.ListSecretsIn(ctx, benchOrg, chain, secrets.Production); err != nil {
				b.Fatal(err)
			}
			continue
		}
		for _, l := range chain {
			if _, err := f.store.ListSecrets(ctx, benchOrg, l); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	r := readResult{name: "all attributes (before)", n: f.n,
		bytes: float64(f.wire.read.Load()) / float64(b.N), units: float64(f.ddb.readMilliUnits.Load()) / 1000 / float64(b.N)}
	if projected {
		r.name = "projected (now)"
	}
	b.ReportMetric(r.bytes, "ddb-bytes-read/op")
	b.ReportMetric(r.bytes/float64(f.n), "ddb-bytes-read/secret")
	b.ReportMetric(r.units, "ddb-read-units/op")
	return r
}

// benchOrg is the organization the fixtures store their secrets in.
const benchOrg = "bench"

// fixture is a stack with n secrets and a service token to resolve them.
type fixture struct {
	*stack
	n     int
	token string
	quiet *slog.Logger
}

// handler builds a fresh service and handler over the stack: a new sealer,
// so an empty data-key cache. It makes no request of the store.
func (f *fixture) handler() http.Handler {
	svc := service.New(f.store, f.wrapper, service.Config{Logger: f.quiet})
	return httpapi.New(svc, httpapi.Options{Logger: f.quiet})
}

// newFixture stores n secrets in s, spread over the three layers of app
// "web", machine "web-1": a third global, a third app, a third machine.
// Consecutive pairs share a name across two layers, so precedence does
// work and a resolve returns about n/2 values. It returns a service token
// scoped to web/web-1 and production, as a workload would hold.
func newFixture(b *testing.B, s *stack, n int) *fixture {
	b.Helper()
	f := &fixture{stack: s, n: n, quiet: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	svc := service.New(s.store, s.wrapper, service.Config{Logger: f.quiet})
	ctx := context.Background()
	adminToken, err := svc.Bootstrap(ctx, benchOrg, "bench@example.com", "Bench")
	if err != nil {
		b.Fatal(err)
	}
	admin, err := svc.Authenticate(ctx, adminToken)
	if err != nil {
		b.Fatal(err)
	}
	f.token, _, err = svc.CreateToken(ctx, admin, service.TokenInput{Kind: secrets.TokenService, Name: "web-1",
		App: "web", Machine: "web-1", Envs: []string{string(secrets.Production)}})
	if err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	layers := []secrets.Layer{secrets.Global, {App: "web"}, {App: "web", Machine: "web-1"}}
	next := make(chan int)
	errs := make(chan error, seedWorkers)
	var wg sync.WaitGroup
	for range seedWorkers {
		wg.Go(func() {
			for i := range next {
				value := fmt.Sprintf("value-%04d-%s", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
				_, err := svc.Create(ctx, admin, service.CreateInput{Layer: layers[i%3], Name: fmt.Sprintf("SECRET_%04d", i/2),
					Values: map[secrets.Environment]string{secrets.Development: value, secrets.Staging: value, secrets.Production: value}})
				if err != nil {
					errs <- fmt.Errorf("create secret %d: %w", i, err)
					return
				}
			}
		})
	}
seed:
	for i := range n {
		select {
		case next <- i:
		case err := <-errs:
			errs <- err
			break seed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d secrets in %s", n, time.Since(start).Round(time.Millisecond))
	return f
}

// measure resolves b.N times, cold or warm, and reports the costs per
// resolve.
func measure(b *testing.B, f *fixture, cold bool) {
	h := f.handler()
	if !cold {
		resolve(b, h, f.token) // fill the data-key cache
	}
	f.reset()
	lat := make([]time.Duration, 0, b.N)
	respBytes := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if cold {
			b.StopTimer()
			h = f.handler()
			b.StartTimer()
		}
		start := time.Now()
		respBytes = resolve(b, h, f.token)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	f.report(b, lat, respBytes)
}

// resolve is one POST /v1/resolve through h; it returns the response's size.
func resolve(b *testing.B, h http.Handler, token string) int {
	req := httptest.NewRequest("POST", "/v1/resolve", bytes.NewReader([]byte(resolveBody)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("resolve = %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Len()
}

// report adds the per-resolve metrics to the benchmark line.
func (s *stack) report(b *testing.B, lat []time.Duration, respBytes int) {
	perOp := func(n int64) float64 { return float64(n) / float64(b.N) }
	slices.Sort(lat)
	b.ReportMetric(float64(percentile(lat, 50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(respBytes), "resp-bytes")
	b.ReportMetric(perOp(s.wrapper.Unwrapped.Load()), "unwraps/op")
	if s.kms != nil {
		b.ReportMetric(perOp(int64(s.kms.Count(localkms.OpDecrypt, localkms.OpGenerateDataKey))), "kms-calls/op")
	}
	if s.ddb != nil {
		c := s.ddb.counts()
		b.ReportMetric(perOp(c.query), "ddb-queries/op")
		b.ReportMetric(perOp(c.getItem), "ddb-getitems/op")
		b.ReportMetric(perOp(c.putItem), "ddb-putitems/op")
		// A resolve should neither update nor delete; say so if it does.
		if c.updateItem > 0 {
			b.ReportMetric(perOp(c.updateItem), "ddb-updateitems/op")
		}
		if c.deleteItem > 0 {
			b.ReportMetric(perOp(c.deleteItem), "ddb-deleteitems/op")
		}
		b.ReportMetric(perOp(c.total()), "ddb-requests/op")
		b.ReportMetric(perOp(s.ddb.readMilliUnits.Load())/1000, "ddb-read-units/op")
		b.ReportMetric(perOp(s.ddb.writeMilliUnits.Load())/1000, "ddb-write-units/op")
		b.ReportMetric(perOp(s.wire.requests.Load()), "ddb-http-requests/op")
		b.ReportMetric(perOp(s.wire.read.Load()), "ddb-bytes-read/op")
		b.ReportMetric(perOp(s.wire.sent.Load()), "ddb-bytes-sent/op")
	}
}

// percentile is the nearest-rank percentile p of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)*p+99)/100-1]
}
