package daemon

import (
	"slices"
	"strings"
)

// matchesFilters is docker's rule for the filters of ps, network ls and
// volume ls: every label filter must hold (label=a and label=b select what
// has both: compose finds a service's containers by two labels), the values
// of any other key are alternatives (status=exited or status=created), and
// each key must hold. matches answers for one key=value of the object's
// own keys.
func matchesFilters(f map[string][]string, labels map[string]string, matches func(key, value string) bool) bool {
	if !MatchLabels(f["label"], labels) {
		return false
	}
	for key, values := range f {
		if key == "label" || len(values) == 0 {
			continue
		}
		if !slices.ContainsFunc(values, func(v string) bool { return matches(key, v) }) {
			return false
		}
	}
	return true
}

// MatchLabels reports whether labels has every one of the label filters
// ("key" present, or "key=value" equal).
func MatchLabels(filters []string, labels map[string]string) bool {
	for _, f := range filters {
		k, want, hasVal := strings.Cut(f, "=")
		got, has := labels[k]
		if !has || (hasVal && got != want) {
			return false
		}
	}
	return true
}
