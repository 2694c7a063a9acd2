package daemon

// --log-driver json-file and its --log-opt settings. Only docker's default
// driver exists here (the LogConfig.Type table entry in unsupported.go);
// its options are checked at create, so a container with a bad one is
// never made. (dockerd checks the names at create and the values when the
// logger starts; the messages are its own.)

import (
	"sort"
	"strconv"

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
	_, err := logRotationOf(*lc)
	return err
}

// logRotationOf reads max-size and max-file, and refuses the options
// minidocker does not implement (compress, labels, env, tag, …) by name.
func logRotationOf(lc container.LogConfig) (libcontainer.LogRotation, error) {
	var rot libcontainer.LogRotation
	opts := lc.Config
	if err := checkLogOptionNames(opts); err != nil {
		return rot, err
	}
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
	return rot, checkCompress(opts["compress"], rot)
}

// checkLogOptionNames refuses an option json-file does not know, in
// docker's words, and one it knows that minidocker does not implement.
func checkLogOptionNames(opts map[string]string) error {
	names := make([]string, 0, len(opts))
	for k := range opts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch k {
		case "max-size", "max-file", "compress":
		case "mode": // docker's generic option, for every driver
			switch opts[k] {
			case "", "blocking": // what the shim does: the container waits for the log
			case "non-blocking":
				return errdefs.Invalid("minidocker does not support the log option mode=non-blocking yet")
			default:
				return errdefs.Invalid("logger: logging mode not supported: %s", opts[k])
			}
		case "max-buffer-size": // meaningful only with mode=non-blocking
			return errdefs.Invalid("logger: max-buffer-size option is only supported with 'mode=non-blocking'")
		case "labels", "labels-regex", "env", "env-regex", "tag":
			return errdefs.Invalid("minidocker does not support the log option %s yet", k)
		default:
			return errdefs.Invalid("unknown log opt '%s' for json-file log driver", k)
		}
	}
	return nil
}

// checkCompress refuses compress=true (docker gzips the rotated files;
// minidocker keeps them plain), after docker's own checks of the value.
func checkCompress(v string, rot libcontainer.LogRotation) error {
	if v == "" {
		return nil
	}
	compress, err := strconv.ParseBool(v)
	if err != nil {
		return errdefs.Invalid("%s", err.Error())
	}
	if !compress {
		return nil
	}
	if rot.MaxFiles < 2 || rot.MaxSize == 0 {
		return errdefs.Invalid("compress cannot be true when max-file is less than 2 or max-size is not set")
	}
	return errdefs.Invalid("minidocker does not support the log option compress=true yet (rotated files are kept uncompressed)")
}
