package kctest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/kcdist"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// Images and defaults for StartContainer.
const (
	// DefaultImage is the official image at the Keycloak version the project pins.
	DefaultImage = "quay.io/keycloak/keycloak:26.7.3"
	// LocalImage is the image scripts/keycloak-image.sh builds without a registry.
	LocalImage = "bonbon-bridge/keycloak:26.7.3"
	// DefaultStartupTimeout bounds the wait for /health/ready: Keycloak in dev mode on
	// 2 cores needs well over a minute when the machine is busy.
	DefaultStartupTimeout = 4 * time.Minute

	// localPrefix names images that exist only where they were built, never in a registry.
	localPrefix    = "bonbon-bridge/"
	containerAdmin = "admin"
	containerPass  = "admin"
	// ownerLabel marks our containers with the test process's PID, so that leftovers can
	// be found (docker ps -f label=org.bonbon-bridge.kctest) and tests can check cleanup.
	ownerLabel    = "org.bonbon-bridge.kctest"
	dockerTimeout = 15 * time.Second
	stopTimeout   = time.Minute
	logTailBytes  = 4000
)

// PullPolicy says whether StartContainer may pull a missing image.
type PullPolicy string

// Pull policies; the zero value reads KEYCLOAK_IMAGE_PULL and falls back to PullMissing.
const (
	PullMissing PullPolicy = "missing" // pull when the image is not local, like docker run
	PullNever   PullPolicy = "never"   // fail at once when the image is not local
)

// NetworkMode says how the host reaches Keycloak in its container.
type NetworkMode string

// Network modes; the zero value reads KEYCLOAK_CONTAINER_NETWORK and falls back to
// NetworkHost on Linux and NetworkPorts elsewhere (Docker Desktop has no host network).
const (
	NetworkHost  NetworkMode = "host"  // share the host's network; Keycloak on 127.0.0.1
	NetworkPorts NetworkMode = "ports" // own network, the two ports published on 127.0.0.1
)

// Errors StartContainer returns, wrapped with the details; test with errors.Is.
var (
	// ErrDockerUnavailable means no Docker engine answered.
	ErrDockerUnavailable = errors.New("Docker engine not reachable")
	// ErrImageMissing means the image is not local and could not, or may not, be pulled.
	ErrImageMissing = errors.New("Keycloak image not available")
	// ErrReaperEnabled means images cannot be pulled but Testcontainers' reaper, which
	// needs its own image, is on.
	ErrReaperEnabled = errors.New("Testcontainers reaper enabled")
	// ErrNotReady means the container started but Keycloak never became ready.
	ErrNotReady = errors.New("Keycloak in container not ready")
)

// ContainerOptions configures StartContainer. The zero value is usable.
type ContainerOptions struct {
	// Image defaults to $KEYCLOAK_IMAGE, else the official image at WantedVersion
	// (DefaultImage unless KEYCLOAK_VERSION is set). Its tag, when a version, says which
	// Keycloak runs and so how to start it; other tags are taken to be WantedVersion.
	Image string
	// HTTPPort and ManagementPort are the ports on 127.0.0.1; 0 picks free ones.
	HTTPPort, ManagementPort int
	// StartupTimeout bounds the wait for readiness; 0 means DefaultStartupTimeout.
	StartupTimeout time.Duration
	// Pull defaults to $KEYCLOAK_IMAGE_PULL, else PullMissing. Images named
	// bonbon-bridge/... are never pulled.
	Pull PullPolicy
	// Network defaults to $KEYCLOAK_CONTAINER_NETWORK, else host on Linux, ports elsewhere.
	Network NetworkMode
}

// StartContainer starts Keycloak in dev mode in a Docker container through
// Testcontainers and returns once /health/ready answers on the management port. The
// server is reachable on 127.0.0.1 only, with its issuer pinned to http://127.0.0.1:<port>
// and a bootstrap admin in the master realm; Stop removes the container.
//
// Where images cannot be pulled the caller's environment must hold
// TESTCONTAINERS_RYUK_DISABLED=true (exactly that value; Testcontainers reads it once per
// process), or ErrReaperEnabled is returned before anything starts. Every failure after
// the container exists removes it. Errors wrap ErrDockerUnavailable, ErrImageMissing,
// ErrReaperEnabled or ErrNotReady where one applies. Safe for concurrent use.
func StartContainer(ctx context.Context, opts ContainerOptions) (*Keycloak, error) {
	opts = preferLocalImage(ctx, opts)
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := o.checkReaper(); err != nil {
		return nil, err
	}
	if err := checkDockerAndImage(ctx, o); err != nil {
		return nil, err
	}

	// Start, and on any failure remove what was created: no reaper will.
	caps, err := o.capabilities()
	if err != nil {
		return nil, err
	}
	ctr, err := testcontainers.Run(ctx, o.Image, o.customizers(caps)...)
	if err != nil {
		logs := containerLogTail(ctr)
		if termErr := terminate(ctr); termErr != nil {
			err = errors.Join(err, termErr)
		}
		return nil, fmt.Errorf("start %s: %w%s", o.Image, err, logs)
	}
	return &Keycloak{
		URL:           o.baseURL(),
		AdminUser:     containerAdmin,
		AdminPassword: containerPass,
		Version:       caps.Version.String(),
		How:           "container",
		stop:          func() error { return terminate(ctr) },
	}, nil
}

// preferLocalImage picks the image scripts/keycloak-image.sh built for the wanted version
// when the caller named none (option or KEYCLOAK_IMAGE) and it exists: a machine that
// built it then never reaches for a registry.
func preferLocalImage(ctx context.Context, o ContainerOptions) ContainerOptions {
	if o.Image != "" || os.Getenv("KEYCLOAK_IMAGE") != "" {
		return o
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return o
	}
	defer cli.Close()
	ictx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	local := LocalImageFor(WantedVersion())
	if _, err := cli.ImageInspect(ictx, local); err == nil {
		o.Image = local
	}
	return o
}

// withDefaults fills in what the caller left out, from the environment first.
func (o ContainerOptions) withDefaults() (ContainerOptions, error) {
	o.Image = firstNonEmpty(o.Image, os.Getenv("KEYCLOAK_IMAGE"), officialImage(WantedVersion()))
	o.Pull = PullPolicy(firstNonEmpty(string(o.Pull), os.Getenv("KEYCLOAK_IMAGE_PULL"),
		string(PullMissing)))
	if strings.HasPrefix(o.Image, localPrefix) {
		o.Pull = PullNever
	}
	o.Network = NetworkMode(firstNonEmpty(string(o.Network),
		os.Getenv("KEYCLOAK_CONTAINER_NETWORK"), string(defaultNetwork())))
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = DefaultStartupTimeout
	}
	if o.Pull != PullMissing && o.Pull != PullNever {
		return o, fmt.Errorf("unknown pull policy %q (KEYCLOAK_IMAGE_PULL): want missing or never",
			o.Pull)
	}
	if o.Network != NetworkHost && o.Network != NetworkPorts {
		return o, fmt.Errorf("unknown network mode %q (KEYCLOAK_CONTAINER_NETWORK): "+
			"want host or ports", o.Network)
	}
	return o.withPorts()
}

// withPorts picks free loopback ports for those left at 0. Another process could take a
// port before Keycloak binds it; Keycloak then fails to start and the error says so.
func (o ContainerOptions) withPorts() (ContainerOptions, error) {
	for _, p := range []*int{&o.HTTPPort, &o.ManagementPort} {
		if *p != 0 {
			continue
		}
		free, err := freePort(o.HTTPPort, o.ManagementPort)
		if err != nil {
			return o, fmt.Errorf("pick a free port: %w", err)
		}
		*p = free
	}
	return o, nil
}

// freePort asks the kernel for a free port on 127.0.0.1 that is not one of taken.
func freePort(taken ...int) (int, error) {
	for range 10 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, err
		}
		if port != taken[0] && port != taken[1] {
			return port, nil
		}
	}
	return 0, errors.New("no distinct free port found")
}

func defaultNetwork() NetworkMode {
	if runtime.GOOS == "linux" {
		return NetworkHost
	}
	return NetworkPorts
}

// checkReaper refuses to start when the reaper is on but images cannot be pulled: the
// reaper's own image would be pulled first, failing only after a long retry.
func (o ContainerOptions) checkReaper() error {
	if o.Pull != PullNever || testcontainers.ReadConfig().RyukDisabled {
		return nil
	}
	return fmt.Errorf("%w: images are not pulled for %s, so the reaper cannot start; set "+
		"TESTCONTAINERS_RYUK_DISABLED=true (exactly) in the environment of the test process",
		ErrReaperEnabled, o.Image)
}

// checkDockerAndImage makes sure an engine answers and has the image, pulling it at most
// once when allowed: Testcontainers' own pull retries for up to 15 minutes when no
// registry answers, which looks like a hang.
func checkDockerAndImage(ctx context.Context, o ContainerOptions) error {
	cli, err := dockerClient(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v; set KEYCLOAK_URL or run scripts/docker-engine.sh",
			ErrDockerUnavailable, err)
	}
	defer cli.Close()

	ictx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	if o.Network == NetworkHost {
		if err := ensureDefaultNetwork(ictx, cli); err != nil {
			return fmt.Errorf("%w: %v", ErrDockerUnavailable, err)
		}
	}
	_, err = cli.ImageInspect(ictx, o.Image)
	switch {
	case err == nil:
		return nil
	case cerrdefs.IsInvalidArgument(err):
		return fmt.Errorf("%w: bad image name %q: %v", ErrImageMissing, o.Image, err)
	case !cerrdefs.IsNotFound(err):
		return fmt.Errorf("%w: inspect image %s: %v", ErrDockerUnavailable, o.Image, err)
	case o.Pull == PullNever:
		return fmt.Errorf("%w: image %s not found locally and pulling is off: "+
			"run scripts/keycloak-image.sh and set KEYCLOAK_IMAGE=%s",
			ErrImageMissing, o.Image, LocalImageFor(WantedVersion()))
	}
	if err := pullOnce(ctx, cli, o.Image, o.StartupTimeout); err != nil {
		return fmt.Errorf("%w: image %s not found locally and registries are unreachable "+
			"(%v): run scripts/keycloak-image.sh and set KEYCLOAK_IMAGE=%s",
			ErrImageMissing, o.Image, err,
			LocalImageFor(WantedVersion()))
	}
	return nil
}

// ensureDefaultNetwork gives Testcontainers the default network it insists on. It puts
// every container on "bridge", or else on "reaper_default", which it creates as a bridge
// with an address from a private range. An engine started with --bridge=none has neither,
// so this creates "reaper_default" first as an internal bridge without an IPv4 address;
// host-networked containers are then detached from it (see customizers).
func ensureDefaultNetwork(ctx context.Context, cli *testcontainers.DockerClient) error {
	list, err := cli.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return fmt.Errorf("list networks: %w", err)
	}
	for _, n := range list.Items {
		if n.Name == testcontainers.Bridge || n.Name == testcontainers.ReaperDefault {
			return nil
		}
	}
	_, err = cli.NetworkCreate(ctx, testcontainers.ReaperDefault, client.NetworkCreateOptions{
		Driver:   testcontainers.Bridge,
		Internal: true,
		Options:  map[string]string{"com.docker.network.bridge.inhibit_ipv4": "true"},
		Labels:   map[string]string{"org.bonbon-bridge.placeholder": "true"},
	})
	if err != nil && !cerrdefs.IsConflict(err) && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("create network %s: %w", testcontainers.ReaperDefault, err)
	}
	return nil
}

// dockerClient connects the way Testcontainers does (its properties file, DOCKER_HOST,
// the default socket, rootless sockets) and pings the engine within dockerTimeout.
func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	if err := checkDockerHost(ctx); err != nil {
		return nil, err
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		_ = cli.Close()
		return nil, err
	}
	return cli, nil
}

// checkDockerHost fails when DOCKER_HOST is set but does not answer. Testcontainers
// would quietly fall back to the default socket, so the tests could run against an engine
// other than the one the user named; the docker CLI refuses in that case too.
func checkDockerHost(ctx context.Context) error {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		return nil
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return fmt.Errorf("DOCKER_HOST=%s: %w", host, err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("DOCKER_HOST=%s: %w", host, err)
	}
	return nil
}

// pullOnce pulls the image with a single attempt bounded by timeout.
func pullOnce(ctx context.Context, cli *testcontainers.DockerClient, image string,
	timeout time.Duration,
) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := cli.ImagePull(ctx, image, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	return resp.Wait(ctx)
}

// capabilities says how the image's Keycloak starts, from the version in its tag.
func (o ContainerOptions) capabilities() (keycloak.Capabilities, error) {
	v, err := keycloak.ParseVersion(imageTag(o.Image))
	if err != nil {
		v, err = keycloak.ParseVersion(WantedVersion())
	}
	if err != nil {
		return keycloak.Capabilities{}, fmt.Errorf("kctest: Keycloak version of %s: %w",
			o.Image, err)
	}
	return keycloak.CapabilitiesOf(v)
}

// customizers turns the options into Testcontainers options for a Keycloak with caps.
func (o ContainerOptions) customizers(caps keycloak.Capabilities,
) []testcontainers.ContainerCustomizer {
	host := "127.0.0.1"
	if o.Network == NetworkPorts {
		// Inside its own network namespace Keycloak must accept the forwarded traffic;
		// the published ports still bind to the host's loopback only.
		host = "0.0.0.0"
	}
	launch := kcdist.LaunchFor(caps, host, o.HTTPPort, o.ManagementPort, o.baseURL(),
		containerAdmin, containerPass)
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(append([]string{"start-dev"}, launch.Args...)...),
		testcontainers.WithEnv(launch.Env),
		// Testcontainers keeps only the bindings of exposed ports: without these two, the
		// ports network mode would publish the image's EXPOSE list instead.
		testcontainers.WithExposedPorts(strconv.Itoa(o.HTTPPort)+"/tcp",
			strconv.Itoa(o.ManagementPort)+"/tcp"),
		testcontainers.WithLabels(map[string]string{ownerLabel: strconv.Itoa(os.Getpid())}),
		testcontainers.WithHostConfigModifier(o.hostConfig),
		testcontainers.WithEndpointSettingsModifier(o.endpoints),
		testcontainers.WithWaitStrategyAndDeadline(o.StartupTimeout,
			&healthWait{url: launch.HealthURL}),
	}
}

// hostConfig selects the network: the host's, or published loopback ports.
func (o ContainerOptions) hostConfig(hc *container.HostConfig) {
	if o.Network == NetworkHost {
		hc.NetworkMode = "host"
		return
	}
	loopback := netip.MustParseAddr("127.0.0.1")
	hc.PortBindings = network.PortMap{}
	for _, p := range []int{o.HTTPPort, o.ManagementPort} {
		port := network.MustParsePort(strconv.Itoa(p) + "/tcp")
		hc.PortBindings[port] = []network.PortBinding{
			{HostIP: loopback, HostPort: strconv.Itoa(p)},
		}
	}
}

// endpoints detaches a host-networked container from the default network that
// Testcontainers adds to every request.
func (o ContainerOptions) endpoints(settings map[string]*network.EndpointSettings) {
	if o.Network == NetworkHost {
		clear(settings)
	}
}

func (o ContainerOptions) baseURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(o.HTTPPort)
}

// imageTag returns the tag of an image reference, the Keycloak version for ours.
func imageTag(image string) string {
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	return image[i+1:]
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
