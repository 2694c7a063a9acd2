package registry

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
)

// Listing: GET /v2/_catalog (every repository, what the article curls after
// its first push) and GET /v2/<name>/tags/list. Both return names in lexical
// order and page with ?n=<count>&last=<name>: the answer holds up to n names
// that sort after last, and a Link header (rel="next") carries the URL of
// the following page while there is one.

// paginate applies n/last to a sorted list. more reports whether a next page exists.
func paginate(all []string, q url.Values) (page []string, more bool, err error) {
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(all, last)
		if i < len(all) && all[i] == last {
			i++
		}
		all = all[i:]
	}
	if ns := q.Get("n"); ns != "" {
		n, perr := strconv.Atoi(ns)
		if perr != nil || n < 0 {
			return nil, false, errPagination("n must be a non-negative integer, got " + ns)
		}
		if n < len(all) {
			return all[:n], n > 0, nil
		}
	}
	return all, false, nil
}

// writeList sends one page as {key: page, …extra} plus the Link header.
func writeList(w http.ResponseWriter, r *http.Request, path string, page []string, more bool, body map[string]any) {
	if more {
		q := url.Values{}
		q.Set("n", r.URL.Query().Get("n"))
		q.Set("last", page[len(page)-1])
		w.Header().Set("Link", "<"+path+"?"+q.Encode()+`>; rel="next"`)
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

func (s *Server) getCatalog(w http.ResponseWriter, r *http.Request) error {
	repos, err := s.store.repositories()
	if err != nil {
		return err
	}
	page, more, err := paginate(repos, r.URL.Query())
	if err != nil {
		return err
	}
	if page == nil {
		page = []string{}
	}
	writeList(w, r, "/v2/_catalog", page, more, map[string]any{"repositories": page})
	return nil
}

func (s *Server) getTags(w http.ResponseWriter, r *http.Request, name string) error {
	if !s.store.repoExists(name) {
		return errNameUnknown(name)
	}
	entries, err := os.ReadDir(s.store.tagDir(name))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	tags := []string{}
	for _, e := range entries {
		tags = append(tags, e.Name())
	}
	sort.Strings(tags)
	page, more, err := paginate(tags, r.URL.Query())
	if err != nil {
		return err
	}
	if page == nil {
		page = []string{}
	}
	writeList(w, r, "/v2/"+name+"/tags/list", page, more, map[string]any{"name": name, "tags": page})
	return nil
}
