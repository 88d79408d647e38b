package keycloak

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// ErrUnsupportedVersion means the server runs a Keycloak version the bridge does not
// support (before 24, or one it cannot parse).
var ErrUnsupportedVersion = errors.New("keycloak: unsupported version")

// OldestSupportedMajor is the oldest Keycloak major the bridge supports: 24 made the
// declarative user profile mandatory, which the bridge's attribute handling relies on.
const OldestSupportedMajor = 24

// Version is a Keycloak release, as systemInfo.version or version.txt spell it.
type Version struct {
	Major, Minor, Patch int
	// Raw is the text it was parsed from, e.g. "26.7.3" or "999.0.0-SNAPSHOT".
	Raw string
}

func (v Version) String() string { return v.Raw }

// AtLeast reports whether v is major.minor.patch or later.
func (v Version) AtLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

var versionPattern = regexp.MustCompile(`(\d+)\.(\d+)\.(\d+)`)

// ParseVersion reads the first major.minor.patch in s ("26.7.3", "Keycloak - Version
// 24.0.5", "25.0.6.redhat-00001").
func ParseVersion(s string) (Version, error) {
	m := versionPattern.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("%w: no version number in %q", ErrUnsupportedVersion, s)
	}
	v := Version{Raw: m[0]}
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	v.Patch, _ = strconv.Atoi(m[3])
	return v, nil
}

// Capabilities are the behaviours that differ between the Keycloak versions the bridge
// supports. Every version difference the bridge, the tests and the demo handle is decided
// here, from the version, and nowhere else: code asks a field, never the version number.
type Capabilities struct {
	Version Version

	// ManagementPort: health endpoints are served on a separate management port (25+).
	// On 24 they are on the main HTTP port, next to the admin API.
	ManagementPort bool
	// HostnameURLOption is the start option that pins the public base URL, and so the
	// issuer in tokens: "--hostname" takes a URL from 25 (hostname v2); 24 has
	// "--hostname-url" (v1), and without it the issuer follows each request's Host header.
	HostnameURLOption string
	// AdminUserEnv and AdminPasswordEnv create the master realm's first admin on first
	// start: KC_BOOTSTRAP_ADMIN_* from 26, KEYCLOAK_ADMIN* before (26 still reads the old
	// names but logs a deprecation warning).
	AdminUserEnv, AdminPasswordEnv string
	// ListsShowUndeclaredAttributes: the user search (GET /users) returns attributes the
	// user profile no longer declares, with their old values, while GET /users/{id} hides
	// them (24, 25). 26 hides them in both (seen on 26.7.3; the 26.x release that changed
	// it is not established). The bridge then reads a found user again by id, or a
	// renamed attribute would look unchanged under its old name and never be written.
	ListsShowUndeclaredAttributes bool
	// JDKs are the Java majors the server is documented to run on, preferred first: 17
	// and 21 for 24 and 25, and 25 as well from 26.6. (24.0.5 on Java 25 fails its
	// start-dev build step: its Byte Buddy supports class files up to Java 22.)
	JDKs []int
}

// CapabilitiesOf returns the capabilities of version v, or an error wrapping
// ErrUnsupportedVersion for a version before OldestSupportedMajor.
func CapabilitiesOf(v Version) (Capabilities, error) {
	if v.Major < OldestSupportedMajor {
		return Capabilities{}, fmt.Errorf("%w: Keycloak %s; the bridge supports %d and later",
			ErrUnsupportedVersion, v, OldestSupportedMajor)
	}
	c := Capabilities{
		Version:           v,
		ManagementPort:    v.Major >= 25,
		HostnameURLOption: "--hostname",
		AdminUserEnv:      "KC_BOOTSTRAP_ADMIN_USERNAME",
		AdminPasswordEnv:  "KC_BOOTSTRAP_ADMIN_PASSWORD",
		JDKs:              []int{21, 17},

		ListsShowUndeclaredAttributes: v.Major < 26,
	}
	if v.Major < 25 {
		c.HostnameURLOption = "--hostname-url"
	}
	if v.Major < 26 {
		c.AdminUserEnv, c.AdminPasswordEnv = "KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD"
	}
	if v.AtLeast(26, 6, 0) {
		c.JDKs = []int{25, 21, 17}
	}
	return c, nil
}
