package graph

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckBody: the request body checks never panic, and a body they
// accept decodes as a GraphQL request of valid strings without NUL.
func FuzzCheckBody(f *testing.F) {
	for _, s := range []string{`{"query":"{ viewer { role } }"}`, `[{}]`, `{"query":"x","variables":{"a":"\ud800\udc00"}}`,
		`{"query":"x","variables":{"a":"\u0000"}}`, `{"a":"\\u0000"}`, `}}]]`, `{"query":1}`, "{\"query\":\"\xff\"}", `{"variables":[[[[[]]]]]}`} {
		f.Add([]byte(s))
	}
	l := Limits{}.withDefaults()
	f.Fuzz(func(t *testing.T, body []byte) {
		if reason, _ := checkBody(body, l); reason != "" {
			return
		}
		var req struct {
			Query     *string        `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("accepted %q, which does not decode: %v", body, err)
		}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				if strings.ContainsRune(x, 0) || strings.ContainsRune(x, utf8.RuneError) && !strings.Contains(string(body), "\ufffd") && !strings.Contains(strings.ToLower(string(body)), `\ufffd`) {
					t.Fatalf("accepted %q, which decodes to %q", body, x)
				}
			case map[string]any:
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(req.Variables)
	})
}
