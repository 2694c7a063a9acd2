// Package reference parses image references the way docker does
// ("busybox" is docker.io/library/busybox, "localhost:5000/app:v1",
// "app@sha256:…"): article section 3 (images and registries).
//
// It offers the part of github.com/distribution/reference that minidocker
// uses, with the same types, results and error messages (a test compares
// the two on thousands of inputs), but it reads the grammar with plain
// string scanning instead of regular expressions. The library compiles ten
// regexps when its package initialises, and every minidocker process pays
// for package inits: the CLI, the shim and the container's init alike.
//
// Where to start reading: ParseNormalizedNamed (normalize.go) turns what a
// user typed into a full reference; parse (grammar.go) checks the grammar
//
//	reference := name [ ":" tag ] [ "@" digest ]
//	name      := [ domain "/" ] path-component { "/" path-component }
//
// and reference.go holds the four reference types (a name alone, with a
// tag, with a digest, with both) and the functions around them.
package reference
