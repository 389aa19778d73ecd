// Package local runs the secrets service on one machine: an embedded bbolt
// database and a local master key under one data directory, the same HTTP
// handler the Lambda functions serve, and an operator socket through which
// `zwrm admin bootstrap` reaches a running server.
package local

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/webui"
)

// Files in the data directory.
const (
	DBFile     = "zwrm.db"
	KeyFile    = "master.key"
	TokenFile  = "dev-tokens.json"
	SocketFile = "admin.sock"
)

// RequestTimeout is each API request's deadline on the local server: its
// work, retries included, stops in time to answer 503 within it, well
// before the server's write timeout cuts the connection.
const RequestTimeout = 10 * time.Second

// DevOrg is the organization the first start creates.
const DevOrg = "dev"

// Data is an opened data directory.
type Data struct {
	Dir     string
	Store   *boltstore.Store
	Service *service.Service
}

// Tuning is what an operator may change about the service.
type Tuning struct {
	MaxVersions int           // versions kept per secret; 0 means 20
	KeyCacheTTL time.Duration // how long unwrapped data keys stay cached; 0 means 5 minutes
	// RotateEvery is how often the rotation sweep runs; 0 means every minute.
	RotateEvery time.Duration
	// ExpireEvery is how often expired audit records are deleted (also
	// at start); 0 means every hour.
	ExpireEvery time.Duration
}

// Open opens (creating if needed) the data directory: the database, locked
// for this process while open, and the master key. lockTimeout bounds the
// wait for another process's lock.
func Open(dir string, lockTimeout time.Duration, logger *slog.Logger, tuning Tuning) (*Data, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// An existing directory is tightened too: it holds the master key and
	// the operator socket, which its mode alone keeps from other users.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restrict data directory: %w", err)
	}
	store, err := boltstore.Open(filepath.Join(dir, DBFile), boltstore.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, err
	}
	wrapper, _, err := localkey.LoadOrCreate(filepath.Join(dir, KeyFile))
	if err != nil {
		store.Close()
		return nil, err
	}
	svc := service.New(store, wrapper, service.Config{Logger: logger, MaxVersions: tuning.MaxVersions, KeyCacheTTL: tuning.KeyCacheTTL})
	return &Data{Dir: dir, Store: store, Service: svc}, nil
}

// Close closes the database.
func (d *Data) Close() error { return d.Store.Close() }

// Options configure the local server.
type Options struct {
	Addr    string
	DataDir string
	Logger  *slog.Logger
	Out     io.Writer // where the first start prints the superadmin token
	Tuning  Tuning
	// Ready, if set, receives the address the server listens on.
	Ready func(addr string)
}

// Serve runs the local server until ctx is done.
func Serve(ctx context.Context, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	data, err := Open(opts.DataDir, time.Second, opts.Logger, opts.Tuning)
	if err != nil {
		return err
	}
	defer data.Close()
	if err := firstStart(ctx, data, opts.Out); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	api := httpapi.New(data.Service, httpapi.Options{Logger: opts.Logger, Timeout: RequestTimeout})
	// The web UI at /, on the API's origin (/v1/ and /healthz stay the API's).
	srv := &http.Server{Handler: webui.Mount(api, webui.Handler()), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn)}

	ops, err := listenOperator(data)
	if err != nil {
		ln.Close()
		return err
	}
	opsSrv := &http.Server{Handler: operatorHandler(data.Service), ReadHeaderTimeout: 5 * time.Second}

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	go func() { errc <- opsSrv.Serve(ops) }()
	fmt.Fprintf(opts.Out, "zwrm dev: serving the API on http://%s (data in %s)\n", ln.Addr(), opts.DataDir)
	fmt.Fprintf(opts.Out, "zwrm dev: the web UI is at http://%s/\n", ln.Addr())
	opts.Logger.Info("listening", "addr", ln.Addr().String(), "data", opts.DataDir)
	if opts.Ready != nil {
		opts.Ready(ln.Addr().String())
	}
	go every(ctx, cmp.Or(opts.Tuning.RotateEvery, time.Minute), false, func() { rotate(ctx, data, opts.Logger) })
	go every(ctx, cmp.Or(opts.Tuning.ExpireEvery, time.Hour), true, func() { expire(ctx, data, opts.Logger) })
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	_ = opsSrv.Shutdown(shutdownCtx)
	os.Remove(filepath.Join(opts.DataDir, SocketFile))
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// firstStart creates the dev organization and its superadmin token the
// first time a data directory is served, printing the token once and
// writing it to dev-tokens.json (mode 0600); later starts say where it is.
func firstStart(ctx context.Context, data *Data, out io.Writer) error {
	path := filepath.Join(data.Dir, TokenFile)
	_, err := os.Stat(path)
	if err == nil {
		fmt.Fprintf(out, "zwrm dev: the superadmin token of org %q is in %s\n", DevOrg, path)
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	token, err := data.Service.Bootstrap(ctx, DevOrg, "superadmin@dev.local", "Dev Superadmin")
	if err != nil {
		return fmt.Errorf("bootstrap org %s: %w", DevOrg, err)
	}
	body, _ := json.MarshalIndent(map[string]string{"superadmin": token}, "", "  ")
	if err := os.WriteFile(path, append(body, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(out, "zwrm dev: created org %q. Its superadmin token, shown once (also saved to %s):\n\n  %s\n\n", DevOrg, path, token)
	return nil
}

// every runs fn every interval (and first at once, if atStart) until ctx
// is done: the local server's schedules, as EventBridge and DynamoDB's TTL
// are on AWS.
func every(ctx context.Context, interval time.Duration, atStart bool, fn func()) {
	if atStart {
		fn()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// rotate runs the rotation sweep.
func rotate(ctx context.Context, data *Data, logger *slog.Logger) {
	rep, err := data.Service.RotateDue(ctx, "local")
	if err != nil {
		logger.ErrorContext(ctx, "rotation sweep failed", "error", err.Error())
	} else if rep.Due > 0 || rep.Leftovers > 0 || rep.UnsweptOrgs > 0 {
		logger.InfoContext(ctx, "rotation sweep", "due", rep.Due, "rotated", rep.Rotated, "skipped", rep.Skipped, "failed", rep.Failed, "unlisted_orgs", rep.UnlistedOrgs, "leftovers", rep.Leftovers, "unswept_orgs", rep.UnsweptOrgs)
	}
}

// expire deletes the audit records and manifests whose retention has
// passed. The file keeps its size (bbolt reuses the pages): `zwrm admin
// compact` shrinks it.
func expire(ctx context.Context, data *Data, logger *slog.Logger) {
	n, err := data.Store.DeleteExpiredAudit(ctx, time.Now())
	if err != nil && ctx.Err() == nil {
		logger.ErrorContext(ctx, "audit expiry sweep failed", "deleted", n, "error", err.Error())
	} else if n > 0 {
		logger.InfoContext(ctx, "audit expiry sweep", "deleted", n)
	}
}
