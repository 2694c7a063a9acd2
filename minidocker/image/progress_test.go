package image

import (
	"encoding/json"
	"testing"
)

func TestProgressJSON(t *testing.T) {
	for _, c := range []struct {
		ev   ProgressEvent
		want string
	}{
		{ProgressEvent{ID: "latest", Status: "Pulling from busybox"}, `{"status":"Pulling from busybox","id":"latest"}`},
		{ProgressEvent{ID: "6a2c38489a85", Status: "Pulling fs layer", Layer: true}, `{"status":"Pulling fs layer","progressDetail":{},"id":"6a2c38489a85"}`},
		{ProgressEvent{Status: "Digest: sha256:94"}, `{"status":"Digest: sha256:94"}`},
		{ProgressEvent{ID: "6a2c38489a85", Status: "Downloading", Current: 1000, Total: 2000, HasDetail: true, Layer: true},
			`{"status":"Downloading","progressDetail":{"current":1000,"total":2000},"progress":"[=========================\u003e                         ]      1kB/2kB","id":"6a2c38489a85"}`},
	} {
		t.Run(c.ev.Status, func(t *testing.T) {
			b, err := json.Marshal(c.ev)
			if err != nil || string(b) != c.want {
				t.Errorf("got  %s\nwant %s", b, c.want)
			}
		})
	}
}
