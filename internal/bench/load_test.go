package bench_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/local"
	"github.com/zwrm/secrets/internal/secrets"
)

// defaultBaseline is the commit the load case compares against: the code
// before resolves shared audit commits and stopped re-decoding unchanged
// records. BENCH_BASELINE names another ref.
const defaultBaseline = "35d6c28"

// loadSecrets is how many secrets the load case stores (spread as
// newFixture spreads them, so a resolve returns 50 values).
const loadSecrets = 100

// loadClients are the concurrent clients of each load case.
var loadClients = []int{1, 8, 32}

// BenchmarkResolveLoad drives POST /v1/resolve over loopback against real
// `zwrm dev` processes: one built from the current tree and one built from
// the baseline ref (BENCH_BASELINE, default 35d6c28), each with its own
// data directory and 100 secrets seeded through the API. For 1, 8 and 32
// concurrent clients it resolves b.N times (spread over the clients, after
// a warm-up round) and reports resolves per second, the latency
// percentiles and the server's CPU time per resolve (utime+stime of the
// process from /proc). Versions alternate within each client count, so
// both see the same machine in the same minute. It ends with one table of
// both; a baseline that cannot be built is said so and left out.
func BenchmarkResolveLoad(b *testing.B) {
	root := moduleRoot(b)
	ref := cmp.Or(os.Getenv("BENCH_BASELINE"), defaultBaseline)
	var versions []*devServer
	if bin, err := buildBaseline(b, root, ref); err != nil {
		// Said on stdout, beside the table, for the same reason.
		fmt.Printf("BASELINE NOT MEASURED: zwrm at %s could not be built: %v\n", ref, err)
	} else {
		versions = append(versions, startDevServer(b, "baseline "+ref, bin))
	}
	bin, err := buildZwrm(root, b.TempDir())
	if err != nil {
		b.Fatalf("build zwrm from the current tree: %v", err)
	}
	versions = append(versions, startDevServer(b, "current", bin))
	for _, v := range versions {
		v.seed(b)
	}

	results := map[string]loadResult{}
	for _, clients := range loadClients {
		for _, v := range versions {
			b.Run(fmt.Sprintf("clients=%d/version=%s", clients, strings.Fields(v.name)[0]), func(b *testing.B) {
				r := v.load(b, clients, b.N)
				b.ReportMetric(r.perSecond, "resolves/s")
				b.ReportMetric(float64(r.p50.Microseconds()), "p50-µs")
				b.ReportMetric(float64(r.p99.Microseconds()), "p99-µs")
				if r.cpuPerOp >= 0 {
					b.ReportMetric(r.cpuPerOp*1000, "server-cpu-µs/op")
				}
				results[fmt.Sprintf("%s/%d", v.name, clients)] = r // the last run, the full b.N, stays
			})
		}
	}

	var t strings.Builder
	fmt.Fprintf(&t, "resolve over loopback, %d secrets (50 values per resolve), zwrm dev processes:\n\n", loadSecrets)
	fmt.Fprintf(&t, "| version | clients | resolves | resolves/s | p50 | p99 | server CPU per resolve |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, v := range versions {
		for _, clients := range loadClients {
			r, ok := results[fmt.Sprintf("%s/%d", v.name, clients)]
			if !ok {
				continue
			}
			cpu := "n/a"
			if r.cpuPerOp >= 0 {
				cpu = fmt.Sprintf("%.2f ms", r.cpuPerOp)
			}
			fmt.Fprintf(&t, "| %s | %d | %d | %.0f | %s | %s | %s |\n", v.name, clients, r.n, r.perSecond, ms(r.p50), ms(r.p99), cpu)
		}
	}
	// The table goes to stdout: a parent benchmark's log is not printed
	// once it has sub-benchmarks.
	fmt.Print("\n" + t.String() + "\n")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// moduleRoot is the directory of go.mod, from the package's directory.
func moduleRoot(b *testing.B) string {
	b.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		b.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(string(bytes.TrimSpace(out)))
}

// buildBaseline extracts ref's tree (git archive, which touches neither the
// working tree nor the repository's worktrees) and builds zwrm from it.
func buildBaseline(b *testing.B, root, ref string) (string, error) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		return "", err
	}
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", ref)
	extract := exec.Command("tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	extract.Stdin = pipe
	var archiveErr bytes.Buffer
	archive.Stderr = &archiveErr
	if err := extract.Start(); err != nil {
		return "", fmt.Errorf("tar: %w", err)
	}
	if err := archive.Run(); err != nil {
		_ = extract.Wait()
		return "", fmt.Errorf("git archive %s: %w: %s", ref, err, strings.TrimSpace(archiveErr.String()))
	}
	if err := extract.Wait(); err != nil {
		return "", fmt.Errorf("tar: %w", err)
	}
	return buildZwrm(src, dir)
}

// buildZwrm builds ./cmd/zwrm of the module at src into dir, as `make
// build` does.
func buildZwrm(src, dir string) (string, error) {
	bin := filepath.Join(dir, "zwrm")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/zwrm")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

// devServer is a running `zwrm dev` process.
type devServer struct {
	name  string
	cmd   *exec.Cmd
	url   string
	dir   string
	token string // a service token scoped to web/web-1, production
	hc    *http.Client
}

var servingLine = regexp.MustCompile(`serving the API on (http://\S+)`)

// startDevServer runs bin as `zwrm dev` on a free loopback port with a new
// data directory, until the benchmark ends.
func startDevServer(b *testing.B, name, bin string) *devServer {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "data")
	cmd := exec.Command(bin, "dev", "--addr", "127.0.0.1:0", "--data", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = io.Discard // the request log
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", name, err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	s := &devServer{name: name, cmd: cmd, dir: dir, hc: &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * slices.Max(loadClients)},
	}}
	select {
	case s.url = <-found:
	case <-time.After(30 * time.Second):
		b.Fatalf("%s did not start within 30s", name)
	}
	return s
}

// seed stores loadSecrets secrets as newFixture does, and a service token
// for web/web-1 in production, through the API.
func (s *devServer) seed(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	admin, err := client.New(s.url, readSuperadminToken(b, s.dir))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := admin.CreateToken(ctx, client.CreateTokenRequest{Kind: secrets.TokenService, Name: "web-1",
		App: "web", Machine: "web-1", Environments: []secrets.Environment{secrets.Production}})
	if err != nil {
		b.Fatalf("%s: create token: %v", s.name, err)
	}
	s.token = tok.Token
	layers := []secrets.Layer{secrets.Global, {App: "web"}, {App: "web", Machine: "web-1"}}
	for i := range loadSecrets {
		value := fmt.Sprintf("value-%04d-%s", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
		_, err := admin.CreateSecret(ctx, client.CreateSecretRequest{Name: fmt.Sprintf("SECRET_%04d", i/2),
			App: layers[i%3].App, Machine: layers[i%3].Machine,
			Values: client.Values(map[secrets.Environment]string{secrets.Development: value, secrets.Staging: value, secrets.Production: value})})
		if err != nil {
			b.Fatalf("%s: create secret %d: %v", s.name, i, err)
		}
	}
}

// readSuperadminToken reads the token the first start wrote.
func readSuperadminToken(b *testing.B, dir string) string {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(dir, local.TokenFile))
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`"superadmin":\s*"([^"]+)"`).FindSubmatch(data)
	if m == nil {
		b.Fatalf("no superadmin token in %s", local.TokenFile)
	}
	return string(m[1])
}

// loadResult is one load case's outcome.
type loadResult struct {
	n         int
	perSecond float64
	p50, p99  time.Duration
	cpuPerOp  float64 // server CPU milliseconds per resolve; -1 if unknown
}

// load resolves n times from the given number of concurrent clients.
func (s *devServer) load(b *testing.B, clients, n int) loadResult {
	b.Helper()
	// Warm-up: a resolve per client opens its connection and fills the
	// server's data-key cache.
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			if _, err := s.resolve(); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}

	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	lats := make([][]time.Duration, clients)
	cpu0 := processCPU(s.cmd.Process.Pid)
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			for range next {
				d, err := s.resolve()
				if err != nil {
					b.Error(err)
					return
				}
				lats[c] = append(lats[c], d)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu1 := processCPU(s.cmd.Process.Pid)
	if b.Failed() {
		b.FailNow()
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	r := loadResult{n: n, perSecond: float64(n) / elapsed.Seconds(), p50: percentile(all, 50), p99: percentile(all, 99), cpuPerOp: -1}
	if cpu0 >= 0 && cpu1 >= 0 {
		r.cpuPerOp = float64((cpu1 - cpu0).Microseconds()) / 1000 / float64(n)
	}
	return r
}

// resolve is one POST /v1/resolve; it returns how long it took.
func (s *devServer) resolve() (time.Duration, error) {
	req, err := http.NewRequest("POST", s.url+"/v1/resolve", strings.NewReader(resolveBody))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: resolve: %w", s.name, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: resolve: %w", s.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: resolve = %d %s", s.name, resp.StatusCode, body)
	}
	return d, nil
}

// clockTick is the unit of /proc/PID/stat's CPU times: USER_HZ, 100 on
// every Linux architecture Go supports (sysconf is out of reach without
// cgo).
const clockTick = 10 * time.Millisecond

// processCPU is the user and system CPU time process pid has used, from
// /proc; -1 where there is no /proc.
func processCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields after its closing one. utime and stime are fields 14
	// and 15 of the line, so 12th and 13th after it.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * clockTick
}
