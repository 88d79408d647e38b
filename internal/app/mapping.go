package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// mappingSource is the mapping the bridge applies. A mapping file (BRIDGE_MAPPING_FILE)
// wins: the bridge applies it as it is and never reads the realm's user profile.
// Otherwise the realm's user profile is the mapping (the attributes annotated
// mapping.FieldAnnotation), re-read every MappingRefresh by the returned ProfileMapping,
// which Run starts; it is nil for a file.
func mappingSource(cfg Config, kc *keycloak.Client, log *slog.Logger) (
	bridge.MappingSource, *bridge.ProfileMapping, error) {
	if cfg.MappingFile != "" {
		m, err := mapping.Load(cfg.MappingFile)
		if err != nil {
			return nil, nil, fmt.Errorf("load mapping: %w", err)
		}
		log.Info("mapping read from BRIDGE_MAPPING_FILE; the realm's user profile is not "+
			"read", "file", cfg.MappingFile)
		return bridge.FixedMapping(m), nil, nil
	}
	pm, err := bridge.NewProfileMapping(bridge.ProfileMappingConfig{
		Reader: kc, Interval: cfg.MappingRefresh, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	return pm, pm, nil
}

// PrintMapping writes the mapping the bridge applies, configured as `serve` would be: the
// mapping file's when BRIDGE_MAPPING_FILE is set, otherwise the realm's user profile,
// read now with the bridge's own credentials.
func PrintMapping(ctx context.Context, lookup func(string) (string, bool), out io.Writer,
) error {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	if file := get("BRIDGE_MAPPING_FILE", ""); file != "" {
		m, err := mapping.Load(file)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "The bridge applies the mapping file %s (BRIDGE_MAPPING_FILE); it "+
			"does not read the realm's user profile.\n\n", file)
		return writeMapping(out, m, nil)
	}
	timeout, err := time.ParseDuration(get("KEYCLOAK_TIMEOUT", "10s"))
	if err != nil || timeout <= 0 {
		return errors.New("KEYCLOAK_TIMEOUT: want a positive duration like 10s")
	}
	realm := get("KEYCLOAK_REALM", "")
	kc, err := keycloak.New(keycloak.Config{
		URL: get("KEYCLOAK_URL", ""), Realm: realm,
		ClientID: get("KEYCLOAK_CLIENT_ID", ""), ClientSecret: get("KEYCLOAK_CLIENT_SECRET", ""),
		HTTPClient: &http.Client{Timeout: timeout},
	})
	if err != nil {
		return err
	}
	data, err := kc.UserProfile(ctx)
	if err != nil {
		return err
	}
	m, skipped, err := mapping.FromProfile(data)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "The bridge applies the mapping in realm %s's user profile: the "+
		"attributes annotated %s (read now).\n\n", realm, mapping.FieldAnnotation)
	return writeMapping(out, m, skipped)
}

func writeMapping(out io.Writer, m mapping.Config, skipped []mapping.Skipped) error {
	if len(m.Attributes) == 0 {
		fmt.Fprintf(out, "No attribute holds a Bonbon field: the bridge stores none "+
			"(annotate attributes with %s, or run bonbon-bridge provision on a new realm).\n",
			mapping.FieldAnnotation)
	} else {
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ATTRIBUTE\tBONBON FIELD\tDISPLAY NAME")
		for _, a := range m.Attributes {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Name, a.Field, a.DisplayName)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(out, "\nAnnotated %s but not applied:\n", mapping.FieldAnnotation)
		for _, s := range skipped {
			fmt.Fprintf(out, "  %s\n", s)
		}
	}
	fmt.Fprintln(out, "\nA Bonbon field that no attribute holds is not stored.")
	return nil
}
