// Package detachkeys is the key sequence that leaves a container's terminal
// without stopping it: Ctrl-P Ctrl-Q by default, `--detach-keys` on run,
// start, attach and exec. It belongs to the article's section 3
// (containers: run -ti, attach).
//
// Start reading at Parse (docker's spelling of a sequence: "ctrl-p,ctrl-q",
// "ctrl-x,x", "DEL"), then Reader, which watches a client's keystrokes.
//
// Both ends watch, as in docker: the CLI, so that it stops at once and
// gives the terminal back (exit 0 for run and start; attach and exec
// report "read escape sequence"); and the daemon, for a client that sends
// the keys as they are (a raw API client). The daemon then ends that one
// attachment and the container runs on: its terminal is never closed by a
// client going away.
package detachkeys
