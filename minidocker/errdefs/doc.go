// Package errdefs classifies errors the way the Docker Engine API does, so
// every layer can say "this is a not-found" and the API turns it into the
// status code the docker CLI expects (404, 409, 400, 500, 304).
//
// Start reading at Kind: a daemon function returns errdefs.NotFound("No such
// container: %s", id) and api.writeError maps it with StatusCode.
package errdefs
