// Command bonbon-bench measures the bridge against a real Keycloak on this machine and
// writes BENCHMARKS.md (see internal/bench). scripts/bench.sh builds and runs it; `make
// bench` calls that script.
//
//	bonbon-bench --keycloak-home DIR --bridge-bin bin/bonbon-bridge [--out BENCHMARKS.md]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bonbon-bench:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bonbon-bench", flag.ContinueOnError)
	var o bench.Options
	fs.StringVar(&o.KeycloakHome, "keycloak-home", os.Getenv("KEYCLOAK_HOME"),
		"unpacked Keycloak distribution (scripts/keycloak-dist.sh prints it)")
	fs.StringVar(&o.BridgeBin, "bridge-bin", "bin/bonbon-bridge", "the bonbon-bridge binary")
	fs.Uint64Var(&o.Seed, "seed", 1, "workload seed")
	fs.IntVar(&o.Users, "users", 500, "Bonbon users in the workload")
	fs.IntVar(&o.Webhooks, "webhooks", 2000, "webhooks per run (users new, users changed, "+
		"the rest unchanged)")
	levels := fs.String("concurrency", "1,8,32", "comma-separated concurrency levels")
	fs.IntVar(&o.Repeats, "repeats", 5, "runs per level; the report gives medians")
	fs.IntVar(&o.IDTokenUsers, "idtoken-users", 50, "users for GET /bonbon/id-token; "+
		"negative skips it")
	fs.IntVar(&o.IDTokenRequests, "idtoken-requests", 2000, "cache-hit requests per level")
	fs.StringVar(&o.WorkDir, "work-dir", "", "folder for the logs (default a temporary one)")
	out := fs.String("out", "BENCHMARKS.md", "where the report goes (- for standard output)")
	command := fs.String("command", "make bench", "the command named in the report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.KeycloakHome == "" {
		return errors.New("--keycloak-home is required")
	}
	var err error
	if o.Concurrency, err = parseLevels(*levels); err != nil {
		return err
	}
	o.Progress = stderr

	rep, runErr := bench.Run(ctx, o)
	if rep == nil {
		return runErr
	}
	var md bytes.Buffer
	rep.Markdown(&md, *command)
	if *out == "-" {
		_, err = stdout.Write(md.Bytes())
	} else {
		err = os.WriteFile(*out, md.Bytes(), 0o644)
		fmt.Fprintf(stderr, "wrote %s\n", *out)
	}
	return errors.Join(runErr, err)
}

func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--concurrency: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
