package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// server is one GraphQL server under test.
type server struct {
	name  string
	url   string // its /graphql endpoint
	token string // bearer token, or "" for none
	pid   int    // its process, for CPU
	// bodies are the request bodies of the queries, by query name.
	bodies map[string][]byte
}

// sample is what one load run measured.
type sample struct {
	requests  int
	errors    int
	elapsed   time.Duration
	latencies []time.Duration
	serverCPU time.Duration
	dbCPU     time.Duration
}

func (s *sample) add(o sample) {
	s.requests += o.requests
	s.errors += o.errors
	s.elapsed += o.elapsed
	s.latencies = append(s.latencies, o.latencies...)
	s.serverCPU += o.serverCPU
	s.dbCPU += o.dbCPU
}

func (s sample) rps() float64 { return float64(s.requests) / s.elapsed.Seconds() }

// quantile returns the q-quantile of the latencies (nearest rank).
func (s sample) quantile(q float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	i := int(q*float64(len(l))+0.5) - 1
	return l[min(max(i, 0), len(l)-1)]
}

// perRequest is d spread over the sample's requests.
func (s sample) perRequest(d time.Duration) time.Duration {
	if s.requests == 0 {
		return 0
	}
	return d / time.Duration(s.requests)
}

func newClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			DisableCompression:  true,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// post sends one request and returns its body.
func post(ctx context.Context, c *http.Client, srv *server, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if srv.token != "" {
		req.Header.Set("Authorization", "Bearer "+srv.token)
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%s answered %d: %.300s", srv.name, res.StatusCode, out)
	}
	return out, nil
}

// load sends body to srv from concurrency clients for warmup (not
// measured), then for d, and returns what it measured. CPU is read from
// /proc before and after the measured part.
func load(ctx context.Context, srv *server, body []byte, concurrency int, warmup, d time.Duration, postmaster int) sample {
	c := newClient(concurrency)
	defer c.CloseIdleConnections()
	run := func(d time.Duration, keep bool) sample {
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			out sample
		)
		start := time.Now()
		deadline := start.Add(d)
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine sample
				for time.Now().Before(deadline) && ctx.Err() == nil {
					t0 := time.Now()
					b, err := post(ctx, c, srv, body)
					lat := time.Since(t0)
					if err != nil || bytes.Contains(b, []byte(`"errors"`)) {
						mine.errors++
						continue
					}
					mine.requests++
					if keep {
						mine.latencies = append(mine.latencies, lat)
					}
				}
				mu.Lock()
				out.requests += mine.requests
				out.errors += mine.errors
				out.latencies = append(out.latencies, mine.latencies...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		out.elapsed = time.Since(start)
		return out
	}
	run(warmup, false)
	cpu0, db0 := processCPU(srv.pid), clusterCPU(postmaster)
	s := run(d, true)
	s.serverCPU = processCPU(srv.pid) - cpu0
	s.dbCPU = clusterCPU(postmaster) - db0
	return s
}

// idsOf returns, in document order, every string value under an "id" key
// of a GraphQL response, after checking it has data and no errors.
func idsOf(body []byte) ([]string, error) {
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	if len(env.Errors) > 0 || len(env.Data) == 0 {
		return nil, fmt.Errorf("response has errors or no data: %.300s", body)
	}
	dec := json.NewDecoder(bytes.NewReader(env.Data))
	var ids []string
	wantValue := false
	inObject := []bool{}
	expectKey := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				inObject = append(inObject, true)
				expectKey = true
			case '[':
				inObject = append(inObject, false)
				expectKey = false
			default:
				inObject = inObject[:len(inObject)-1]
				expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
			}
			wantValue = false
			continue
		case string:
			if expectKey {
				wantValue = t == "id"
				expectKey = false
				continue
			}
			if wantValue {
				ids = append(ids, t)
			}
		}
		wantValue = false
		expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
	}
	return ids, nil
}
