package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/core/errcode"
)

// capBody refuses, with 413, a request whose body is over max bytes, before
// anything else reads it (authentication included), and cuts off a body
// that turns out longer than it said.
func capBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			tooLarge(w, max)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), methodKey{}, r.Method)))
	})
}

func tooLarge(w http.ResponseWriter, max int64) {
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, errcode.BadUserInput, reasonBodyTooLarge,
		"the request body is over "+strconv.FormatInt(max, 10)+" bytes")
}

// checkRequest reads a GraphQL request's body (capped by capBody) and
// refuses, with 400 and BAD_USER_INPUT, one that is not a single JSON
// object of valid UTF-8 (a batched array, bare NaN, trailing garbage), or
// whose strings hold NUL characters or lone UTF-16 surrogates. GET
// requests' parameters are held to the same rules about strings.
func checkRequest(limits Limits, next http.Handler) http.Handler {
	max := limits.MaxBody
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			body, err := io.ReadAll(r.Body)
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				tooLarge(w, max)
				return
			}
			if err != nil {
				writeError(w, http.StatusBadRequest, errcode.BadUserInput, reasonBadBody, "the request body could not be read")
				return
			}
			if reason, msg := checkBody(body, limits); reason != "" {
				writeError(w, http.StatusBadRequest, errcode.BadUserInput, reason, msg)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		case http.MethodGet:
			for _, vs := range r.URL.Query() {
				for _, v := range vs {
					if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
						writeError(w, http.StatusBadRequest, errcode.BadUserInput, reasonInvalidValue, "request parameters must be valid UTF-8 without NUL characters")
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkBody returns why body is not an acceptable GraphQL request, or "".
func checkBody(body []byte, l Limits) (reason, msg string) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return reasonBatchedRequest, "batched requests are not supported: send one operation per request"
	}
	if !utf8.Valid(body) {
		return reasonBadBody, "the request body is not valid UTF-8"
	}
	// Measured first, as it is the cheapest pass: a huge filter is
	// refused before anything else reads it. The request's envelope nests
	// variables two levels down.
	if msg := checkShape(body, l.MaxInputDepth+2, l.MaxInputList); msg != "" {
		return reasonInputLimit, msg
	}
	if !json.Valid(body) {
		return reasonBadBody, "the request body is not JSON (NaN and Infinity are not JSON numbers)"
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return reasonBadBody, "the request body must be a JSON object: {\"query\": …, \"variables\": {…}}"
	}
	if msg := checkEnvelope(body); msg != "" {
		return reasonBadBody, msg
	}
	if msg := checkEscapes(body); msg != "" {
		return reasonInvalidValue, msg
	}
	return "", ""
}

// checkShape measures a JSON text without decoding it (it need not be
// valid; json.Valid decides that afterwards): it refuses
// one nested deeper than maxDepth or with an array longer than maxList, so
// a huge filter costs a scan, not the allocations of decoding it.
func checkShape(b []byte, maxDepth, maxList int) string {
	type level struct {
		array bool
		n     int // values seen in an array
		empty bool
	}
	var stack []level
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if len(stack) > 0 && stack[len(stack)-1].array && stack[len(stack)-1].empty {
				stack[len(stack)-1].empty = false
				stack[len(stack)-1].n = 1
			}
			stack = append(stack, level{array: b[i] == '[', empty: true})
			if len(stack) > maxDepth {
				return "input nests deeper than the limit of " + strconv.Itoa(maxDepth-2) + " levels"
			}
			continue
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		case ',':
			if top := len(stack) - 1; top >= 0 && stack[top].array {
				if stack[top].n++; stack[top].n > maxList {
					return "a list is longer than the limit of " + strconv.Itoa(maxList) + " values"
				}
			}
			continue
		case ' ', '\t', '\r', '\n':
			continue
		}
		// any other value start inside an array counts as its first value
		if top := len(stack) - 1; top >= 0 && stack[top].array && stack[top].empty {
			stack[top].empty = false
			stack[top].n = 1
		}
	}
	return ""
}

// checkEnvelope checks the request object's own members: query a string,
// operationName a string, variables and extensions objects (each may be
// null or absent).
func checkEnvelope(body []byte) string {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return "the request body must be a JSON object"
	}
	kind := func(raw json.RawMessage) byte {
		if len(raw) == 0 {
			return 'n'
		}
		return raw[0]
	}
	for _, m := range []struct {
		name string
		want byte
	}{{"query", '"'}, {"operationName", '"'}, {"variables", '{'}, {"extensions", '{'}} {
		// The request is decoded into a struct, whose member names match
		// case-insensitively ("querY" is query): check every spelling.
		for key, raw := range env {
			if !strings.EqualFold(key, m.name) || kind(raw) == 'n' || kind(raw) == m.want {
				continue
			}
			what := "a string"
			if m.want == '{' {
				what = "an object"
			}
			return m.name + " must be " + what
		}
	}
	return ""
}

// checkEscapes finds \u escapes in the strings of a valid JSON text that
// decode to NUL or to half of a UTF-16 surrogate pair (which a decoder
// would silently replace).
func checkEscapes(b []byte) string {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 < len(b) && b[i+1] != 'u' {
			i++ // a two-character escape such as \\ or \"
			continue
		}
		r, ok := hex4(b, i+2)
		if !ok {
			continue
		}
		switch {
		case r == 0:
			return "strings may not hold NUL characters (\\u0000)"
		case r >= 0xDC00 && r <= 0xDFFF:
			return "strings may not hold a lone UTF-16 surrogate"
		case r >= 0xD800 && r <= 0xDBFF:
			lo, ok := rune(0), false
			if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				lo, ok = hex4(b, i+8)
			}
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return "strings may not hold a lone UTF-16 surrogate"
			}
			i += 6
		}
		i += 5
	}
	return ""
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// writeError answers with one GraphQL-shaped error.
func writeError(w http.ResponseWriter, status int, code errcode.Code, reason, msg string) {
	ext := map[string]any{"code": string(code)}
	if reason != "" {
		ext["reason"] = reason
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": msg, "extensions": ext}}})
}
