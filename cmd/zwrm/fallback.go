package main

// The offline fallback of `zwrm run`: the last successful resolve of each
// (endpoint, token, layer, environment), kept sealed in the user's cache
// directory, so that a workload still starts while the API cannot be
// reached.
//
// The file is AES-256-GCM under a key derived from the token (HKDF-SHA256,
// a random salt per file), so only the token's holder can read it; the
// additional data binds it to its endpoint, layer and environment, so a
// file copied into another's place fails to open. Its name is a hash of
// those and of a one-way id of the token: different tokens never share a
// file, and the name says nothing about the token.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

const (
	fallbackDirName    = "zwrm"
	fallbackMagic      = "ZWRMFB1\n" // format and version of the file
	fallbackSaltLen    = 32
	fallbackMaxFile    = 32 << 20
	defaultFallbackAge = 7 * 24 * time.Hour
)

// fallbackFlags are run's flags for the fallback.
type fallbackFlags struct {
	off    bool          // --no-fallback: neither read nor write it
	only   bool          // --fallback-only: read it without calling the API
	maxAge time.Duration // --fallback-max-age
}

// fallbackHelp ends run's help.
const fallbackHelp = `

Each resolve is saved as an offline fallback in the user's cache directory
(zwrm/ under $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS,
%LocalAppData% on Windows), one file per endpoint, token, layer and
environment, mode 0600, encrypted (AES-256-GCM) under a key derived from the
token, so only that token's holder can read it. When the API cannot be
reached (no connection, a timeout, a 5xx answer), zwrm starts COMMAND from
the fallback and says on stderr how old it is; --fallback-only uses it
without calling the API, --no-fallback neither uses nor saves it, and one
older than --fallback-max-age (default 168h) is refused. A refused token
(401 or 403) never falls back: it deletes the fallback.`

func (f *fallbackFlags) add(cmd *cobra.Command) {
	cmd.Long += fallbackHelp
	cmd.Example += "\n  zwrm run --env production --app web --fallback-max-age 24h -- ./server"
	cmd.Flags().BoolVar(&f.off, "no-fallback", false, "neither use nor save the offline fallback: fail when the API cannot be reached")
	cmd.Flags().BoolVar(&f.only, "fallback-only", false, "use the offline fallback without calling the API")
	cmd.Flags().DurationVar(&f.maxAge, "fallback-max-age", defaultFallbackAge, "refuse an offline fallback older than this")
}

func (f *fallbackFlags) check() error {
	if f.off && f.only {
		return usagef("--no-fallback and --fallback-only cannot be used together")
	}
	if f.maxAge <= 0 {
		return usagef("--fallback-max-age must be a positive duration, such as 24h")
	}
	return nil
}

// resolveForRun resolves the values of an environment at a layer, saving
// them as the fallback, or reading the fallback when the API cannot be
// reached (or with --fallback-only). A 401 or 403 never falls back: it
// deletes the fallback, since the token may no longer read those values.
func (a *app) resolveForRun(ctx context.Context, at atLayer, ff *fallbackFlags) (map[string]string, error) {
	if err := ff.check(); err != nil {
		return nil, err
	}
	t, err := a.target()
	if err != nil {
		return nil, err
	}
	var fb *fallbackFile
	if !ff.off && (a.cacheDir != nil || ff.only) {
		if fb, err = a.fallbackFile(t, at); err != nil && ff.only {
			return nil, err
		}
		if err != nil {
			fmt.Fprintf(a.stderr, "zwrm: warning: no offline fallback (--no-fallback turns this off): %v\n", err)
		}
	}
	if ff.only {
		values, resolvedAt, err := fb.read(t.token, ff.maxAge)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(a.stderr, "zwrm: --fallback-only: running with the secrets resolved %s ago\n", fallbackAge(time.Since(resolvedAt)))
		return values, nil
	}
	cl, err := a.clientFor(t.endpoint, t.token)
	if err != nil {
		return nil, err
	}
	res, err := cl.Resolve(ctx, at.env, at.layer)
	switch {
	case err == nil:
		if fb != nil {
			if werr := fb.write(t.token, res.Secrets, time.Now()); werr != nil {
				fmt.Fprintf(a.stderr, "zwrm: warning: the offline fallback was not saved (--no-fallback turns this off): %v\n", werr)
			}
		}
		return res.Secrets, nil
	case client.IsStatus(err, 401, 403):
		if fb != nil {
			fb.remove()
		}
		return nil, resolveHint(ctx, cl, err, at.env)
	case fb == nil || !unreachable(ctx, err):
		return nil, resolveHint(ctx, cl, err, at.env)
	}
	values, resolvedAt, ferr := fb.read(t.token, ff.maxAge)
	if ferr != nil {
		return nil, fmt.Errorf("%w\n%v", err, ferr)
	}
	fmt.Fprintf(a.stderr, "zwrm: the API could not be reached (%s); running with the secrets resolved %s ago\n",
		client.Printable(err.Error()), fallbackAge(time.Since(resolvedAt)))
	return values, nil
}

// unreachable says whether err means the API could not answer: no
// connection, a timeout (the client's or a deadline's), or a 5xx. An
// interrupt (ctx canceled) is not: the user asked to stop.
func unreachable(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.Canceled) {
		return false
	}
	var ne *client.NetworkError
	var ce *client.Error
	switch {
	case errors.As(err, &ne):
		return true
	case errors.As(err, &ce):
		// A failing, throttling or timed-out service: not a refusal.
		return ce.Status >= 500 || ce.Status == 429 || ce.Status == 408
	}
	return false
}

// fallbackFile is where the fallback of one (endpoint, token, layer,
// environment) lives, and what its additional data binds it to.
type fallbackFile struct {
	path  string
	bound []byte // the endpoint, layer and environment, as additional data
	where string // the environment and layer, for messages
}

// fallbackPayload is what the file seals.
type fallbackPayload struct {
	ResolvedAt time.Time         `json:"resolved_at"`
	Secrets    map[string]string `json:"secrets"`
}

// fallbackFile names the file for t and at.
func (a *app) fallbackFile(t *target, at atLayer) (*fallbackFile, error) {
	if a.cacheDir == nil {
		return nil, errors.New("no cache directory")
	}
	dir, err := a.cacheDir()
	if err != nil {
		return nil, fmt.Errorf("find the user cache directory: %w", err)
	}
	endpoint := strings.TrimRight(t.endpoint, "/")
	bound, _ := json.Marshal([]string{"zwrm fallback v1", endpoint, at.layer.App, at.layer.Machine, string(at.env)})
	name := sha256.New()
	name.Write(bound)
	name.Write(fallbackTokenID(t.token))
	where := string(at.env) + " at " + layerLabel(at.layer)
	return &fallbackFile{path: filepath.Join(dir, fallbackDirName, "fallback-"+hex.EncodeToString(name.Sum(nil))[:40]),
		bound: bound, where: where}, nil
}

// fallbackTokenID is a one-way id of the token: it tells tokens apart in
// file names without revealing them.
func fallbackTokenID(token string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("zwrm fallback file id v1"))
	return m.Sum(nil)
}

func layerLabel(l secrets.Layer) string {
	switch {
	case l.Machine != "":
		return "app " + l.App + ", machine " + l.Machine
	case l.App != "":
		return "app " + l.App
	}
	return "the global layer"
}

func fallbackAEAD(token string, salt []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(token), salt, "zwrm fallback key v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal is the file's bytes: magic, salt, nonce, then the sealed payload,
// with the header and the binding as additional data.
func (f *fallbackFile) seal(token string, p fallbackPayload) ([]byte, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	header := make([]byte, len(fallbackMagic)+fallbackSaltLen+12)
	copy(header, fallbackMagic)
	if _, err := io.ReadFull(rand.Reader, header[len(fallbackMagic):]); err != nil {
		return nil, err
	}
	salt := header[len(fallbackMagic) : len(fallbackMagic)+fallbackSaltLen]
	nonce := header[len(fallbackMagic)+fallbackSaltLen:]
	aead, err := fallbackAEAD(token, salt)
	if err != nil {
		return nil, err
	}
	return aead.Seal(header, nonce, plain, f.aad(header)), nil
}

func (f *fallbackFile) aad(header []byte) []byte {
	return append(append([]byte(nil), header...), f.bound...)
}

// open is seal's inverse; any change to the bytes, another token or
// another place fails.
func (f *fallbackFile) open(token string, b []byte) (*fallbackPayload, error) {
	hl := len(fallbackMagic) + fallbackSaltLen + 12
	if len(b) < hl || string(b[:len(fallbackMagic)]) != fallbackMagic {
		return nil, errors.New("not a zwrm fallback file")
	}
	aead, err := fallbackAEAD(token, b[len(fallbackMagic):len(fallbackMagic)+fallbackSaltLen])
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, b[len(fallbackMagic)+fallbackSaltLen:hl], b[hl:], f.aad(b[:hl]))
	if err != nil {
		return nil, errors.New("it fails its integrity check: it was changed, or sealed with another token")
	}
	var p fallbackPayload
	if err := json.Unmarshal(plain, &p); err != nil || p.Secrets == nil {
		return nil, errors.New("its payload is not a zwrm fallback")
	}
	return &p, nil
}

// write saves values atomically: a new file (0600) in a directory only the
// user may enter (0700), renamed over the old one.
func (f *fallbackFile) write(token string, values map[string]string, at time.Time) error {
	b, err := f.seal(token, fallbackPayload{ResolvedAt: at.UTC(), Secrets: values})
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restrict %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".fallback-*") // created 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.path)
}

// read opens the fallback, refusing one that is missing, changed or older
// than maxAge.
func (f *fallbackFile) read(token string, maxAge time.Duration) (map[string]string, time.Time, error) {
	file, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, fmt.Errorf("no offline fallback is saved for %s with this token and endpoint: zwrm run saves one each time it resolves", f.where)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read the offline fallback: %w", err)
	}
	defer file.Close()
	b, err := io.ReadAll(io.LimitReader(file, fallbackMaxFile+1))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read the offline fallback: %w", err)
	}
	if len(b) > fallbackMaxFile {
		return nil, time.Time{}, fmt.Errorf("refusing the offline fallback %s: it is over %d MiB", f.path, fallbackMaxFile>>20)
	}
	p, err := f.open(token, b)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("refusing the offline fallback %s: %v", f.path, err)
	}
	age := time.Since(p.ResolvedAt)
	if age > maxAge {
		return nil, time.Time{}, fmt.Errorf("refusing the offline fallback for %s: it was resolved %s ago, over --fallback-max-age %s",
			f.where, fallbackAge(age), maxAge)
	}
	return p.Secrets, p.ResolvedAt, nil
}

// remove deletes the fallback; a missing one is fine.
func (f *fallbackFile) remove() { _ = os.Remove(f.path) }

// fallbackAge is a duration as people say it: 45s, 12m, 2h, 3d4h.
func fallbackAge(d time.Duration) string {
	if d < 0 {
		d = 0 // a clock set back
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if hours == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, hours)
}
