package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// The operator socket lives in the data directory with mode 0600: whoever
// may read the database and master key may use it, and nobody else.
func listenOperator(data *Data) (net.Listener, error) {
	path := filepath.Join(data.Dir, SocketFile)
	os.Remove(path) // a socket left by a server that died; we hold the database lock, so it is not in use
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on operator socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

type bootstrapRequest struct {
	Org     string `json:"org"`
	Subject string `json:"subject"`
	Name    string `json:"name"`
}

func operatorHandler(svc *service.Service) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bootstrap", func(w http.ResponseWriter, r *http.Request) {
		var in bootstrapRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		token, err := svc.Bootstrap(r.Context(), in.Org, in.Subject, in.Name)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			msg := "internal error"
			if e := (*secrets.Error)(nil); errors.As(err, &e) && e.Code == secrets.CodeInvalid {
				msg = err.Error()
			}
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": msg})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"token": token})
	})
	return mux
}

// Bootstrap creates org (if new) and a superadmin token in it, in the data
// directory dir: directly when no server holds the database, else through
// the running server's operator socket.
func Bootstrap(ctx context.Context, dir, org, subject, name string) (string, error) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	data, err := Open(dir, 300*time.Millisecond, logger, Tuning{})
	if err == nil {
		defer data.Close()
		return data.Service.Bootstrap(ctx, org, subject, name)
	}
	sock := filepath.Join(dir, SocketFile)
	if !errors.Is(err, boltstore.ErrInUse) {
		return "", err
	}
	if _, serr := os.Stat(sock); serr != nil {
		return "", fmt.Errorf("%w (and no operator socket at %s)", err, sock)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	body, _ := json.Marshal(bootstrapRequest{Org: org, Subject: subject, Name: name})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://zwrm-operator/bootstrap", bytes.NewReader(body))
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("the database is in use and the running server's operator socket did not answer: %w", err)
	}
	defer resp.Body.Close()
	var out struct{ Token, Error string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("operator socket: %w", err)
	}
	if out.Error != "" {
		return "", errors.New(out.Error)
	}
	return out.Token, nil
}

// CompactReport says what Compact did.
type CompactReport struct {
	Path          string
	Expired       int   // audit records and manifests deleted as expired
	Before, After int64 // the file's size in bytes
}

// Compact deletes the expired audit records of the data directory's
// database and rewrites the file compactly (boltstore.Compact). It needs
// the database to itself: while a server has it open it refuses, and
// changes nothing.
func Compact(ctx context.Context, dir string) (CompactReport, error) {
	rep := CompactReport{Path: filepath.Join(dir, DBFile)}
	if _, err := os.Stat(rep.Path); err != nil {
		return rep, fmt.Errorf("no database to compact: %w", err)
	}
	inUse := func(err error) error {
		if errors.Is(err, boltstore.ErrInUse) {
			return fmt.Errorf("%s is in use (a running zwrm dev holds it): stop the server, then run zwrm admin compact again", rep.Path)
		}
		return err
	}
	opts := boltstore.Options{Timeout: 300 * time.Millisecond}
	st, err := boltstore.Open(rep.Path, opts)
	if err != nil {
		return rep, inUse(err)
	}
	rep.Expired, err = st.DeleteExpiredAudit(ctx, time.Now())
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rep, err
	}
	rep.Before, rep.After, err = boltstore.Compact(rep.Path, opts)
	return rep, inUse(err)
}
