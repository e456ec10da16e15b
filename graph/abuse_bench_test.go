package graph_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

// BenchmarkRefusals measures what the largest abusive requests cost the
// server before they are refused (the abuse tests check that they are
// refused and with which code): a request body to send, a round trip
// through the handler, and the refusal, on SQLite.
//
//	go test ./graph -run '^$' -bench Refusals
func BenchmarkRefusals(b *testing.B) {
	e := newEnv(b, storetest.Dialects[0])
	const q = `query($w: ContactWhereInput) { contacts(where: $w) { totalCount } }`
	ors := make([]any, 100_000)
	for i := range ors {
		ors[i] = map[string]any{"lastName": fmt.Sprint(i)}
	}
	ids := make([]any, 40_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("con_01jd8z2x9t3v4w5y6z7a8b%04d", i%10000)
	}
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&aliases, " r%d: runReport(plugin: \"valuechain\") { title }", i)
	}
	aliases.WriteString(" }")
	for _, c := range []struct{ name, body string }{
		{"3000-nested-not", jsonBody(q, map[string]any{"w": nest(3000)})},
		{"100000-or-branches", jsonBody(q, map[string]any{"w": map[string]any{"or": ors}})},
		{"40000-idIn", jsonBody(q, map[string]any{"w": map[string]any{"idIn": ids}})},
		{"1000-runReport-aliases", jsonBody(aliases.String(), nil)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				r := e.raw(http.MethodPost, "a", c.body)
				if len(r.Errors) == 0 || r.Errors[0].code() != "BAD_USER_INPUT" {
					b.Fatalf("not refused: %+v", r.Errors)
				}
			}
		})
	}
}
