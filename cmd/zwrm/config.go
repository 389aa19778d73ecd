package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/zwrm/secrets/client"
)

// The configuration file, in the user's configuration directory
// (os.UserConfigDir: $XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/Application
// Support on macOS, %AppData% on Windows).
const (
	configDirName  = "zwrm"
	configFileName = "config.json"
	defaultProfile = "default"
)

// config is the configuration file: an endpoint and a token per profile.
type config struct {
	Profiles map[string]profile `json:"profiles"`
}

type profile struct {
	Endpoint string `json:"endpoint"`
	Token    string `json:"token"`
}

var profileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func (a *app) configPath() (string, error) {
	dir, err := a.configDir()
	if err != nil {
		return "", fmt.Errorf("find the user configuration directory: %w", err)
	}
	return filepath.Join(dir, configDirName, configFileName), nil
}

// profileName is the profile in use: --profile, else $ZWRM_PROFILE, else
// "default". explicit says whether one was named.
func (a *app) profileName() (name string, explicit bool, err error) {
	name, explicit = a.profile, a.profile != ""
	if name == "" {
		name = a.getenv("ZWRM_PROFILE")
		explicit = name != ""
	}
	if name == "" {
		name = defaultProfile
	}
	if !profileNameRE.MatchString(name) {
		return "", false, usagef("profile %q: use letters, digits, '.', '_' and '-' (up to 64)", name)
	}
	return name, explicit, nil
}

// loadConfig reads the configuration file; a missing file is an empty
// configuration. A file others may read is refused, since it holds tokens.
// profileConfig returns the profile in use, the configuration file's path
// and its contents: what login and logout change.
func (a *app) profileConfig() (name, path string, cfg *config, err error) {
	if name, _, err = a.profileName(); err != nil {
		return "", "", nil, err
	}
	if path, err = a.configPath(); err != nil {
		return "", "", nil, err
	}
	cfg, err = loadConfig(path)
	return name, path, cfg, err
}

func loadConfig(path string) (*config, error) {
	cfg := &config{Profiles: map[string]profile{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the configuration: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read the configuration: %w", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s holds tokens but others may read it (mode %#o); run: chmod 600 %s", path, info.Mode().Perm(), path)
	}
	if err := json.NewDecoder(f).Decode(cfg); err != nil {
		return nil, fmt.Errorf("%s is not a zwrm configuration (JSON): fix or remove it, then zwrm login again", path)
	}
	if cfg.Profiles == nil {
		cfg.Profiles = map[string]profile{}
	}
	return cfg, nil
}

// saveConfig writes the configuration atomically: a new file (mode 0600)
// in a directory only the user may enter (0700), renamed over the old one.
func saveConfig(path string, cfg *config) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restrict %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json") // created 0600
	if err != nil {
		return fmt.Errorf("write the configuration: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("write the configuration: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write the configuration: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write the configuration: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the configuration: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write the configuration: %w", err)
	}
	return nil
}

// target is where the API calls go and with what, and where that came from.
type target struct {
	profile  string
	endpoint string
	token    string
}

// target works out the endpoint and token: $ZWRM_ENDPOINT and $ZWRM_TOKEN
// (or $ZWRM_API_TOKEN, the token's first name, still read) override the
// profile's.
func (a *app) target() (*target, error) {
	name, explicit, err := a.profileName()
	if err != nil {
		return nil, err
	}
	t := &target{profile: name, endpoint: a.getenv("ZWRM_ENDPOINT"), token: a.getenv("ZWRM_TOKEN")}
	if t.token == "" {
		t.token = a.getenv("ZWRM_API_TOKEN")
	}
	if t.endpoint != "" && t.token != "" {
		return t, nil
	}
	path, err := a.configPath()
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	if t.endpoint == "" {
		if name, err = a.projectProfile(cfg, name, explicit); err != nil {
			return nil, err
		}
		t.profile = name
	}
	p, ok := cfg.Profiles[name]
	if !ok {
		if explicit {
			return nil, &notLoggedIn{fmt.Sprintf("no profile %q in %s: run zwrm login --profile %s --endpoint URL", name, path, name)}
		}
		return nil, &notLoggedIn{"not logged in: run zwrm login --endpoint URL, or set ZWRM_ENDPOINT and ZWRM_TOKEN"}
	}
	if t.token == "" && t.endpoint != "" && strings.TrimRight(t.endpoint, "/") != strings.TrimRight(p.Endpoint, "/") {
		// A profile's token was saved for its own endpoint; sending it
		// to another (a stray ZWRM_ENDPOINT in a .envrc or CI job) would
		// hand it to whoever runs that server.
		return nil, &notLoggedIn{fmt.Sprintf("ZWRM_ENDPOINT (%s) is not profile %q's endpoint, so its token is not sent there: set ZWRM_TOKEN too, or unset ZWRM_ENDPOINT", t.endpoint, name)}
	}
	if t.endpoint == "" {
		t.endpoint = p.Endpoint
	}
	if t.token == "" {
		t.token = p.Token
	}
	if t.endpoint == "" || t.token == "" {
		return nil, &notLoggedIn{fmt.Sprintf("profile %q has no endpoint or token: run zwrm login --profile %s --endpoint URL", name, name)}
	}
	return t, nil
}

// projectProfile is the profile to use in a project whose .zwrm.yaml names
// an endpoint: the profile in use if it is logged in there, else (when
// none was named) the first profile that is. The file only ever selects
// among endpoints the user logged in to: a token is never sent to an
// endpoint a checked-out repository names.
func (a *app) projectProfile(cfg *config, name string, explicit bool) (string, error) {
	proj, err := a.project()
	if err != nil || proj == nil || proj.endpoint == "" {
		return name, err
	}
	if sameEndpoint(cfg.Profiles[name].Endpoint, proj.endpoint) {
		return name, nil
	}
	if !explicit {
		names := make([]string, 0, len(cfg.Profiles))
		for n := range cfg.Profiles {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if sameEndpoint(cfg.Profiles[n].Endpoint, proj.endpoint) {
				return n, nil
			}
		}
	}
	return "", &notLoggedIn{fmt.Sprintf("%s names endpoint %s, and no profile is logged in to it: run zwrm login --endpoint %s (or set ZWRM_ENDPOINT)", proj.path, proj.endpoint, proj.endpoint)}
}

func sameEndpoint(a, b string) bool {
	return a != "" && strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// client returns an API client for the profile in use.
func (a *app) client() (*client.Client, error) {
	t, err := a.target()
	if err != nil {
		return nil, err
	}
	return a.clientFor(t.endpoint, t.token)
}

func (a *app) clientFor(endpoint, token string) (*client.Client, error) {
	// --timeout bounds every call: connecting, sending and reading the answer.
	hc := *a.httpClient
	if a.timeout > 0 {
		hc.Timeout = a.timeout
	}
	c, err := client.New(endpoint, token, client.WithHTTPClient(&hc), client.WithUserAgent("zwrm-cli"))
	if err != nil {
		return nil, usagef("%v", err)
	}
	return c, nil
}

// plainHTTPRemote reports whether endpoint sends tokens unencrypted to
// another machine.
func plainHTTPRemote(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
