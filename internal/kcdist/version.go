package kcdist

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// Launch is how to start one Keycloak version in dev mode: its arguments after
// "start-dev", its environment, and where readiness is reported.
type Launch struct {
	Args      []string
	Env       map[string]string
	HealthURL string
}

// LaunchFor builds the start-dev arguments for a server with capabilities c, listening
// on host:httpPort, reached by clients at baseURL, with admin user/password. The
// management port is used only where c has one (25+); on 24 health is on httpPort. The
// distribution and the container path both start Keycloak through this function.
func LaunchFor(c keycloak.Capabilities, host string, httpPort, mgmtPort int, baseURL,
	user, password string) Launch {
	l := Launch{
		Args:      []string{"--http-host=" + host, "--http-port=" + strconv.Itoa(httpPort)},
		Env:       map[string]string{c.AdminUserEnv: user, c.AdminPasswordEnv: password},
		HealthURL: "http://127.0.0.1:" + strconv.Itoa(httpPort) + "/health/ready",
	}
	if c.ManagementPort {
		l.Args = append(l.Args, "--http-management-port="+strconv.Itoa(mgmtPort))
		l.HealthURL = "http://127.0.0.1:" + strconv.Itoa(mgmtPort) + "/health/ready"
	}
	l.Args = append(l.Args, c.HostnameURLOption+"="+baseURL, "--health-enabled=true")
	return l
}

// DistVersion reads the version of the distribution unpacked at home from its
// version.txt ("Keycloak - Version 24.0.5").
func DistVersion(home string) (keycloak.Version, error) {
	b, err := os.ReadFile(filepath.Join(home, "version.txt"))
	if err != nil {
		return keycloak.Version{}, fmt.Errorf("read Keycloak version: %w", err)
	}
	return keycloak.ParseVersion(string(b))
}

// JavaHomeFor picks a JDK whose major is in majors (preferred first): $JAVA_HOME when it
// is one of them, else the first match under /usr/lib/jvm. It returns "" when none
// matches, meaning the `java` on the PATH. A JDK's major comes from its release file.
func JavaHomeFor(majors []int) string { return javaHomeIn("/usr/lib/jvm", majors) }

func javaHomeIn(root string, majors []int) string {
	// A $JAVA_HOME the version cannot run on is passed over, not obeyed: Keycloak would
	// fail to start with a class-file error far from the cause.
	if home := os.Getenv("JAVA_HOME"); home != "" && slices.Contains(majors, jdkMajor(home)) {
		return home
	}
	found, _ := filepath.Glob(filepath.Join(root, "*"))
	for _, want := range majors {
		for _, dir := range found {
			if jdkMajor(dir) == want {
				return dir
			}
		}
	}
	return ""
}

// jdkMajor reads JAVA_VERSION="21.0.5" (or "1.8.0_412") from home/release; 0 if unknown.
func jdkMajor(home string) int {
	b, err := os.ReadFile(filepath.Join(home, "release"))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "JAVA_VERSION=")
		if !ok {
			continue
		}
		v = strings.TrimPrefix(strings.Trim(v, `"`), "1.")
		major, _, _ := strings.Cut(v, ".")
		n, _ := strconv.Atoi(major)
		return n
	}
	return 0
}
