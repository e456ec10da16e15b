package graph

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// A signed-in member's requests spend a budget of their own, keyed by
// the member, as an API token's do: past its burst (2, with the clock
// stopped so nothing refills) a third is refused with scope "member",
// while another member of the workspace, and the same member's API
// token, still have theirs.
func TestMemberRate(t *testing.T) {
	q := newQuotas(Quotas{TokenRate: 1, TokenBurst: 2, WorkspaceRate: 100, WorkspaceBurst: 100}, 0)
	now := time.Unix(1_800_000_000, 0)
	q.now = func() time.Time { return now }
	h := q.requests(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	ws := pulid.New("WS")
	ann, bob := pulid.New("MB"), pulid.New("MB")
	send := func(v *tenancy.Viewer) (int, map[string]any) {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r.WithContext(tenancy.NewContext(r.Context(), v)))
		var body struct {
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if rec.Code != http.StatusNoContent {
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("status %d, body %q: %v", rec.Code, rec.Body, err)
			}
			return rec.Code, body.Errors[0].Extensions
		}
		return rec.Code, nil
	}
	session := func(m pulid.ID) *tenancy.Viewer {
		return &tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleMember, MemberID: m}
	}
	for i, tc := range []struct {
		v     *tenancy.Viewer
		want  int
		scope string
	}{
		{session(ann), http.StatusNoContent, ""},
		{session(ann), http.StatusNoContent, ""},
		{session(ann), http.StatusTooManyRequests, "member"},
		{session(bob), http.StatusNoContent, ""},
		{&tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleMember, MemberID: ann, TokenID: pulid.New("TK")}, http.StatusNoContent, ""},
		{session(ann), http.StatusTooManyRequests, "member"},
	} {
		status, ext := send(tc.v)
		if status != tc.want || (tc.scope != "" && ext["scope"] != tc.scope) {
			t.Errorf("request %d: %d %v, want %d scope %q", i, status, ext, tc.want, tc.scope)
		}
	}
}
