package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
)

// watchFlags are `zwrm run --watch [--interval D] [--restart-signal S]`.
type watchFlags struct {
	watch    bool
	interval time.Duration
	signal   string
}

const (
	defaultWatchInterval = 30 * time.Second
	minWatchInterval     = 100 * time.Millisecond
	// restartGrace is how long a restart waits for the command to exit
	// after SIGTERM before it kills it.
	restartGrace = 10 * time.Second
)

const watchHelp = `
With --watch zwrm stays as the command's parent (no execve) and checks, every
--interval (default 30s), whether what it resolved changed: it sends the
fingerprint of its last answer (if_none_match), which the server answers
without unwrapping a key or returning a value while nothing changed. When a
secret was set, unset or restored, the default (--restart-signal restart)
stops the command (SIGTERM, then SIGKILL after 10s) and starts it again with
the new values; --restart-signal SIGHUP (or another signal) sends that signal
instead. A signal cannot change a running process's environment: a command
reloading on the signal must read the new values another way, e.g. from a file
that zwrm export writes. zwrm relays the signals it receives to the command
and exits with the command's code when it exits on its own. A failed check is
reported on stderr and the command keeps running.`

func (w *watchFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&w.watch, "watch", false, "keep checking for changed secrets and restart (or signal) the command when they change")
	cmd.Flags().DurationVar(&w.interval, "interval", defaultWatchInterval, "with --watch, how often to check for a change")
	cmd.Flags().StringVar(&w.signal, "restart-signal", "restart", "with --watch, what a change does: restart, or a signal to send (SIGHUP, SIGUSR1, ...)")
	_ = cmd.RegisterFlagCompletionFunc("restart-signal", fixedCompletion(append([]string{"restart"}, signalNames()...)...))
}

// watchPlan is a checked --watch: the interval, and the signal to send on
// a change (nil: restart).
type watchPlan struct {
	interval time.Duration
	signal   os.Signal
}

func (w *watchFlags) plan(cmd *cobra.Command) (watchPlan, error) {
	if !w.watch {
		for _, f := range []string{"interval", "restart-signal"} {
			if cmd.Flags().Changed(f) {
				return watchPlan{}, usagef("--%s needs --watch", f)
			}
		}
		return watchPlan{}, nil
	}
	if w.interval < minWatchInterval {
		return watchPlan{}, usagef("--interval must be at least %s, not %s", minWatchInterval, w.interval)
	}
	p := watchPlan{interval: w.interval}
	if !strings.EqualFold(w.signal, "restart") {
		s, ok := parseSignal(w.signal)
		if !ok {
			return watchPlan{}, usagef("--restart-signal must be restart or one of %s, not %q", strings.Join(signalNames(), ", "), w.signal)
		}
		p.signal = s
	}
	return p, nil
}

// watched is one run of the command under --watch.
type watched struct {
	cmd  *exec.Cmd
	done chan error // the result of Wait, once
}

// runWatching resolves at, starts the command with environ(values), and
// keeps it running with the current values until it exits on its own.
func (a *app) runWatching(ctx context.Context, at atLayer, w watchPlan, path string, argv []string, environ func(map[string]string) ([]string, error)) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	res, _, err := cl.ResolveIfChanged(ctx, at.env, at.layer)
	if err != nil {
		return resolveHint(ctx, cl, err, at.env)
	}
	env, err := environ(res.Secrets)
	if err != nil {
		return err
	}
	fingerprint := res.Fingerprint

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, relayedSignals...)
	defer signal.Stop(sigs)
	child, err := a.startWatched(path, argv, env)
	if err != nil {
		return err
	}
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	ticks, cancelled := tick.C, ctx.Done()
	var next []string         // the environment of the restart under way
	var kill <-chan time.Time // when a restart stops waiting for SIGTERM
	stopping := false         // zwrm was told to stop: no more restarts
	for {
		select {
		case s := <-sigs:
			_ = child.cmd.Process.Signal(s)
			if isTermination(s) {
				stopping = true
			}
		case <-cancelled:
			stopping, ticks, cancelled = true, nil, nil
		case <-kill:
			_ = child.cmd.Process.Kill()
			kill = nil
		case <-ticks:
			if next != nil {
				continue // a restart is under way
			}
			res, changed, err := a.checkWatched(ctx, cl, at, fingerprint)
			if err != nil {
				if ctx.Err() == nil {
					a.warn("watch: could not check for changed secrets (the command keeps running): %v", err)
				}
				continue
			}
			if !changed {
				continue
			}
			old := fingerprint
			fingerprint = res.Fingerprint
			newEnv, err := environ(res.Secrets)
			if err != nil {
				a.warn("watch: the secrets changed, but the command keeps running with the previous ones: %v", err)
				continue
			}
			if w.signal != nil {
				a.warn("watch: the secrets changed (%s → %s); sending %s to %s", short(old), short(fingerprint), signalName(w.signal), argv[0])
				_ = child.cmd.Process.Signal(w.signal)
				continue
			}
			a.warn("watch: the secrets changed (%s → %s); restarting %s", short(old), short(fingerprint), argv[0])
			next = newEnv
			_ = terminate(child.cmd.Process)
			kill = time.After(restartGrace)
		case err := <-child.done:
			if next == nil || stopping {
				return watchedExit(argv[0], child.cmd, err)
			}
			kill = nil
			if child, err = a.startWatched(path, argv, next); err != nil {
				return err
			}
			next = nil
		}
	}
}

// checkWatched asks whether the resolve changed since fingerprint; when it
// did, res is the new answer.
func (a *app) checkWatched(ctx context.Context, cl *client.Client, at atLayer, fingerprint string) (res *client.Resolved, changed bool, err error) {
	res, notModified, err := cl.ResolveIfChanged(ctx, at.env, at.layer, client.IfNoneMatch(fingerprint))
	if err != nil {
		return nil, false, err
	}
	return res, !notModified, nil
}

func (a *app) startWatched(path string, argv, environ []string) (*watched, error) {
	cmd := &exec.Cmd{Path: path, Args: argv, Env: environ, Stdin: a.stdin, Stdout: a.stdout, Stderr: a.stderr,
		// Where zwrm's streams are not files (tests), a grandchild left
		// holding them does not hold up a restart.
		WaitDelay: time.Second}
	if err := cmd.Start(); err != nil {
		return nil, &exitStatus{code: 126, err: fmt.Errorf("run %s: %w", argv[0], err)}
	}
	w := &watched{cmd: cmd, done: make(chan error, 1)}
	go func() { w.done <- cmd.Wait() }()
	return w, nil
}

// watchedExit is zwrm's result when the command exited on its own.
func watchedExit(name string, cmd *exec.Cmd, err error) error {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
		return &exitStatus{code: exitError, err: fmt.Errorf("run %s: %w", name, err)}
	}
	if code := exitCodeOf(cmd.ProcessState); code != 0 {
		return &exitStatus{code: code}
	}
	return nil
}

// warn writes a line on stderr, as zwrm's messages are.
func (a *app) warn(format string, args ...any) {
	fmt.Fprintln(a.stderr, "zwrm: "+client.Printable(fmt.Sprintf(format, args...)))
}

// short is the start of a fingerprint, enough to tell two apart.
func short(fingerprint string) string {
	if len(fingerprint) > 8 {
		return fingerprint[:8]
	}
	return fingerprint
}
