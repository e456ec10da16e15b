package chart

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/pulid"
)

// Handler serves the charts over HTTP for dashboards:
//
//	GET …/{kind}.{svg|png}?from=2025-01&to=2025-12&period=month&segment=ID&owner=ID&pipeline=ID&window=1
//
// kind is churn, retention, clv, conversion, forecast or cohorts; the
// query parameters are those of `rapport metrics` (from and to as years,
// months, days or RFC 3339 times, to inclusive; both optional). Only the
// last element of the path counts, so the handler can be mounted at any
// prefix (e.g. mux.Handle("/charts/", h)).
//
// The handler answers for the workspace of the tenancy.Viewer in the
// request's context: mount it behind the server's authentication. Errors
// are JSON, shaped like GraphQL errors, with extensions.code.
func Handler(svc *metrics.Service) http.Handler {
	return &handler{svc: svc}
}

type handler struct{ svc *metrics.Service }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, errcode.New(errcode.BadUserInput, "charts are read with GET"), http.StatusMethodNotAllowed)
		return
	}
	name, ext, ok := strings.Cut(path.Base(r.URL.Path), ".")
	if !ok {
		ext = "svg"
	}
	kind, err := ParseKind(name)
	if err != nil {
		writeError(w, err, 0)
		return
	}
	format, err := ParseFormat(ext)
	if err != nil {
		writeError(w, err, 0)
		return
	}
	q, err := QueryFromValues(r.URL.Query(), kind, time.Now())
	if err != nil {
		writeError(w, err, 0)
		return
	}
	fig, err := Draw(r.Context(), h.svc, kind, q)
	if err != nil {
		writeError(w, err, 0)
		return
	}
	var buf bytes.Buffer
	if err := fig.WriteTo(&buf, format); err != nil {
		writeError(w, err, 0)
		return
	}
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Cache-Control", "private, max-age=60")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// QueryFromValues reads a metrics query from URL parameters: from, to,
// period, segment, owner, pipeline and window. The forecast's default
// range looks forward from now; the others look back.
func QueryFromValues(v map[string][]string, kind Kind, now time.Time) (metrics.Query, error) {
	get := func(k string) string {
		if vs := v[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	period, err := metrics.ParsePeriod(get("period"))
	if err != nil {
		return metrics.Query{}, err
	}
	from, to, err := metrics.ParseRange(get("from"), get("to"), period, now, kind == Forecast)
	if err != nil {
		return metrics.Query{}, err
	}
	q := metrics.Query{From: from, To: to, Period: period}
	for _, f := range []struct {
		param string
		dst   *pulid.ID
	}{{"owner", &q.Filter.OwnerID}, {"pipeline", &q.Filter.PipelineID}} {
		if s := get(f.param); s != "" {
			id, err := pulid.Parse(s)
			if err != nil {
				return q, errcode.Input(f.param, "%v", err)
			}
			*f.dst = id
		}
	}
	if err := metrics.ParseSegment(get("segment"), &q.Filter); err != nil {
		return q, errcode.Input("segment", "%v", err)
	}
	if s := get("window"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, errcode.Input("window", "the activity window is a number of periods, not %q", s)
		}
		q.ActiveWindow = n
	}
	return q.Normalized()
}

func writeError(w http.ResponseWriter, err error, status int) {
	code := errcode.Of(err)
	if status == 0 {
		switch code {
		case errcode.BadUserInput:
			status = http.StatusBadRequest
		case errcode.Unauthenticated:
			status = http.StatusUnauthorized
		case errcode.Forbidden:
			status = http.StatusForbidden
		case errcode.NotFound:
			status = http.StatusNotFound
		case errcode.Unavailable:
			status = http.StatusServiceUnavailable
		default:
			status = http.StatusInternalServerError
		}
	}
	msg, _ := errcode.Public(code, err)
	if status == http.StatusInternalServerError {
		msg = errcode.MsgInternal
	}
	ext := map[string]any{"code": code}
	if f := errcode.FieldOf(err); f != "" {
		ext["field"] = f
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": msg, "extensions": ext}}})
}
