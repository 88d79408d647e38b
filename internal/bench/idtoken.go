package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/metrics"
)

// IDTokenResult is GET /bonbon/id-token at one concurrency: every user's first request
// (cache misses: a link lookup in Keycloak and a mint at Bonbon), then repeated requests
// (cache hits: token verification only).
type IDTokenResult struct {
	Repeat, Concurrency int
	Miss, Hit           Stats
	// MissMints and HitMints are Bonbon /v1/jwt calls during each phase.
	MissMints, HitMints float64
	// CacheHits and CacheMisses are the bridge's own counters over both phases; zero
	// when the ID-token flow does not report them.
	CacheHits, CacheMisses float64
}

const benchWebClient = "bench-web"

// idTokenRuns logs users in once, then measures a fresh bridge (empty cache) per level.
func (b *bencher) idTokenRuns(ctx context.Context, rep *Report) error {
	realm, secret := "bench-idtoken", randomHex(16)
	if err := b.admin.provision(ctx, realm, secret); err != nil {
		return err
	}
	defer func() { _ = b.admin.deleteRealm(context.Background(), realm) }()
	b.logf("ID token: logging %d users in", b.opts.IDTokenUsers)
	tokens, err := b.loginUsers(ctx, realm)
	if err != nil {
		return err
	}
	for r := 1; r <= b.opts.Repeats; r++ {
		for _, c := range b.opts.Concurrency {
			res, err := b.idTokenRun(ctx, realm, secret, tokens, c)
			if err != nil {
				return fmt.Errorf("id token r%d c%d: %w", r, c, err)
			}
			res.Repeat = r
			rep.IDToken = append(rep.IDToken, res)
			b.logf("id token r%d c%d: misses %.0f/s, hits %.0f/s", r, c, res.Miss.PerSecond(),
				res.Hit.PerSecond())
		}
	}
	return nil
}

// loginUsers makes a public client with direct grants and IDTokenUsers users, and
// returns one access token per user (valid an hour: the realm's lifespan is raised).
func (b *bencher) loginUsers(ctx context.Context, realm string) ([]string, error) {
	gc := b.admin.gc
	tok, err := b.admin.token(ctx)
	if err != nil {
		return nil, err
	}
	if err := gc.UpdateRealm(ctx, tok, gocloak.RealmRepresentation{Realm: &realm,
		AccessTokenLifespan: gocloak.IntP(3600)}); err != nil {
		return nil, fmt.Errorf("raise token lifespan: %w", err)
	}
	if _, err := gc.CreateClient(ctx, tok, realm, gocloak.Client{
		ClientID: gocloak.StringP(benchWebClient), PublicClient: gocloak.BoolP(true),
		DirectAccessGrantsEnabled: gocloak.BoolP(true), StandardFlowEnabled: gocloak.BoolP(false),
	}); err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	var tokens []string
	for i := range b.opts.IDTokenUsers {
		name, pw := fmt.Sprintf("reader-%04d", i), randomHex(12)
		_, err := gc.CreateUser(ctx, tok, realm, gocloak.User{
			Username: &name, Email: gocloak.StringP(name + "@example.com"),
			EmailVerified: gocloak.BoolP(true), FirstName: gocloak.StringP("Reader"),
			LastName: gocloak.StringP(fmt.Sprint(i)), Enabled: gocloak.BoolP(true),
			Credentials: &[]gocloak.CredentialRepresentation{{Type: gocloak.StringP("password"),
				Value: &pw, Temporary: gocloak.BoolP(false)}},
		})
		if err != nil {
			return nil, fmt.Errorf("create user: %w", err)
		}
		jwt, err := gc.Login(ctx, benchWebClient, "", realm, name, pw)
		if err != nil {
			return nil, fmt.Errorf("log %s in: %w", name, err)
		}
		tokens = append(tokens, jwt.AccessToken)
	}
	return tokens, nil
}

func (b *bencher) idTokenRun(ctx context.Context, realm, secret string, tokens []string,
	c int) (IDTokenResult, error) {
	res := IDTokenResult{Concurrency: c}
	logf, err := os.Create(filepath.Join(b.opts.WorkDir, fmt.Sprintf("bridge-idtoken-c%d.log", c)))
	if err != nil {
		return res, err
	}
	defer logf.Close()
	p, err := startBridge(ctx, b.opts.BridgeBin, map[string]string{
		"KEYCLOAK_URL": b.kc.URL, "KEYCLOAK_REALM": realm, "KEYCLOAK_CLIENT_SECRET": secret,
		"BONBON_API_URL": b.simURL + "/v1", "BONBON_CLIENT_ID": simClientID,
		"BONBON_API_KEY": simAPIKey, "BRIDGE_IDTOKEN_CLIENTS": benchWebClient,
	}, logf)
	if err != nil {
		return res, err
	}
	defer p.stop()
	client := loadClient(c)
	before, err := p.scrape(ctx)
	if err != nil {
		return res, err
	}
	phase := func(n int) (Stats, float64, error) {
		st := runJobs(ctx, n, c, func(ctx context.Context, i int) error {
			return getIDToken(ctx, client, p.URL, tokens[i%len(tokens)])
		})
		after, err := p.scrape(ctx)
		if err != nil {
			return st, 0, err
		}
		mints := after.Sub(before).Sum("bonbon_bridge_upstream_requests_total",
			"upstream", metrics.Bonbon, "endpoint", "/v1/jwt")
		before = after
		return st, mints, nil
	}
	if res.Miss, res.MissMints, err = phase(len(tokens)); err != nil {
		return res, err
	}
	if res.Hit, res.HitMints, err = phase(b.opts.IDTokenRequests); err != nil {
		return res, err
	}
	res.CacheHits = before.Sum("bonbon_bridge_idtoken_cache_requests_total", "result", "hit")
	res.CacheMisses = before.Sum("bonbon_bridge_idtoken_cache_requests_total", "result", "miss")
	if res.Miss.Errors+res.Hit.Errors > 0 {
		return res, fmt.Errorf("%d requests failed (see %s)", res.Miss.Errors+res.Hit.Errors,
			logf.Name())
	}
	return res, nil
}

func getIDToken(ctx context.Context, hc *http.Client, bridgeURL, accessToken string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, bridgeURL+"/bonbon/id-token", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct{ Token, Error string }
	_ = decodeJSON(resp.Body, &body)
	if resp.StatusCode != http.StatusOK || body.Token == "" {
		return fmt.Errorf("id token: status %d %s", resp.StatusCode, body.Error)
	}
	return nil
}
