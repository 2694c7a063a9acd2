package cli

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/minidocker/minidocker/minidocker/reference"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
	"github.com/moby/term"
)

// Credentials live where docker keeps them: $DOCKER_CONFIG/config.json or
// ~/.docker/config.json, under "auths", keyed by registry host, each an
// "auth" field holding base64("user:password"). Docker Hub's key is
// docker's historical "https://index.docker.io/v1/". Like docker without a
// credential helper, they are stored unencrypted (the CLI says so).

const dockerHubAuthKey = "https://index.docker.io/v1/"

// LoginCmd is `docker login`.
type LoginCmd struct {
	Username      string `short:"u" help:"Username."`
	Password      string `short:"p" help:"Password."`
	PasswordStdin bool   `name:"password-stdin" help:"Take the password from stdin."`
	Server        string `arg:"" optional:"" name:"server" help:"Registry host[:port]."`
}

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
	path := dockerConfigPath()
	cfg, err := readDockerConfig(path)
	if err != nil {
		return err
	}
	auths := cfg.auths()
	auths[key] = authEntry{Auth: base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))}
	if err := cfg.setAuths(auths, path); err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "WARNING! Your credentials are stored unencrypted in '%s'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n", path)
	fmt.Fprintln(g.stdout, "Login Succeeded")
	return nil
}

// LogoutCmd is `docker logout`.
type LogoutCmd struct {
	Server string `arg:"" optional:"" name:"server"`
}

func (c *LogoutCmd) Run(g *Globals) error {
	key := authKey(c.Server)
	path := dockerConfigPath()
	cfg, err := readDockerConfig(path)
	if err != nil {
		return err
	}
	auths := cfg.auths()
	if _, ok := auths[key]; !ok {
		fmt.Fprintf(g.stdout, "Not logged in to %s\n", c.displayServer())
		return nil
	}
	fmt.Fprintf(g.stdout, "Removing login credentials for %s\n", c.displayServer())
	delete(auths, key)
	return cfg.setAuths(auths, path)
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
	cfg, err := readDockerConfig(dockerConfigPath())
	if err == nil {
		if e, ok := cfg.auths()[key]; ok && e.Auth != "" {
			if raw, err := base64.StdEncoding.DecodeString(e.Auth); err == nil {
				user, pass, _ := strings.Cut(string(raw), ":")
				if s, err := authconfig.Encode(registry.AuthConfig{Username: user, Password: pass, ServerAddress: key}); err == nil {
					return s
				}
			}
		}
	}
	return "e30="
}

func dockerConfigPath() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker", "config.json")
}

type authEntry struct {
	Auth string `json:"auth,omitempty"`
}

// dockerConfig keeps every other key of the file as it was.
type dockerConfig map[string]json.RawMessage

func readDockerConfig(path string) (dockerConfig, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return dockerConfig{}, nil
	}
	if err != nil {
		return nil, err
	}
	cfg := dockerConfig{}
	if len(strings.TrimSpace(string(b))) == 0 {
		return cfg, nil
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("loading config file %s: %w", path, err)
	}
	return cfg, nil
}

func (c dockerConfig) auths() map[string]authEntry {
	out := map[string]authEntry{}
	if raw, ok := c["auths"]; ok {
		_ = json.Unmarshal(raw, &out)
	}
	return out
}

func (c dockerConfig) setAuths(a map[string]authEntry, path string) error {
	b, _ := json.Marshal(a)
	c["auths"] = b
	out, err := json.MarshalIndent(c, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config.json.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(out, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
