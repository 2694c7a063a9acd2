// Package build is minidocker's Dockerfile builder: docker's classic
// ("legacy") builder, the one the article's section 4 (Dockerfile) shows,
// written as a library. The daemon's POST /build untars the context into a
// directory and calls Build; the CLI side tars a directory with ContextTar
// (which applies .dockerignore).
//
// Where to start reading:
//
//   - build.go: Build, the stage walk (run), and dispatch — one case per
//     instruction, each turning into a config change (commitMeta: an
//     empty_layer history entry such as "/bin/sh -c #(nop)  CMD [\"sh\"]")
//     or a layer (WORKDIR when missing, COPY/ADD, RUN).
//   - args.go: ARG scoping (global ARGs before FROM, per-stage ARGs,
//     --build-arg, ENV shadowing ARG, the "|N K=V" prefix RUN records).
//   - copy.go: COPY/ADD: resolving sources (globs, symlinks clamped to the
//     context as docker does), the content hash that keys the cache
//     (docker's: name, mode, owner, size, type, link, bytes; no mtime), and
//     layerWriter, which writes the step's upperdir only through os.Root.
//   - rootfs.go: read-only views — the context, and an image as the
//     overlay merge of its layer directories (whiteouts understood) — used
//     by COPY --from, WORKDIR and --chown name lookup.
//   - cache.go: the cache index. A step hits when the parent image, the
//     history line (which carries the sources' content hash for COPY/ADD
//     and the build args for RUN) and the resulting config all match an
//     earlier step whose image still exists. mtime is not part of it, so
//     touching a file keeps the cache; editing it does not.
//   - backend.go: the Backend interface (GetImage, PullImage, LayerDirs,
//     Commit, Tag, Run). store.go is its one real implementation over the
//     image store (StoreBackend), run.go the one RUN implementation
//     (ContainerRun: a container made by package libcontainer). The daemon
//     (daemon/build.go) combines them with its registry settings, cgroup
//     parent and a bridge endpoint per RUN; this package's tests use the
//     same two with --network none, or an in-memory fake (fake_test.go).
//
// Parsing is package dockerfile's (the stages and their typed
// instructions); word expansion ($VAR, quotes) uses buildkit's shell
// lexer, the one docker uses. Our code does the walk.
//
// Output is the classic builder's text: "Step 2/7 : COPY …", " ---> Using
// cache", " ---> Running in 0123456789ab", "Removing intermediate container
// …", " ---> 1a2b3c4d5e6f", "Successfully built …", "Successfully tagged …".
// Each Write to Options.Out is one message (dockerd sends "Step …" and its
// "\n" as two), so the API layer can wrap each in {"stream":…}.
//
// Differences from docker worth knowing: config-only steps print "Running
// in <id>" like docker but no container is created for them (the ID only
// names the step, and is recorded as the image's legacy "container");
// COPY/ADD are written by the builder itself, not through a container;
// the source hash in "COPY file:<hash> in /dst" is docker's (tarsum v1 of
// the context entries, see entrySum) for context sources, so the fixture's
// history matches byte for byte; for --from and URL sources the same
// formula is used, but docker's own values there depend on host user names;
// heredocs and RUN --mount/--network flags (BuildKit features) are refused.
package build
