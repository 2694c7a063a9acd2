// Package errdefs classifies errors the way the Docker Engine API does, so
// every layer can say "this is a not-found" and the API turns it into the
// status code the docker CLI expects (404, 409, 400, 500, 304).
//
// Start reading at Kind. The kind is set where the error is made: a daemon
// function returns errdefs.NotFound("No such container: %s", id), the
// network package errdefs.Conflict("network with name %s already exists",
// name). Wrapping with fmt.Errorf("...: %w", err) keeps the kind, so no
// layer above has to guess it from the message. The API turns kinds into
// status codes in one place (api.httpStatus).
package errdefs
