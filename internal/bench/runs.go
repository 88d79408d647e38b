package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/metrics"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// CaseResult is one phase of a run: one case of the workload.
type CaseResult struct {
	Stats Stats
	// AdminCalls is Keycloak admin calls per webhook (token requests excluded).
	AdminCalls float64
	// Outcomes counts the bridge's answers (status, or error code); raw runs leave it nil.
	Outcomes map[string]int
	// HandlerSeconds and UpstreamSeconds are the bridge's time answering and its time
	// waiting on Keycloak and Bonbon, summed over the phase (bridge runs only).
	HandlerSeconds, UpstreamSeconds float64
	// KeycloakCPU is the CPU seconds Keycloak's JVM used during the phase; BridgeCPU the
	// bridge process' (bridge runs only).
	KeycloakCPU, BridgeCPU float64
	// Upstream is the time per upstream endpoint ("keycloak /admin/realms/{realm}/users").
	Upstream map[string]Timing
}

// Timing is calls to one endpoint and the seconds they took, summed.
type Timing struct{ Calls, Seconds float64 }

// upstreamTimings splits a scrape difference by upstream endpoint.
func upstreamTimings(d metrics.Scrape) map[string]Timing {
	out := map[string]Timing{}
	for _, up := range []string{metrics.Keycloak, metrics.Bonbon} {
		secs := d.By("bonbon_bridge_upstream_request_duration_seconds_sum", "endpoint",
			"upstream", up)
		calls := d.By("bonbon_bridge_upstream_request_duration_seconds_count", "endpoint",
			"upstream", up)
		for ep, n := range calls {
			if n > 0 {
				out[up+" "+ep] = Timing{Calls: n, Seconds: secs[ep]}
			}
		}
	}
	return out
}

// ModeResult is one run of the whole workload, through the bridge or raw.
type ModeResult struct {
	Cases map[Case]CaseResult
	Total Stats
	// TokenRequests are the admin token requests of the run (readiness check included).
	TokenRequests float64
	// PeakRSS is the bridge process' VmHWM in bytes (bridge runs only).
	PeakRSS int64
}

// OwnShare is the fraction of the bridge's answering time not spent waiting on Keycloak
// or Bonbon, over the run.
func (m ModeResult) OwnShare() float64 {
	var handler, upstream float64
	for _, c := range m.Cases {
		handler += c.HandlerSeconds
		upstream += c.UpstreamSeconds
	}
	if handler == 0 {
		return 0
	}
	return (handler - upstream) / handler
}

// OwnPerWebhook is the bridge's own time per webhook.
func (m ModeResult) OwnPerWebhook() time.Duration {
	var own float64
	for _, c := range m.Cases {
		own += c.HandlerSeconds - c.UpstreamSeconds
	}
	if m.Total.N == 0 {
		return 0
	}
	return time.Duration(own / float64(m.Total.N) * float64(time.Second))
}

// bridgeRun provisions a realm, starts a bridge process for it and delivers the
// workload's three phases at concurrency c.
func (b *bencher) bridgeRun(ctx context.Context, c int, tag string) (ModeResult, error) {
	realm, secret := "bench-"+tag, randomHex(16)
	if err := b.admin.provision(ctx, realm, secret); err != nil {
		return ModeResult{}, err
	}
	defer func() { _ = b.admin.deleteRealm(context.Background(), realm) }()
	for _, raw := range b.work.Users {
		if err := b.sim.PutUser(raw); err != nil {
			return ModeResult{}, err
		}
	}
	logf, err := os.Create(filepath.Join(b.opts.WorkDir, "bridge-"+tag+".log"))
	if err != nil {
		return ModeResult{}, err
	}
	defer logf.Close()
	p, err := startBridge(ctx, b.opts.BridgeBin, map[string]string{
		"KEYCLOAK_URL": b.kc.URL, "KEYCLOAK_REALM": realm, "KEYCLOAK_CLIENT_SECRET": secret,
		"BONBON_API_URL": b.simURL + "/v1", "BONBON_CLIENT_ID": simClientID,
		"BONBON_API_KEY": simAPIKey,
	}, logf)
	if err != nil {
		return ModeResult{}, err
	}
	defer p.stop()

	res, err := b.bridgePhases(ctx, p, c)
	if err != nil {
		return res, err
	}
	res.PeakRSS, err = p.peakRSS()
	return res, err
}

func (b *bencher) bridgePhases(ctx context.Context, p *bridgeProc, c int) (ModeResult, error) {
	res := ModeResult{Cases: map[Case]CaseResult{}}
	client := loadClient(c)
	before, err := p.scrape(ctx)
	if err != nil {
		return res, err
	}
	for _, kase := range Cases {
		if kase == CaseChanged {
			for _, raw := range b.work.Changed {
				if err := b.sim.PutUser(raw); err != nil {
					return res, err
				}
			}
		}
		order := b.work.Order[kase]
		kcBefore, err := b.keycloakCPU()
		if err != nil {
			return res, err
		}
		var mu sync.Mutex
		outcomes := map[string]int{}
		st := runJobs(ctx, len(order), c, func(ctx context.Context, i int) error {
			outcome, err := postWebhook(ctx, client, p.URL, b.tokens[order[i]])
			mu.Lock()
			outcomes[outcome]++
			mu.Unlock()
			return err
		})
		kcAfter, err := b.keycloakCPU()
		if err != nil {
			return res, err
		}
		after, err := p.scrape(ctx)
		if err != nil {
			return res, err
		}
		d := after.Sub(before)
		before = after
		res.Cases[kase] = CaseResult{Stats: st, Outcomes: outcomes,
			KeycloakCPU: kcAfter - kcBefore, BridgeCPU: d.Sum("process_cpu_seconds_total"),
			AdminCalls: adminCalls(d) / float64(max(st.N, 1)),
			HandlerSeconds: d.Sum("bonbon_bridge_http_request_duration_seconds_sum",
				"route", "/webhooks/bonbon"),
			UpstreamSeconds: d.Sum("bonbon_bridge_upstream_request_duration_seconds_sum"),
			Upstream:        upstreamTimings(d),
		}
		res.Total = Merge(res.Total, st)
	}
	res.TokenRequests = before.Sum("bonbon_bridge_keycloak_token_requests_total")
	return res, nil
}

// adminCalls counts Keycloak calls other than token requests in a scrape difference.
func adminCalls(d metrics.Scrape) float64 {
	return d.Sum("bonbon_bridge_upstream_requests_total", "upstream", metrics.Keycloak) -
		d.Sum("bonbon_bridge_keycloak_token_requests_total")
}

// loadClient keeps one connection per worker alive, as Bonbon's senders would.
func loadClient(c int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(c, 2)
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

// postWebhook delivers one webhook and returns the bridge's status or error code.
func postWebhook(ctx context.Context, hc *http.Client, bridgeURL, token string,
) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, bridgeURL+"/webhooks/bonbon",
		http.NoBody)
	if err != nil {
		return "error", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return "transport_error", err
	}
	defer resp.Body.Close()
	var body struct{ Status, Error string }
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(data, &body)
	if resp.StatusCode != http.StatusOK {
		return body.Error, fmt.Errorf("webhook answered %d %s", resp.StatusCode, body.Error)
	}
	return body.Status, nil
}

// rawRun provisions a realm and issues the workload as the fewest admin calls, with
// the same HTTP client settings as the bridge, measured by the same transport.
func (b *bencher) rawRun(ctx context.Context, c int, tag string) (ModeResult, error) {
	realm, secret := "bench-"+tag, randomHex(16)
	if err := b.admin.provision(ctx, realm, secret); err != nil {
		return ModeResult{}, err
	}
	defer func() { _ = b.admin.deleteRealm(context.Background(), realm) }()
	met := metrics.New()
	raw := newRawClient(b.kc.URL, realm, secret, met.InstrumentClient(upstreamClient(),
		metrics.Keycloak))
	desired, err := b.desired()
	if err != nil {
		return ModeResult{}, err
	}
	res := ModeResult{Cases: map[Case]CaseResult{}}
	var before metrics.Scrape
	for _, kase := range Cases {
		order := b.work.Order[kase]
		kcBefore, err := b.keycloakCPU()
		if err != nil {
			return res, err
		}
		st := runJobs(ctx, len(order), c, func(ctx context.Context, i int) error {
			u := order[i]
			switch kase {
			case CaseNew:
				return raw.create(ctx, desired[0][u])
			case CaseChanged:
				return raw.update(ctx, desired[1][u], true)
			}
			return raw.update(ctx, desired[1][u], false)
		})
		after, err := met.Read()
		if err != nil {
			return res, err
		}
		kcAfter, err := b.keycloakCPU()
		if err != nil {
			return res, err
		}
		d := after.Sub(before)
		res.Cases[kase] = CaseResult{Stats: st, Upstream: upstreamTimings(d),
			KeycloakCPU: kcAfter - kcBefore,
			AdminCalls:  adminCalls(d) / float64(max(st.N, 1))}
		before = after
		res.Total = Merge(res.Total, st)
	}
	res.TokenRequests = before.Sum("bonbon_bridge_keycloak_token_requests_total")
	return res, nil
}

// desired maps every user, first and changed, before the clock starts.
func (b *bencher) desired() ([2][]mapping.Desired, error) {
	var out [2][]mapping.Desired
	for k, set := range [][]json.RawMessage{b.work.Users, b.work.Changed} {
		for _, raw := range set {
			d, err := Desired(b.mapping, raw)
			if err != nil {
				return out, err
			}
			out[k] = append(out[k], d)
		}
	}
	return out, nil
}

// decodeJSON reads a bounded JSON answer.
func decodeJSON(r io.Reader, v any) error {
	return json.NewDecoder(io.LimitReader(r, 64<<10)).Decode(v)
}

// keycloakCPU is the CPU time Keycloak's JVM has used, found by its port argument.
func (b *bencher) keycloakCPU() (float64, error) {
	return cpuSeconds("--http-port=" + b.kc.URL[strings.LastIndexByte(b.kc.URL, ':')+1:])
}
