package kctest

import (
	"context"
	"errors"
)

// defaultMode is the distribution until the container path exists.
const defaultMode = "distribution"

func startContainerMode(context.Context) (*Keycloak, error) {
	return nil, errors.New("kctest: the container path is not built yet; use KEYCLOAK_MODE=distribution")
}
