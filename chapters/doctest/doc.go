// Package doctest keeps the course text honest: every Dockerfile, console
// transcript, link and code reference in chapters/ is checked against the
// code, so a chapter cannot drift away from what minidocker really does.
// `make doctest` runs it (as root: it needs a daemon) and `make test`
// includes it, because it is an ordinary Go test package.
//
// What a chapter may contain, and what the tests do with it
// (doctest_test.go):
//
//   - A ```dockerfile block is built by a test daemon, with busybox loaded.
//     It must succeed, unless a `<!-- doctest: fails -->` comment precedes
//     it; then the build must fail.
//   - A ```console block is a transcript: `$ command` lines, each followed
//     by the output it prints. Every command runs, in order, against a test
//     daemon of the chapter's own, and its output is compared with the text
//     after masking what differs from run to run (Mask: IDs, digests, times,
//     host ports, sizes; runs of blanks count as one). A line `...` in the
//     text stands for any number of output lines, `...` inside a line for any text.
//   - scripts/demo.sh replays the transcripts, and no chapter keeps a
//     script of its own (TestDemoIsTheTranscripts).
//   - Relative links and named files (`minidocker/cli/build.go`) must
//     exist in the repository; a function named in backticks next to a file
//     (`startInNetns` in `shim_linux.go`) must be declared in that file; and
//     nothing may point outside the repository.
//
// Hidden comments set a block up; they are invisible on a rendered page:
//
//	<!-- doctest: files index.html dist/app.js -->   create these (small) files first
//	<!-- doctest: tag lab/base:1 -->                 tag the image a dockerfile block builds
//	<!-- doctest: fails -->                          this Dockerfile must not build
//	<!-- doctest: save base/Dockerfile -->           also write this Dockerfile there, for a transcript
//	<!-- doctest: setup
//	minidocker run -d --name box busybox sleep 100000
//	-->                                              commands run silently before the block
//	<!-- doctest: cleanup
//	minidocker rm -f box
//	-->                                              commands run at the end of the file
//
// Why a cram-style runner of our own rather than testscript
// (github.com/rogpeppe/go-internal/testscript): testscript files are a
// language of their own (`exec`, `stdout 'regexp'`, `-- file --`
// sections). The transcripts here are what a student types and what the
// screen shows, and they must stay copy-pasteable; writing them as
// testscript would put a second, untested copy next to each chapter, which
// is exactly the drift this package exists to stop. Running a shell line
// and diffing its masked output is a couple of hundred lines (transcript.go),
// and the same parser feeds the demo (replay/, run by `make demo`), so what
// the demo shows and what the chapters show are one text.
//
// Each chapter's transcripts run in a private network namespace with a
// daemon of their own (testutil.StartDaemonInNetns), so fixed ports such as
// `-p 8080:80` or a registry on 127.0.0.1:5000 collide with nothing else on
// the machine. Start reading at Parse (markdown.go), then Steps and Mask
// (transcript.go), then doctest_test.go.
package doctest
