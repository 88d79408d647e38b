package kctest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
)

// Container is a container RunHostNetworked started.
type Container struct {
	ctr *testcontainers.DockerContainer
}

// Stop removes the container.
func (c *Container) Stop() error { return terminate(c.ctr) }

// Logs returns the end of the container's output.
func (c *Container) Logs() string { return containerLogTail(c.ctr) }

// RunHostNetworked starts image with cmd and env on the host's network (Linux only), and
// waits until readyURL answers 200 or timeout passes. Used to run the bridge's own image
// next to Keycloak; every failure removes what was created.
func RunHostNetworked(ctx context.Context, image string, cmd []string, env map[string]string,
	readyURL string, timeout time.Duration) (*Container, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDockerUnavailable, err)
	}
	defer cli.Close()
	if err := ensureDefaultNetwork(ctx, cli); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDockerUnavailable, err)
	}
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		return nil, fmt.Errorf("%w: image %s: %v (run scripts/bridge-image.sh)",
			ErrImageMissing, image, err)
	}
	ctr, err := testcontainers.Run(ctx, image,
		testcontainers.WithCmd(cmd...),
		testcontainers.WithEnv(env),
		testcontainers.WithLabels(map[string]string{ownerLabel: strconv.Itoa(os.Getpid())}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
		}),
		testcontainers.WithEndpointSettingsModifier(func(s map[string]*network.EndpointSettings) {
			clear(s)
		}),
		testcontainers.WithWaitStrategyAndDeadline(timeout, &healthWait{url: readyURL}),
	)
	if err != nil {
		logs := containerLogTail(ctr)
		return nil, errors.Join(fmt.Errorf("start %s: %w%s", image, err, logs), terminate(ctr))
	}
	return &Container{ctr: ctr}, nil
}
