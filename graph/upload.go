package graph

import (
	"context"
	"mime"
	"net/http"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// UploadMutations are the mutations a GraphQL multipart request may run:
// the only ones that take an Upload.
var UploadMutations = map[string]bool{"installPlugin": true, "importRecords": true}

// uploadSlack is what a multipart request may hold besides its file: the
// operations and map parts and the multipart framing.
const uploadSlack = 64 << 10

// reasonUploadRefused tells why a multipart request was refused.
const reasonUploadRefused = "UPLOAD_REFUSED"

type uploadKey struct{}

// isMultipart reports whether r is a GraphQL multipart request.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// routeUploads sends POSTed multipart requests to uploads and everything
// else to api. A multipart request's body may be up to maxUpload (plus
// the operations' room), instead of the JSON body cap; it is
// authenticated, and refused unless its caller may write (an admin or a
// member), before a byte of it is read; its JSON checks are the multipart transport's, and
// operationGuard lets it run nothing but UploadMutations. maxUpload 0
// refuses multipart requests.
func routeUploads(maxUpload int64, api, uploads http.Handler) http.Handler {
	limited := capBody(maxUpload+uploadSlack, uploads)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !isMultipart(r) {
			api.ServeHTTP(w, r)
			return
		}
		if maxUpload <= 0 {
			writeError(w, http.StatusBadRequest, errcode.BadUserInput, reasonUploadRefused, "this server takes no uploads (workspace plugins are off): import files with rapport import")
			return
		}
		limited.ServeHTTP(w, r)
	})
}

// writerUploads refuses, 403 FORBIDDEN, a multipart request of anyone
// who may not write (a viewer), and marks the request's context as an
// upload. Which role each upload mutation needs is checked as for any
// mutation: installPlugin is an admin's, importRecords a member's too.
func writerUploads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := tenancy.FromContext(r.Context())
		if v == nil || !v.Role.CanWrite() {
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusForbidden, errcode.Forbidden, "", "only a workspace admin or member may upload (installPlugin, importRecords)")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), uploadKey{}, true)))
	})
}

// checkUploadOperation refuses a multipart request's operation that runs
// anything but UploadMutations.
func checkUploadOperation(ctx context.Context, op *ast.OperationDefinition, roots []*ast.Field) *gqlerror.Error {
	if up, _ := ctx.Value(uploadKey{}).(bool); !up {
		return nil
	}
	if op.Operation != ast.Mutation {
		return codedError(errcode.BadUserInput, reasonUploadRefused, "a multipart request runs %s only", "installPlugin or importRecords")
	}
	for _, f := range roots {
		if !UploadMutations[f.Name] && f.Name != "__typename" {
			return codedError(errcode.BadUserInput, reasonUploadRefused, "a multipart request runs installPlugin or importRecords only, not %s", f.Name)
		}
	}
	return nil
}
