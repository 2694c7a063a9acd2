// Package dockerfile reads a Dockerfile into stages of typed instructions:
// the language the article's section 4 (Dockerfile) teaches, parsed by
// hand. Package build walks what Parse returns; the words of an instruction
// ($VAR, quotes) are expanded later, by the builder, with buildkit's shell
// lexer.
//
// Where to start reading:
//
//   - parse.go: Parse, the two passes. The line reader (reader.go) turns the
//     file into logical lines: parser directives at the very top
//     ("# escape=`", "# syntax=…"), comments dropped, lines ending in the
//     escape character joined with the next, heredoc bodies attached.
//   - line.go: one logical line split into its instruction name, its
//     --flags and its arguments, with the rule each instruction uses for
//     them: the JSON ("exec") form or shell form for RUN, CMD,
//     ENTRYPOINT and SHELL, a word list for COPY, ADD, VOLUME, FROM and
//     EXPOSE, name=value pairs for ENV and LABEL, the whole rest for
//     USER, WORKDIR, MAINTAINER and STOPSIGNAL.
//   - instructions.go: each line checked and turned into its Command type
//     (commands.go), flags read by flags.go; FROM starts a Stage, and ARGs
//     before the first FROM are the file's global ARGs.
//
// The rules and the messages are docker's: the parser dockerd's classic
// builder uses (buildkit's frontend/dockerfile), quirks included, so that
// a Dockerfile builds, or fails with the same words, here and there. The
// differential test (diff_test.go) holds the two side by side.
// BuildKit-only syntax is read but not acted on here: RUN's --mount,
// --network, --security and --device, and heredocs, reach the builder,
// which refuses them as the classic builder does.
package dockerfile
