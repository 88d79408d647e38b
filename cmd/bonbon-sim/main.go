// Command bonbon-sim runs the Bonbon simulator (package bonbon/sim) as a server on
// loopback, for demos, integration tests and load tests.
//
// Every flag falls back to an environment variable (shown in -help); the API key is
// never printed. It logs JSON to stderr, prints its listen URL to stdout, and shuts down
// gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bonbon-sim:", err)
		os.Exit(1)
	}
}

// run parses the configuration, starts the simulator and blocks until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string,
	stdout, stderr io.Writer,
) error {
	opts, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	m, err := NewMain(opts, logger)
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintf(stdout, "bonbon-sim listening on %s\n", m.URL())
	return m.Run(ctx)
}
