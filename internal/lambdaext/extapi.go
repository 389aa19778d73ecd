package lambdaext

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// ExtensionsAPI is a client of the Lambda Extensions API
// (http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension).
type ExtensionsAPI struct {
	base string
	name string // Lambda-Extension-Name: the executable's file name
	hc   *http.Client
	id   string // Lambda-Extension-Identifier, from Register
}

// NewExtensionsAPI returns a client of the Extensions API at runtimeAPI
// (host:port) for the extension called name.
func NewExtensionsAPI(runtimeAPI, name string) *ExtensionsAPI {
	// No timeout: event/next blocks until the next event.
	return &ExtensionsAPI{base: "http://" + runtimeAPI + "/2020-01-01/extension", name: name, hc: &http.Client{}}
}

// Event is what event/next returns.
type Event struct {
	EventType      string `json:"eventType"` // INVOKE or SHUTDOWN
	RequestID      string `json:"requestId"`
	DeadlineMs     int64  `json:"deadlineMs"`
	ShutdownReason string `json:"shutdownReason"`
}

// Register registers for INVOKE and SHUTDOWN.
func (a *ExtensionsAPI) Register(ctx context.Context) error {
	body, _ := json.Marshal(map[string][]string{"events": {"INVOKE", "SHUTDOWN"}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/register", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Lambda-Extension-Name", a.name)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("register: the Extensions API answered %d", resp.StatusCode)
	}
	if a.id = resp.Header.Get("Lambda-Extension-Identifier"); a.id == "" {
		return fmt.Errorf("register: no Lambda-Extension-Identifier in the answer")
	}
	return nil
}

// Next blocks until the next event. The first call tells Lambda the
// extension's init is done.
func (a *ExtensionsAPI) Next(ctx context.Context) (Event, error) {
	var ev Event
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/event/next", nil)
	if err != nil {
		return ev, err
	}
	req.Header.Set("Lambda-Extension-Identifier", a.id)
	resp, err := a.hc.Do(req)
	if err != nil {
		return ev, fmt.Errorf("event/next: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ev, fmt.Errorf("event/next: the Extensions API answered %d", resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ev); err != nil {
		return ev, fmt.Errorf("event/next: %w", err)
	}
	return ev, nil
}

// InitError reports a failed init (Lambda then fails the function's init).
// errorType is Extension.SOMETHING; the message must hold no secret.
func (a *ExtensionsAPI) InitError(ctx context.Context, errorType string, cause error) error {
	body, _ := json.Marshal(map[string]any{"errorMessage": cause.Error(), "errorType": errorType})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/init/error", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Lambda-Extension-Identifier", a.id)
	req.Header.Set("Lambda-Extension-Function-Error-Type", errorType)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("init/error: %w", err)
	}
	resp.Body.Close()
	return nil
}
