package kctest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Environment of the helper process that runs StartContainer in a fresh process:
// Testcontainers resolves the Docker host and reads its configuration once per process.
const (
	helperEnv      = "KCTEST_CONTAINER_HELPER"
	helperImageEnv = "KCTEST_CONTAINER_HELPER_IMAGE"
	helperMarker   = "helper-error: "
)

// requireOrSkip skips when the machine lacks what the container path needs, except in
// CI, where the container path must run for real.
func requireOrSkip(t *testing.T, err error) {
	t.Helper()
	missing := errors.Is(err, ErrDockerUnavailable) || errors.Is(err, ErrImageMissing) ||
		errors.Is(err, ErrReaperEnabled)
	if missing && os.Getenv("CI") != "true" {
		t.Skipf("container path unavailable here: %v", err)
	}
	if err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
}

// testImage is the image the tests start: never the official one by default, so that a
// machine without a registry does not try to pull it.
func testImage() string {
	return firstNonEmpty(os.Getenv("KEYCLOAK_IMAGE"), LocalImage)
}

func TestStartContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Keycloak in a container (a minute or more)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	start := time.Now()
	kc, err := StartContainer(ctx, ContainerOptions{Image: testImage()})
	requireOrSkip(t, err)
	t.Cleanup(func() {
		if err := kc.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if left := ourContainers(context.Background(), t); len(left) > 0 {
			t.Errorf("containers left after Stop: %v", left)
		}
	})
	t.Logf("Keycloak %s ready at %s in %s", kc.Version, kc.URL,
		time.Since(start).Round(time.Second))

	// The issuer must be the URL we hand out, whatever Host header a client sends.
	body := get(ctx, t, kc.URL+"/realms/master/.well-known/openid-configuration")
	want := `"issuer":"` + kc.URL + `/realms/master"`
	if !strings.Contains(body, want) {
		t.Errorf("discovery document lacks %s:\n%.300s", want, body)
	}
	if kc.AdminUser == "" || kc.AdminPassword == "" || kc.How != "container" {
		t.Errorf("got %+v, want admin credentials and How=container", kc)
	}
}

// TestStartContainerRemovesOnTimeout checks that a start that times out leaves no
// container behind and says why.
func TestStartContainerRemovesOnTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a container")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := ContainerOptions{Image: testImage(), StartupTimeout: 3 * time.Second}
	kc, err := StartContainer(ctx, opts)
	if err == nil {
		_ = kc.Stop()
		t.Fatal("Keycloak was ready within 3 s; want a timeout")
	}
	if !errors.Is(err, ErrNotReady) {
		requireOrSkip(t, err)
		t.Fatalf("err = %v, want ErrNotReady", err)
	}
	t.Logf("error: %.300s", err)
	if left := ourContainers(ctx, t); len(left) > 0 {
		t.Errorf("containers left after a failed start: %v", left)
	}
}

// ourContainers lists the IDs of containers, running or not, that this process started.
func ourContainers(ctx context.Context, t *testing.T) []string {
	t.Helper()
	cli, err := dockerClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	filter := client.Filters{}.Add("label", ownerLabel+"="+strconv.Itoa(os.Getpid()))
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

func get(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, read error %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// TestStartContainerFailsClearly runs StartContainer in a fresh process per case and
// checks that it fails fast with an error naming what is missing.
func TestStartContainerFailsClearly(t *testing.T) {
	tests := []struct {
		name      string
		env       []string
		needsDock bool
		noSocket  bool
		want      []string
	}{{
		name: "DOCKER_HOST names no engine",
		env: []string{"DOCKER_HOST=unix:///nonexistent/docker.sock",
			"TESTCONTAINERS_RYUK_DISABLED=true"},
		want: []string{"Docker engine not reachable", "KEYCLOAK_URL", "scripts/docker-engine.sh"},
	}, {
		name:     "no engine anywhere",
		env:      []string{"TESTCONTAINERS_RYUK_DISABLED=true", "DOCKER_HOST="},
		noSocket: true,
		want: []string{"Docker engine not reachable", "KEYCLOAK_URL",
			"scripts/docker-engine.sh"},
	}, {
		name:      "image missing",
		env:       []string{"TESTCONTAINERS_RYUK_DISABLED=true"},
		needsDock: true,
		want: []string{"bonbon-bridge/keycloak:no-such-tag not found locally",
			"keycloak-image.sh"},
	}, {
		name: "bad image name",
		env: []string{"TESTCONTAINERS_RYUK_DISABLED=true", "KEYCLOAK_IMAGE_PULL=never",
			helperImageEnv + "=Not An:Image"},
		needsDock: true,
		want:      []string{"Keycloak image not available", "bad image name"},
	}, {
		name: "reaper on without pulls",
		env:  []string{"TESTCONTAINERS_RYUK_DISABLED=false"},
		want: []string{"TESTCONTAINERS_RYUK_DISABLED=true"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needsDock && !dockerAnswers() {
				requireOrSkip(t, ErrDockerUnavailable)
			}
			env := tt.env
			var wrap []string
			if tt.noSocket {
				wrap, env = hideDockerSockets(t, env)
			}
			start := time.Now()
			out := runHelper(t, wrap, env)
			t.Logf("error: %s", out)
			if d := time.Since(start); d > 45*time.Second {
				t.Errorf("took %s to fail, want a quick failure", d)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("error lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// hideDockerSockets returns a command prefix and environment under which the child sees
// no Docker socket at all, even with an engine running: /run is an empty tmpfs in a
// private mount namespace, and HOME (rootless sockets) is empty. Needs root and unshare.
func hideDockerSockets(t *testing.T, env []string) (wrap, newEnv []string) {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and unshare to hide the Docker socket")
	}
	if dst, _ := os.Readlink("/var/run"); dst != "/run" && dst != "../run" {
		t.Skip("/var/run is not /run here")
	}
	wrap = []string{unshare, "--mount", "sh", "-c", `mount -t tmpfs none /run && exec "$@"`, "sh"}
	return wrap, append(env, "HOME="+t.TempDir(), "XDG_RUNTIME_DIR=")
}

// runHelper runs containerHelper (through TestMain) in a child process, behind the command prefix wrap,
// and returns the error it printed.
func runHelper(t *testing.T, wrap, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append(wrap, os.Args[0])
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, helperMarker); ok {
			return rest
		}
	}
	t.Fatalf("helper printed no error:\n%s", out)
	return ""
}

// TestMain runs the child-process side of runHelper when asked to, so that side is not a
// test that skips in every normal run.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(containerHelper())
	}
	os.Exit(m.Run())
}

// containerHelper starts a container from an image that does not exist and prints the
// error on one line for runHelper; it fails if the start succeeds.
func containerHelper() int {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	image := firstNonEmpty(os.Getenv(helperImageEnv), "bonbon-bridge/keycloak:no-such-tag")
	kc, err := StartContainer(ctx, ContainerOptions{Image: image, StartupTimeout: 20 * time.Second})
	if err == nil {
		_ = kc.Stop()
		os.Stdout.WriteString("StartContainer succeeded with an image that does not exist\n")
		return 1
	}
	// One line, so the parent can find it.
	os.Stdout.WriteString(helperMarker + strings.ReplaceAll(err.Error(), "\n", " ") + "\n")
	return 0
}

// dockerAnswers reports whether the engine Testcontainers would use answers.
func dockerAnswers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	cli, err := dockerClient(ctx)
	if err != nil {
		return false
	}
	_ = cli.Close()
	return true
}

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		in      ContainerOptions
		want    ContainerOptions
		wantErr bool
	}{
		{name: "official image pulled when missing",
			want: ContainerOptions{Image: DefaultImage, Pull: PullMissing, Network: NetworkHost}},
		{name: "image from env",
			env: map[string]string{"KEYCLOAK_IMAGE": "example.test/kc:1"},
			want: ContainerOptions{Image: "example.test/kc:1", Pull: PullMissing,
				Network: NetworkHost}},
		{name: "local image never pulled",
			in:   ContainerOptions{Image: LocalImage, Pull: PullMissing},
			want: ContainerOptions{Image: LocalImage, Pull: PullNever, Network: NetworkHost}},
		{name: "pull policy and network from env",
			env: map[string]string{"KEYCLOAK_IMAGE_PULL": "never",
				"KEYCLOAK_CONTAINER_NETWORK": "ports"},
			want: ContainerOptions{Image: DefaultImage, Pull: PullNever, Network: NetworkPorts}},
		{name: "bad pull policy",
			env: map[string]string{"KEYCLOAK_IMAGE_PULL": "always"}, wantErr: true},
		{name: "bad network", in: ContainerOptions{Network: "bridge"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"KEYCLOAK_IMAGE", "KEYCLOAK_IMAGE_PULL",
				"KEYCLOAK_CONTAINER_NETWORK", "KEYCLOAK_VERSION"} {
				t.Setenv(k, tt.env[k])
			}
			got, err := tt.in.withDefaults()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			checkDefaults(t, got, tt.want)
		})
	}
}

func checkDefaults(t *testing.T, got, want ContainerOptions) {
	t.Helper()
	if got.HTTPPort == 0 || got.ManagementPort == 0 || got.HTTPPort == got.ManagementPort {
		t.Errorf("ports %d and %d: want two distinct free ports", got.HTTPPort, got.ManagementPort)
	}
	if want.Network == NetworkHost && defaultNetwork() != NetworkHost {
		want.Network = NetworkPorts
	}
	got.HTTPPort, got.ManagementPort = 0, 0
	want.StartupTimeout = DefaultStartupTimeout
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestHostConfig(t *testing.T) {
	tests := []struct {
		name     string
		network  NetworkMode
		wantMode container.NetworkMode
		wantBind int
	}{
		{name: "host", network: NetworkHost, wantMode: "host", wantBind: 0},
		{name: "ports", network: NetworkPorts, wantMode: "", wantBind: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ContainerOptions{Network: tt.network, HTTPPort: 18080, ManagementPort: 19000}
			var hc container.HostConfig
			o.hostConfig(&hc)
			if hc.NetworkMode != tt.wantMode || len(hc.PortBindings) != tt.wantBind {
				t.Fatalf("got mode %q, %d bindings", hc.NetworkMode, len(hc.PortBindings))
			}
			for port, b := range hc.PortBindings {
				if len(b) != 1 || b[0].HostIP.String() != "127.0.0.1" ||
					b[0].HostPort != port.Port() {
					t.Errorf("binding %v -> %+v: want the same port on 127.0.0.1", port, b)
				}
			}
		})
	}
}

// TestCustomizers pins how each supported Keycloak major is started: 24 has no
// management port (health on the HTTP port) and takes --hostname-url; 24 and 25 create
// the first admin from KEYCLOAK_ADMIN*, 26 from KC_BOOTSTRAP_ADMIN_*.
func TestCustomizers(t *testing.T) {
	const common = "start-dev --http-host=0.0.0.0 --http-port=18080 "
	tests := []struct {
		image, wantCmd, wantUserEnv, wantHealth string
	}{{
		image:       "bonbon-bridge/keycloak:24.0.5",
		wantCmd:     common + "--hostname-url=http://127.0.0.1:18080 --health-enabled=true",
		wantUserEnv: "KEYCLOAK_ADMIN",
		wantHealth:  "http://127.0.0.1:18080/health/ready",
	}, {
		image: "bonbon-bridge/keycloak:25.0.6",
		wantCmd: common + "--http-management-port=19000 " +
			"--hostname=http://127.0.0.1:18080 --health-enabled=true",
		wantUserEnv: "KEYCLOAK_ADMIN",
		wantHealth:  "http://127.0.0.1:19000/health/ready",
	}, {
		image: DefaultImage,
		wantCmd: common + "--http-management-port=19000 " +
			"--hostname=http://127.0.0.1:18080 --health-enabled=true",
		wantUserEnv: "KC_BOOTSTRAP_ADMIN_USERNAME",
		wantHealth:  "http://127.0.0.1:19000/health/ready",
	}}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			o := ContainerOptions{Image: tt.image, Network: NetworkPorts, HTTPPort: 18080,
				ManagementPort: 19000, StartupTimeout: time.Minute}
			caps, err := o.capabilities()
			if err != nil {
				t.Fatal(err)
			}
			var req testcontainers.GenericContainerRequest
			for _, c := range o.customizers(caps) {
				if err := c.Customize(&req); err != nil {
					t.Fatal(err)
				}
			}
			if got := strings.Join(req.Cmd, " "); got != tt.wantCmd {
				t.Errorf("cmd = %q, want %q", got, tt.wantCmd)
			}
			if got := strings.Join(req.ExposedPorts, ","); got != "18080/tcp,19000/tcp" {
				t.Errorf("exposed ports = %q, want both Keycloak ports", got)
			}
			if req.Env[tt.wantUserEnv] == "" || len(req.Env) != 2 {
				t.Errorf("env %v: want the bootstrap admin in %s", req.Env, tt.wantUserEnv)
			}
			if got := waitURL(req.WaitingFor); got != tt.wantHealth {
				t.Errorf("readiness waits on %q, want %q", got, tt.wantHealth)
			}
		})
	}
}

// waitURL digs the readiness URL out of the wait strategy customizers set.
func waitURL(s wait.Strategy) string {
	if m, ok := s.(*wait.MultiStrategy); ok && len(m.Strategies) == 1 {
		s = m.Strategies[0]
	}
	if h, ok := s.(*healthWait); ok {
		return h.url
	}
	return ""
}

func TestImageTag(t *testing.T) {
	tests := []struct{ in, want string }{
		{DefaultImage, "26.7.3"},
		{"localhost:5000/kc", ""},
		{"kc", ""},
		{LocalImage, "26.7.3"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := imageTag(tt.in); got != tt.want {
				t.Errorf("imageTag(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
