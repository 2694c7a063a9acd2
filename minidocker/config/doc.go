// Package config is the daemon's configuration: the article's section 2
// (installing Docker) edits /etc/docker/daemon.json to add registry mirrors
// and insecure registries; minidocker reads /etc/minidocker/daemon.json with
// the same keys.
//
// Start reading at Default (every setting and its default), then Load (the
// file is strict: an unknown key or a wrong type stops the daemon, naming the
// file and the key, because a silently ignored typo is worse than no start).
package config
