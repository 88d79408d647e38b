// Command bonbon-bridge connects a Keycloak realm with Bonbon.
//
//	bonbon-bridge serve       run the bridge (configured by environment variables)
//	bonbon-bridge provision   prepare a realm for the bridge (--dry-run, --create-realm)
//	bonbon-bridge mapping     print the mapping the bridge applies, read from the realm
//	bonbon-bridge demo        run the main job end to end on this machine
//	bonbon-bridge version     print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/app"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/demo"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bonbon-bridge:", err)
		stop()
		os.Exit(1)
	}
}

const usage = `usage: bonbon-bridge <command> [flags]

commands:
  serve       run the bridge; configuration from environment variables (see README)
  provision   prepare a realm: identity provider, user profile, client (--dry-run, --create-realm)
  mapping     print the Bonbon mapping the bridge applies, read from the realm's user profile
  demo        run Keycloak, the Bonbon simulator and the bridge with the sample user
  version     print the version`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, stderr)
	case "provision":
		return provision(ctx, rest, stdout)
	case "mapping":
		return app.PrintMapping(ctx, app.Lookup, stdout)
	case "demo":
		return runDemo(ctx, rest, stdout)
	case "version":
		fmt.Fprintln(stdout, "bonbon-bridge", version)
		return nil
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

func serve(ctx context.Context, stderr io.Writer) error {
	cfg, err := app.FromEnv(app.Lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	a, err := app.New(cfg, app.Options{Logger: log})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

func provision(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("provision", flag.ContinueOnError)
	dry := fs.Bool("dry-run", false, "print what would change, change nothing")
	create := fs.Bool("create-realm", false, "create the realm when it does not exist")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pc, err := app.ProvisionFromEnv(app.Lookup, stdout)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	pc.DryRun, pc.CreateRealm = *dry, *create
	return keycloak.Provision(ctx, pc)
}

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var o demo.Options
	fs.StringVar(&o.KeycloakHome, "keycloak-home", os.Getenv("KEYCLOAK_HOME"),
		"unpacked Keycloak distribution (scripts/keycloak-dist.sh prints it)")
	fs.StringVar(&o.UsersFile, "users", "testdata/bonbon/users.json", "Bonbon users for the simulator")
	fs.StringVar(&o.BonbonID, "bonbon-id", "12345", "the user whose webhook is delivered")
	fs.BoolVar(&o.Hold, "hold", false, "keep everything running until Ctrl-C")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.KeycloakHome == "" {
		return errors.New("demo: --keycloak-home is required (make demo sets it)")
	}
	o.Out = stdout
	return demo.Run(ctx, o)
}
