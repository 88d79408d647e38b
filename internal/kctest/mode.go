package kctest

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// defaultMode is "auto": a container when a Docker engine answers (the way publishers run
// their own Testcontainers suites), else the local distribution, so `make test` works on a
// machine with Docker and on one without. KEYCLOAK_MODE=container insists on Docker and
// fails clearly without it.
const defaultMode = "auto"

func startContainerMode(ctx context.Context) (*Keycloak, error) {
	return StartContainer(ctx, ContainerOptions{})
}

func startAuto(ctx context.Context) (*Keycloak, error) {
	k, err := StartContainer(ctx, ContainerOptions{})
	if errors.Is(err, ErrDockerUnavailable) {
		fmt.Fprintf(os.Stderr, "kctest: %v\nkctest: using the local distribution instead\n", err)
		return startDistribution(ctx)
	}
	return k, err
}
