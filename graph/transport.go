package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	gqlcode "github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// postJSON is the POST transport of application/json requests: gqlgen's
// transport.POST, but writing the answer without passing the data it has
// already encoded through encoding/json again. encoding/json checks and
// compacts every json.RawMessage it is given, which for a page of records
// is a second scan of the whole answer and about a tenth of the server's
// time per request. Everything else (content negotiation, status codes,
// error answers) is as transport.POST's.
type postJSON struct{}

var _ graphql.Transport = postJSON{}

const (
	contentJSON            = "application/json"
	contentGraphQLResponse = "application/graphql-response+json"
)

// Supports reports whether r is a POST of a JSON body that is not a
// WebSocket upgrade.
func (postJSON) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPost && mediaType == contentJSON
}

// Do runs the request's operation and writes its answer.
func (postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	// The data is written as the resolvers encoded it, with <, > and &
	// in strings as they are (encoding/json would escape them): no
	// browser may take the answer for anything but JSON.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	start := graphql.Now()

	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)}))
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %+v body:%s", err, body)}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	oc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		status := http.StatusOK
		if gqlcode.GetErrorKind(opErr) == gqlcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if contentType == contentGraphQLResponse {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, responses(ctx))
}

// responseContentType is the answer's media type as the request's Accept
// header asks (the first of the two it names), application/json when it
// names none or any.
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return contentJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", contentJSON:
			return contentJSON
		case contentGraphQLResponse:
			return contentGraphQLResponse
		}
	}
	return contentGraphQLResponse
}

// responseTail holds the members of a graphql.Response after data, with
// the same names and omissions.
type responseTail struct {
	Label      string         `json:"label,omitempty"`
	Path       ast.Path       `json:"path,omitempty"`
	HasNext    *bool          `json:"hasNext,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// writeResponse writes resp as encoding/json would (errors, data, then the
// rest), copying resp.Data, which the executor produced as compact JSON,
// as it is.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp == nil {
		return
	}
	var buf bytes.Buffer
	buf.Grow(len(resp.Data) + 64)
	buf.WriteByte('{')
	if len(resp.Errors) > 0 {
		buf.WriteString(`"errors":`)
		appendJSON(&buf, resp.Errors)
		buf.WriteByte(',')
	}
	buf.WriteString(`"data":`)
	if len(resp.Data) == 0 {
		buf.WriteString("null")
	} else {
		buf.Write(resp.Data)
	}
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil || len(resp.Extensions) > 0 {
		var tail bytes.Buffer
		appendJSON(&tail, responseTail{Label: resp.Label, Path: resp.Path, HasNext: resp.HasNext, Extensions: resp.Extensions})
		if t := bytes.TrimSpace(tail.Bytes()); len(t) > 2 {
			buf.WriteByte(',')
			buf.Write(t[1 : len(t)-1])
		}
	}
	buf.WriteByte('}')
	_, _ = w.Write(buf.Bytes())
}

// appendJSON writes v as JSON, as encoding/json.Marshal would: HTML
// characters escaped, no newline after it.
func appendJSON(buf *bytes.Buffer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// gqlgen's transport panics here, to the recover of the HTTP
		// server; an error list or extensions map that cannot be
		// encoded is a bug of the server's own.
		panic("graph: encoding an answer: " + err.Error())
	}
	buf.Write(b)
}
