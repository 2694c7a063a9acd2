package daemon

// --log-driver json-file and its --log-opt settings. Only docker's default
// driver exists here (the LogConfig.Type table entry in unsupported.go);
// its options are checked at create, so a container with a bad one is
// never made. (dockerd checks the names at create and the values when the
// logger starts; the messages are its own.)
//
// The options, as dockerd's json-file driver takes them:
//   - max-size, max-file, compress: the rotation (libcontainer/jsonlog.go);
//   - labels, labels-regex, env, env-regex: which of the container's labels
//     and environment variables every log line carries in its "attrs";
//   - tag: one more attribute, a Go template over the container
//     ({{.Name}}, {{.ID}}, {{.ImageName}}, …);
//   - mode and max-buffer-size, docker's options for every driver:
//     blocking (the default) or non-blocking with a bounded buffer.

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/errdefs"
	"github.com/minidocker/minidocker/minidocker/libcontainer"
)

// defaultLogDriver is what inspect reports when the request named none:
// docker-py's containers.run() reads the log only when it says json-file.
const defaultLogDriver = "json-file"

// validateLogConfig fills in the default driver and checks the options.
func validateLogConfig(lc *container.LogConfig) error {
	if lc.Type == "" {
		lc.Type = defaultLogDriver
	}
	if lc.Config == nil {
		lc.Config = map[string]string{} // docker's inspect shows {}
	}
	if err := checkLogOptionNames(lc.Config); err != nil {
		return err
	}
	if _, err := logBufferSizeOf(lc.Config); err != nil {
		return err
	}
	if _, err := logRotationOf(*lc); err != nil {
		return err
	}
	_, err := logAttrsOf(lc.Config, logTagInfo{})
	return err
}

// checkLogOptionNames refuses an option json-file does not know, in
// docker's words; mode and max-buffer-size are every driver's.
func checkLogOptionNames(opts map[string]string) error {
	names := make([]string, 0, len(opts))
	for k := range opts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch k {
		case "max-size", "max-file", "compress", "mode", "max-buffer-size",
			"labels", "labels-regex", "env", "env-regex", "tag":
		default:
			return errdefs.Invalid("unknown log opt '%s' for json-file log driver", k)
		}
	}
	return nil
}

// logBufferSizeOf reads mode and max-buffer-size: 0 for blocking, else the
// size of the non-blocking buffer (docker's 1 MB unless set).
func logBufferSizeOf(opts map[string]string) (int64, error) {
	mode := opts["mode"]
	switch mode {
	case "", "blocking", "non-blocking":
	default:
		return 0, errdefs.Invalid("logger: logging mode not supported: %s", mode)
	}
	s, ok := opts["max-buffer-size"]
	if ok && mode != "non-blocking" {
		return 0, errdefs.Invalid("logger: max-buffer-size option is only supported with 'mode=non-blocking'")
	}
	if mode != "non-blocking" {
		return 0, nil
	}
	if !ok {
		return libcontainer.DefaultLogBufferSize, nil
	}
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0, errdefs.Invalid("error parsing option max-buffer-size: %v", err)
	}
	if n <= 0 {
		// docker's ring then falls back to its default size
		return libcontainer.DefaultLogBufferSize, nil
	}
	return n, nil
}

// logRotationOf reads max-size, max-file and compress.
func logRotationOf(lc container.LogConfig) (libcontainer.LogRotation, error) {
	var rot libcontainer.LogRotation
	opts := lc.Config
	if v, ok := opts["max-size"]; ok {
		n, err := units.FromHumanSize(v)
		if err != nil {
			return rot, errdefs.Invalid("%s", err.Error())
		}
		if n <= 0 {
			return rot, errdefs.Invalid("max-size must be a positive number")
		}
		rot.MaxSize = n
	}
	rot.MaxFiles = 1
	if v, ok := opts["max-file"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return rot, errdefs.Invalid("%s", err.Error())
		}
		if n < 1 {
			return rot, errdefs.Invalid("max-file cannot be less than 1")
		}
		rot.MaxFiles = n
	}
	if v, ok := opts["compress"]; ok {
		compress, err := strconv.ParseBool(v)
		if err != nil {
			return rot, errdefs.Invalid("%s", err.Error())
		}
		if compress && (rot.MaxFiles < 2 || rot.MaxSize == 0) {
			return rot, errdefs.Invalid("compress cannot be true when max-file is less than 2 or max-size is not set")
		}
		rot.Compress = compress
	}
	return rot, nil
}

// logTagInfo is what a container's log attributes are made of, and the
// data of the tag template: the fields and methods are those of dockerd's
// logger.Info, so a template written for docker works here.
type logTagInfo struct {
	ContainerID         string
	ContainerName       string // with docker's leading "/"
	ContainerEntrypoint string // the program PID 1 runs
	ContainerArgs       []string
	ContainerImageID    string // sha256:…
	ContainerImageName  string // as the container was created from it
	ContainerEnv        []string
	ContainerLabels     map[string]string
	DaemonName          string
}

// ID is the short container ID.
func (i logTagInfo) ID() string { return shortID(i.ContainerID) }

// FullID is the container ID.
func (i logTagInfo) FullID() string { return i.ContainerID }

// Name is the container's name without "/".
func (i logTagInfo) Name() string { return strings.TrimPrefix(i.ContainerName, "/") }

// Command is the entrypoint and its arguments, space separated.
func (i logTagInfo) Command() string {
	return strings.Join(append([]string{i.ContainerEntrypoint}, i.ContainerArgs...), " ")
}

// ImageID is the short ID of the container's image.
func (i logTagInfo) ImageID() string { return shortID(i.ContainerImageID) }

// ImageFullID is the ID of the container's image, sha256:….
func (i logTagInfo) ImageFullID() string { return i.ContainerImageID }

// ImageName is the image as the container was created from it.
func (i logTagInfo) ImageName() string { return i.ContainerImageName }

// Hostname is the host's name.
func (i logTagInfo) Hostname() (string, error) { return os.Hostname() }

// shortID is docker's truncated ID: no "sha256:", 12 hex digits.
func shortID(id string) string {
	if _, after, ok := strings.Cut(id, ":"); ok {
		id = after
	}
	return id[:min(12, len(id))]
}

// logTagFuncs are the functions docker's log tag templates may call.
var logTagFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  strings.Join,
	"split": strings.Split,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"truncate": func(s string, n int) string {
		return s[:min(n, len(s))]
	},
}

// logAttrsOf is the attrs every log line of the container carries:
// the labels and environment variables the options select, and the tag.
// With a zero info it only checks the options (at create).
func logAttrsOf(opts map[string]string, info logTagInfo) (map[string]string, error) {
	attrs := map[string]string{}
	if err := addSelected(attrs, info.ContainerLabels, opts["labels"], opts["labels-regex"]); err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, e := range info.ContainerEnv {
		if k, v, ok := strings.Cut(e, "="); ok {
			env[k] = v
		}
	}
	if err := addSelected(attrs, env, opts["env"], opts["env-regex"]); err != nil {
		return nil, err
	}
	if tmpl := opts["tag"]; tmpl != "" {
		tag, err := expandLogTag(tmpl, info)
		if err != nil {
			return nil, err
		}
		if tag != "" {
			attrs["tag"] = tag
		}
	}
	return attrs, nil
}

// addSelected copies into attrs the entries of from named in the comma
// list names or matching the regular expression re.
func addSelected(attrs, from map[string]string, names, re string) error {
	for _, k := range strings.Split(names, ",") {
		if v, ok := from[k]; ok && k != "" {
			attrs[k] = v
		}
	}
	if re == "" {
		return nil
	}
	rx, err := regexp.Compile(re)
	if err != nil {
		return errdefs.Invalid("%v", err)
	}
	for k, v := range from {
		if rx.MatchString(k) {
			attrs[k] = v
		}
	}
	return nil
}

// expandLogTag runs the tag template over the container.
func expandLogTag(tmpl string, info logTagInfo) (string, error) {
	t, err := template.New("log-tag").Funcs(logTagFuncs).Parse(tmpl)
	if err != nil {
		return "", errdefs.Invalid("%v", err)
	}
	if info.ContainerID == "" {
		return "", nil // create: the template parses, that is all
	}
	var b bytes.Buffer
	if err := t.Execute(&b, info); err != nil {
		return "", errdefs.Invalid("%v", err)
	}
	return b.String(), nil
}

// applyLogOptions puts the log's rotation, attributes and mode into the
// spec of a start.
func applyLogOptions(c *Container, cfg *container.Config, lc container.LogConfig, spec *libcontainer.Spec) error {
	rot, err := logRotationOf(lc)
	if err != nil {
		return err
	}
	spec.LogRotation = rot
	if spec.LogBufferSize, err = logBufferSizeOf(lc.Config); err != nil {
		return err
	}
	c.mu.Lock()
	info := logTagInfo{ContainerID: c.ID, ContainerName: "/" + c.Name, ContainerEntrypoint: c.Path, ContainerArgs: c.Args,
		ContainerImageID: c.ImageID, ContainerImageName: cfg.Image, ContainerEnv: cfg.Env, ContainerLabels: cfg.Labels,
		DaemonName: "docker"}
	c.mu.Unlock()
	spec.LogAttrs, err = logAttrsOf(lc.Config, info)
	return err
}
