// Package registry is minidocker's own image registry server: the thing the
// article starts with `docker run -d -p 5000:5000 registry:2` in section 3
// ("images & registry", the private-registry part; the course text is
// chapters/03-core-operations/images-and-registry.md). `minidocker registry
// serve` runs it.
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
// Choices worth knowing (and how registry:2 differs):
//
//   - Blob bytes are stored once under blobs/, and each repository has link
//     files saying which blobs it may read. Mounting is creating a link.
//     Deleting a blob removes the link, and the bytes when no repository links
//     them any more (found by a scan, so the disk never holds reference
//     counts a crash could corrupt). registry:2 instead needs an offline
//     `garbage-collect` run.
//   - A mount without ?from= (the spec's "anonymous mount") succeeds when the
//     bytes are stored for any repository. Access control here is all or
//     nothing (one htpasswd file), so this reveals nothing a user could not
//     already read.
//   - Manifests are checked where the spec expects it: the config and layers
//     of an image, the children of an index must already be in the
//     repository, with the right sizes; non-distributable/foreign layers are
//     exempt, and a subject may be missing. The reference registry
//     (distribution v3) fails checks of the conformance profile we pass,
//     in these corners: referrers, subject, sha512, non-distributable.
//   - Upload sessions keep a running sha256 state on disk, so a resumed
//     upload need not be re-read; a sha512 upload is hashed once at the end.
//
// Acceptance is the OCI distribution-spec conformance tool (pinned in
// testdata/conformance/go.mod; run by conformance_test.go and
// scripts/registry-conformance.sh): its full default profile passes with no
// failures, errors or skips, as does its "dev" profile, and so does a run
// with htpasswd auth, TLS and nested repository names.
package registry
