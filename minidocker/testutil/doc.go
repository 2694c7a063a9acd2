// Package testutil holds what every minidocker test shares: the rule for
// root-only tests and (in daemon.go) a harness that starts an isolated
// daemon for one test.
//
// Start reading at RequireRoot: root tests skip for a normal user, but under
// CI (CI=true) a skip would hide a broken feature, so there it is a failure.
package testutil
