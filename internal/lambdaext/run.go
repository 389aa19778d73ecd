package lambdaext

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Serve runs a registered extension: it listens on 127.0.0.1:cfg.Port,
// resolves once, then follows the Extensions API's events, refreshing in
// the background, until SHUTDOWN (nil) or a failure of the Extensions API.
// The first resolve may fail (the API unreachable at a cold start): reads
// then try again, and answer 503 until one succeeds.
func Serve(ctx context.Context, api *ExtensionsAPI, cfg Config, src *Source, logf func(string, ...any)) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)))
	if err != nil {
		err = fmt.Errorf("listen on 127.0.0.1:%d: %w", cfg.Port, err)
		_ = api.InitError(ctx, "Extension.ListenFailed", err)
		return err
	}
	cache := NewCache(src, cfg.TTL, logf)
	srv := &http.Server{Handler: Handler(cache, cfg.Environment, cfg.SessionToken), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	if err := cache.Refresh(ctx, true); err != nil {
		logf("zwrm-secrets: the first resolve failed (reads will retry): %v", err)
	} else {
		logf("zwrm-secrets: ready on 127.0.0.1:%d", cfg.Port)
	}
	loopCtx, stop := context.WithCancel(ctx)
	defer stop()
	go cache.Loop(loopCtx)

	for {
		ev, err := api.Next(ctx)
		if err != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil
			}
			return err
		}
		switch ev.EventType {
		case "SHUTDOWN":
			return nil
		case "INVOKE":
			// The environment was frozen until now: refresh at once if the
			// values expired meanwhile, without holding up the invocation.
			if cache.Expired() {
				go func() { _ = cache.Refresh(loopCtx, false) }()
			}
		}
	}
}
