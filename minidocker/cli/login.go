package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/minidocker/minidocker/minidocker/reference"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/term"
)

// Credentials live where docker keeps them: $DOCKER_CONFIG/config.json or
// ~/.docker/config.json, under "auths", keyed by registry host, each an
// "auth" field holding base64("user:password"). Docker Hub's key is
// docker's historical "https://index.docker.io/v1/". The file is read and
// written by the docker CLI's own package (github.com/docker/cli/cli/config,
// linked already through go-containerregistry's authn), so a credsStore or
// credHelpers entry sends the secret to a credential helper as docker does;
// without one it is stored unencrypted (the CLI says so).

const dockerHubAuthKey = "https://index.docker.io/v1/"

// LoginCmd is `docker login`.
type LoginCmd struct {
	Username      string `short:"u" help:"Username."`
	Password      string `short:"p" help:"Password."`
	PasswordStdin bool   `name:"password-stdin" help:"Take the password from stdin."`
	Server        string `arg:"" optional:"" name:"server" help:"Registry host[:port]."`
}

// Run checks the credentials with the registry and stores them.
func (c *LoginCmd) Run(g *Globals) error {
	if c.Password != "" {
		fmt.Fprintln(g.stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
		if c.PasswordStdin {
			return errors.New("--password and --password-stdin are mutually exclusive")
		}
	}
	in := bufio.NewReader(g.stdin)
	if c.PasswordStdin {
		if c.Username == "" {
			return errors.New("Must provide --username with --password-stdin")
		}
		b, err := io.ReadAll(in)
		if err != nil {
			return err
		}
		c.Password = strings.TrimRight(string(b), "\r\n")
	}
	if c.Username == "" {
		fmt.Fprint(g.stdout, "Username: ")
		line, _ := in.ReadString('\n')
		c.Username = strings.TrimSpace(line)
		if c.Username == "" {
			return errors.New("Error: Non-null Username Required")
		}
	}
	if c.Password == "" {
		fmt.Fprint(g.stdout, "Password: ")
		if f, ok := g.stdin.(*os.File); ok && isTerminal(f.Fd()) {
			st, err := term.SaveState(f.Fd())
			if err == nil {
				term.DisableEcho(f.Fd(), st)
			}
			line, _ := in.ReadString('\n')
			if st != nil {
				term.RestoreTerminal(f.Fd(), st)
			}
			fmt.Fprintln(g.stdout)
			c.Password = strings.TrimRight(line, "\r\n")
		} else {
			line, _ := in.ReadString('\n')
			c.Password = strings.TrimRight(line, "\r\n")
		}
		if c.Password == "" {
			return errors.New("Error: Password Required")
		}
	}
	cli, err := g.Client()
	if err != nil {
		return err
	}
	key := authKey(c.Server)
	if _, err := cli.RegistryLogin(g.ctx, client.RegistryLoginOptions{Username: c.Username, Password: c.Password, ServerAddress: key}); err != nil {
		return err
	}
	cfg, err := dockerconfig.Load(dockerConfigDir())
	if err != nil {
		return err // a malformed file is reported, never overwritten
	}
	creds := types.AuthConfig{Username: c.Username, Password: c.Password, ServerAddress: key}
	if err := cfg.GetCredentialsStore(key).Store(creds); err != nil {
		return fmt.Errorf("Error saving credentials: %w", err)
	}
	if !usesCredentialHelper(cfg, key) {
		fmt.Fprintf(g.stderr, "WARNING! Your credentials are stored unencrypted in '%s'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n", cfg.Filename)
	}
	fmt.Fprintln(g.stdout, "Login Succeeded")
	return nil
}

// LogoutCmd is `docker logout`.
type LogoutCmd struct {
	Server string `arg:"" optional:"" name:"server"`
}

// Run forgets the registry's stored credentials.
func (c *LogoutCmd) Run(g *Globals) error {
	key := authKey(c.Server)
	cfg, err := dockerconfig.Load(dockerConfigDir())
	if err != nil {
		return err
	}
	if _, ok := cfg.GetAuthConfigs()[key]; !ok {
		fmt.Fprintf(g.stdout, "Not logged in to %s\n", c.displayServer())
		return nil
	}
	fmt.Fprintf(g.stdout, "Removing login credentials for %s\n", c.displayServer())
	return cfg.GetCredentialsStore(key).Erase(key)
}

func (c *LogoutCmd) displayServer() string {
	if k := authKey(c.Server); k != dockerHubAuthKey {
		return k
	}
	return dockerHubAuthKey
}

// authKey is the "auths" key of a server argument: host[:port], or Docker
// Hub's historical URL.
func authKey(server string) string {
	s := strings.TrimSpace(server)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	switch s {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io":
		return dockerHubAuthKey
	}
	return s
}

// encodedAuthFor is the X-Registry-Auth header for an image's registry:
// the stored credential, or "e30=" ({}) as docker sends when there is none.
func encodedAuthFor(named reference.Named) string {
	key := authKey(reference.Domain(named))
	cfg, err := dockerconfig.Load(dockerConfigDir())
	if err != nil {
		return "e30="
	}
	ac, err := cfg.GetAuthConfig(key)
	if err != nil || (ac.Username == "" && ac.IdentityToken == "") {
		return "e30="
	}
	s, err := authconfig.Encode(registry.AuthConfig{Username: ac.Username, Password: ac.Password,
		IdentityToken: ac.IdentityToken, ServerAddress: key})
	if err != nil {
		return "e30="
	}
	return s
}

// usesCredentialHelper tells whether the credential for key goes to a
// helper program rather than into the file.
func usesCredentialHelper(cfg *configfile.ConfigFile, key string) bool {
	return cfg.CredentialsStore != "" || cfg.CredentialHelpers[key] != ""
}

// dockerConfigDir is $DOCKER_CONFIG or ~/.docker. dockerconfig.Dir says the same
// but reads the environment once per process; this reads it at each call.
func dockerConfigDir() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker")
}
