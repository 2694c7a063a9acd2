package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// Import is `docker import`: the rootfs tar (plain or gzip) in r becomes a
// one-layer image, configured by Dockerfile-like changes
// (`CMD ["sh"]`, `ENV K=V`, `WORKDIR`, `ENTRYPOINT`, `EXPOSE`, `LABEL`,
// `USER`, `VOLUME`, `STOPSIGNAL`, `ONBUILD`). Its history says
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
func ApplyChanges(c *dockerspec.DockerOCIImageConfig, changes []string) error {
	for _, ch := range changes {
		ch = strings.TrimSpace(ch)
		if ch == "" {
			continue
		}
		word, rest, _ := strings.Cut(ch, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(word) {
		case "CMD":
			c.Cmd = execForm(rest)
		case "ENTRYPOINT":
			c.Entrypoint = execForm(rest)
		case "ENV":
			kv, err := pairs(rest, true)
			if err != nil {
				return err
			}
			for _, p := range kv {
				c.Env = setEnv(c.Env, p[0], p[1])
			}
		case "LABEL":
			kv, err := pairs(rest, false)
			if err != nil {
				return err
			}
			for _, p := range kv {
				if c.Labels == nil {
					c.Labels = map[string]string{}
				}
				c.Labels[p[0]] = p[1]
			}
		case "WORKDIR":
			c.WorkingDir = rest
		case "USER":
			c.User = rest
		case "STOPSIGNAL":
			c.StopSignal = rest
		case "EXPOSE":
			for _, p := range strings.Fields(rest) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				if c.ExposedPorts == nil {
					c.ExposedPorts = map[string]struct{}{}
				}
				c.ExposedPorts[p] = struct{}{}
			}
		case "VOLUME":
			vols := []string{}
			if err := json.Unmarshal([]byte(rest), &vols); err != nil || !strings.HasPrefix(rest, "[") {
				vols = strings.Fields(rest)
			}
			for _, v := range vols {
				if c.Volumes == nil {
					c.Volumes = map[string]struct{}{}
				}
				c.Volumes[v] = struct{}{}
			}
		case "ONBUILD":
			c.OnBuild = append(c.OnBuild, rest)
		default:
			return errdefs.Invalid("%s is not a valid change command", word)
		}
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

// pairs parses "K=V K2="v 2"" (and, for ENV, the old "K some value" form).
func pairs(s string, legacy bool) ([][2]string, error) {
	words, err := shellWords(s)
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
		return [][2]string{{k, strings.TrimSpace(v)}}, nil
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

// shellWords splits on blanks, honouring '…', "…" and backslash escapes.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false
	var quote rune
	esc := false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
			in = true
		case r == '\\' && quote != '\'':
			esc = true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote = r
			in = true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unmatched quote in %q", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}
