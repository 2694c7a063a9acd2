// Package registry is minidocker's own image registry server: the thing the
// article starts with `docker run -d -p 5000:5000 registry:2` in section 3
// ("images & registry", the private-registry part of
// ../shared/seed/docker-intro.zh.txt). `minidocker registry serve` runs it.
//
// A registry is a small HTTP service (the OCI distribution spec, which grew
// out of Docker's "registry v2" API). Everything it stores is
// content-addressed: a blob or manifest is named by the digest of its bytes
// ("sha256:…", or "sha512:…"), and a tag is nothing but a movable name for a
// manifest digest. That is why `docker tag` is free and why two images that
// share a layer upload it only once.
//
// Where to start reading:
//
//   - registry.go  Options, New, Handler, Serve: how the server is put together.
//   - routes.go    the URL space (/v2/<name>/blobs/…, /manifests/…, …) and how a
//     repository name with slashes ("a/b/c") is split from the rest.
//   - uploads.go   pushing a blob: POST starts an upload session, PATCH appends,
//     PUT ?digest= finishes it; the bytes are hashed and refused
//     (DIGEST_INVALID) if they do not match, so nothing wrong is ever stored.
//   - blobs.go     pulling a blob (GET/HEAD with Range), cross-repo mount, delete.
//   - manifests.go image manifests and indexes (OCI and Docker media types), tags,
//     the referrers API and the OCI-Subject header.
//   - lists.go     /v2/_catalog and /v2/<name>/tags/list with n/last pagination.
//   - store.go     the on-disk layout and the one rule that keeps it consistent
//     after a crash: write a temp file, fsync, rename.
//   - auth.go      optional htpasswd (bcrypt) basic auth.
//
// Acceptance is the OCI distribution-spec conformance tool; see
// scripts/registry-conformance.sh and conformance_test.go.
package registry
