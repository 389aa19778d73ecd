// Command zwrm is the zwrm secrets CLI and local server.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, newApp(), os.Args[1:])
	stop()
	os.Exit(code)
}
