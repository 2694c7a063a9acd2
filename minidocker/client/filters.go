package client

import (
	"encoding/json"
	"net/url"
	"strconv"
)

// Filters is the Engine API's filter set: term → values, sent as the JSON
// "filters" query parameter ({"label":{"a=b":true}}).
type Filters map[string]map[string]bool

// Add adds values under term and returns f, so calls chain.
func (f Filters) Add(term string, values ...string) Filters {
	if f[term] == nil {
		f[term] = map[string]bool{}
	}
	for _, v := range values {
		f[term][v] = true
	}
	return f
}

// encode sets the "filters" parameter of q; no filters, no parameter.
func (f Filters) encode(q url.Values) {
	if len(f) == 0 {
		return
	}
	b, _ := json.Marshal(f) // a map of maps of strings always marshals
	q.Set("filters", string(b))
}

// flag sets a boolean query parameter the way the daemon reads it ("1"),
// only when it is true.
func flag(q url.Values, key string, on bool) {
	if on {
		q.Set(key, "1")
	}
}

// setInt sets key when p is given (a nil pointer leaves the daemon's default).
func setInt(q url.Values, key string, p *int) {
	if p != nil {
		q.Set(key, strconv.Itoa(*p))
	}
}

// setString sets key when v is not empty.
func setString(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}
