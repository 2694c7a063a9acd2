package registry

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The distribution spec answers every failure with the same JSON shape:
//
//	{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":…}]}
//
// Clients match on the code; docker prints the message (that is where
// "manifest unknown" in `docker pull` output comes from), so the messages
// follow registry:2's wording.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errBlobUnknown() *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "BLOB_UNKNOWN", Message: "blob unknown to registry"}
}

func errUploadUnknown() *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "BLOB_UPLOAD_UNKNOWN", Message: "blob upload unknown to registry"}
}

func errUploadInvalid(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "BLOB_UPLOAD_INVALID", Message: "blob upload invalid", Detail: detail}
}

func errDigestInvalid(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "DIGEST_INVALID", Message: "provided digest did not match uploaded content", Detail: detail}
}

func errManifestUnknown(ref string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "MANIFEST_UNKNOWN", Message: "manifest unknown", Detail: map[string]string{"Reference": ref}}
}

func errManifestInvalid(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "MANIFEST_INVALID", Message: "manifest invalid", Detail: detail}
}

func errManifestBlobUnknown(dgst string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "MANIFEST_BLOB_UNKNOWN", Message: "blob unknown to registry", Detail: map[string]string{"Digest": dgst}}
}

func errNameInvalid(name string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "NAME_INVALID", Message: "invalid repository name", Detail: name}
}

func errNameUnknown(name string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "NAME_UNKNOWN", Message: "repository name not known to registry", Detail: map[string]string{"name": name}}
}

func errTagInvalid(tag string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "MANIFEST_INVALID", Message: "invalid tag", Detail: tag}
}

func errUnsupported(detail string) *apiError {
	return &apiError{Status: http.StatusMethodNotAllowed, Code: "UNSUPPORTED", Message: "The operation is unsupported.", Detail: detail}
}

func errPagination(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "PAGINATION_NUMBER_INVALID", Message: "invalid number of results requested", Detail: detail}
}

func errRangeInvalid(detail string) *apiError {
	return &apiError{Status: http.StatusRequestedRangeNotSatisfiable, Code: "BLOB_UPLOAD_INVALID", Message: "requested range not satisfiable", Detail: detail}
}

func errUnauthorized() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "authentication required"}
}

func errTooLarge(detail string) *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "SIZE_INVALID", Message: "manifest too large", Detail: detail}
}

// writeError sends err in the spec's JSON shape. Errors that are not
// *apiError are our own failures (disk full, …): 500, and logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae, ok := err.(*apiError)
	if !ok {
		s.logf("registry: %s %s: %v", r.Method, r.URL.Path, err)
		ae = &apiError{Status: http.StatusInternalServerError, Code: "UNKNOWN", Message: "unknown error"}
	}
	body, _ := json.Marshal(map[string]any{"errors": []*apiError{ae}})
	// A handler may have set Content-Length: 0 for the success case already.
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ae.Status)
	w.Write(body)
}
