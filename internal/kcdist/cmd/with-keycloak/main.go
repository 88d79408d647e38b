// Command with-keycloak starts Keycloak from the distribution, runs a command with
// KEYCLOAK_URL, KEYCLOAK_ADMIN_USER and KEYCLOAK_ADMIN_PASSWORD set, and stops Keycloak.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/kcdist"
)

func main() {
	home := flag.String("keycloak-home", "", "unpacked Keycloak distribution")
	flag.Parse()
	if *home == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: with-keycloak --keycloak-home DIR -- command [args]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, *home, flag.Args()))
}

func run(ctx context.Context, home string, args []string) int {
	kc, err := kcdist.Start(ctx, kcdist.Options{Home: home, Progress: func(d time.Duration) {
		fmt.Fprintf(os.Stderr, "with-keycloak: Keycloak starting (%s)\n", d.Round(time.Second))
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "with-keycloak:", err)
		return 1
	}
	defer kc.Stop()
	fmt.Fprintf(os.Stderr, "with-keycloak: Keycloak at %s, ready after %s\n", kc.URL,
		kc.StartupElapsed.Round(100*time.Millisecond))
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "KEYCLOAK_URL="+kc.URL,
		"KEYCLOAK_ADMIN_USER="+kc.AdminUser, "KEYCLOAK_ADMIN_PASSWORD="+kc.AdminPassword)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "with-keycloak:", err)
		return 1
	}
	return 0
}
