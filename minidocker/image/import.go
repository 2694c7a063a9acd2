package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minidocker/minidocker/minidocker/dockerfile"
	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// Import is `docker import`: the rootfs tar (plain or gzip) in r becomes a
// one-layer image, configured by Dockerfile-like changes
// (`CMD ["sh"]`, `ENV K=V`, `WORKDIR`, `ENTRYPOINT`, `EXPOSE`, `LABEL`,
// `USER`, `VOLUME`, `STOPSIGNAL`, `ONBUILD`, `HEALTHCHECK`). Its history says
// "Imported from -" (or message, as `-m` does). ref ("" for none) tags it.
// It returns the image ID.
func (s *Store) Import(ctx context.Context, r io.Reader, ref string, changes []string, message string) (string, error) {
	var tag string
	if ref != "" {
		nt, err := ParseRepositoryTag(ref)
		if err != nil {
			return "", err
		}
		tag = nt.String()
	}
	var rc dockerspec.DockerOCIImageConfig
	if err := ApplyChanges(&rc, changes); err != nil {
		return "", err
	}
	rec, _, err := s.storeLayer(ctx, layerIn{Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }})
	if err != nil {
		return "", err
	}
	defer s.unpin(rec.DiffID)
	now := time.Now().UTC()
	if message == "" {
		message = "Imported from -"
	}
	var cfg ImageConfig
	cfg.Created = &now
	cfg.OS = "linux"
	cfg.Architecture = runtime.GOARCH
	cfg.Config = rc
	cfg.DockerVersion = DockerVersion
	cfg.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.Digest(rec.DiffID)}}
	cfg.History = []ocispec.History{{Created: &now, Comment: message}}
	raw, err := json.Marshal(&cfg)
	if err != nil {
		return "", err
	}
	id, err := s.putImage(raw, "")
	if err != nil {
		return "", err
	}
	if tag != "" {
		s.mu.Lock()
		err = s.tagLocked(tag, id)
		s.mu.Unlock()
	}
	return id, err
}

// ApplyChanges applies `--change` instructions (the Dockerfile instructions
// that only touch the config) to c, as import and commit accept them.
// Like a Dockerfile's, their arguments see the variables set so far: the
// image's Env and the ENV changes before them ("ENV PATH=/x:$PATH").
func ApplyChanges(c *dockerspec.DockerOCIImageConfig, changes []string) error {
	for _, ch := range changes {
		ch = strings.TrimSpace(ch)
		if ch == "" {
			continue
		}
		word, rest, _ := strings.Cut(ch, " ")
		if err := applyChange(c, strings.ToUpper(word), strings.TrimSpace(rest)); err != nil {
			if errdefs.KindOf(err) == errdefs.KindUnknown {
				err = errdefs.Invalid("invalid change %q: %v", ch, err)
			}
			return err
		}
	}
	return nil
}

// changeLexer expands $VAR and ${VAR} as the Dockerfile builder does
// (backslash is the escape character, single quotes keep a $). CMD,
// ENTRYPOINT and ONBUILD keep their text for the shell or a later build.
var changeLexer = shell.NewLex('\\')

// applyChange sets the part of the config that one instruction names.
func applyChange(c *dockerspec.DockerOCIImageConfig, instr, rest string) error {
	env := shell.EnvsFromSlice(c.Env)
	word := func() (string, error) { w, _, err := changeLexer.ProcessWord(rest, env); return w, err }
	var err error
	switch instr {
	case "CMD":
		c.Cmd = execForm(rest)
	case "ENTRYPOINT":
		c.Entrypoint = execForm(rest)
	case "ONBUILD":
		c.OnBuild = append(c.OnBuild, rest)
	case "ENV", "LABEL":
		err = applyPairs(c, instr, rest)
	case "WORKDIR":
		c.WorkingDir, err = word()
	case "USER":
		c.User, err = word()
	case "STOPSIGNAL":
		c.StopSignal, err = word()
	case "EXPOSE":
		err = applyExpose(c, rest)
	case "VOLUME":
		err = applyVolume(c, rest)
	case "HEALTHCHECK":
		err = applyHealthcheck(c, instr+" "+rest)
	default:
		return errdefs.Invalid("%s is not a valid change command", instr)
	}
	return err
}

// applyHealthcheck reads HEALTHCHECK as a Dockerfile's (its --interval…
// flags, NONE, CMD in both forms), with the Dockerfile parser.
func applyHealthcheck(c *dockerspec.DockerOCIImageConfig, text string) error {
	cmd, err := dockerfile.ParseTrigger(text)
	if err != nil {
		return err
	}
	hc, ok := cmd.(*dockerfile.HealthCheckCommand)
	if !ok {
		return fmt.Errorf("not a HEALTHCHECK instruction")
	}
	c.Healthcheck = hc.Health
	return nil
}

func applyPairs(c *dockerspec.DockerOCIImageConfig, instr, rest string) error {
	kv, err := pairs(rest, instr == "ENV", c.Env)
	if err != nil {
		return err
	}
	for _, p := range kv {
		if instr == "ENV" {
			c.Env = setEnv(c.Env, p[0], p[1])
			continue
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[p[0]] = p[1]
	}
	return nil
}

func applyExpose(c *dockerspec.DockerOCIImageConfig, rest string) error {
	ports, err := changeLexer.ProcessWords(rest, shell.EnvsFromSlice(c.Env))
	if err != nil {
		return err
	}
	for _, p := range ports {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		c.ExposedPorts[p] = struct{}{}
	}
	return nil
}

// applyVolume takes the JSON form (["/a", "/b"]) or blank-separated paths.
func applyVolume(c *dockerspec.DockerOCIImageConfig, rest string) error {
	var vols []string
	if !strings.HasPrefix(rest, "[") || json.Unmarshal([]byte(rest), &vols) != nil {
		vols = strings.Fields(rest)
	}
	for _, v := range vols {
		v, _, err := changeLexer.ProcessWord(v, shell.EnvsFromSlice(c.Env))
		if err != nil {
			return err
		}
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		c.Volumes[v] = struct{}{}
	}
	return nil
}

func execForm(s string) []string {
	var v []string
	if strings.HasPrefix(s, "[") && json.Unmarshal([]byte(s), &v) == nil {
		return v
	}
	return []string{"/bin/sh", "-c", s}
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// pairs parses "K=V K2="v 2"" (and, for ENV, the old "K some value" form),
// with the variables of env expanded in the values.
func pairs(s string, legacy bool, env []string) ([][2]string, error) {
	words, err := changeLexer.ProcessWords(s, shell.EnvsFromSlice(env))
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, errdefs.Invalid("invalid change: missing arguments")
	}
	if !strings.Contains(words[0], "=") {
		if !legacy {
			return nil, errdefs.Invalid("LABEL names can not be blank")
		}
		k, v, _ := strings.Cut(strings.TrimSpace(s), " ")
		v, _, err := changeLexer.ProcessWord(strings.TrimSpace(v), shell.EnvsFromSlice(env))
		return [][2]string{{k, v}}, err
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, errdefs.Invalid("invalid change: %q is not KEY=VALUE", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
