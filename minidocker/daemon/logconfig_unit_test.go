package daemon

import "testing"

// TestLogAttrsOf: the attrs are the labels and variables the options name
// or match (names that do not exist are skipped), and the tag template
// sees dockerd's logger.Info fields and methods.
func TestLogAttrsOf(t *testing.T) {
	info := logTagInfo{
		ContainerID: "0123456789abcdef0123", ContainerName: "/web", ContainerEntrypoint: "sh",
		ContainerArgs: []string{"-c", "echo hi"}, ContainerImageID: "sha256:fedcba9876543210ff",
		ContainerImageName: "busybox:latest", ContainerEnv: []string{"APP=web", "APP_MODE=prod", "HOME=/root", "EMPTY="},
		ContainerLabels: map[string]string{"tier": "db", "team.a": "x", "team.b": "y"}, DaemonName: "docker",
	}
	for _, c := range []struct {
		name string
		opts map[string]string
		want map[string]string
	}{
		{"labels", map[string]string{"labels": "tier,missing"}, map[string]string{"tier": "db"}},
		{"labels-regex", map[string]string{"labels-regex": `^team\.`}, map[string]string{"team.a": "x", "team.b": "y"}},
		{"env", map[string]string{"env": "HOME,EMPTY,NOPE"}, map[string]string{"HOME": "/root", "EMPTY": ""}},
		{"env-regex", map[string]string{"env-regex": "^APP"}, map[string]string{"APP": "web", "APP_MODE": "prod"}},
		{"tag methods", map[string]string{"tag": "{{.ID}} {{.Name}} {{.ImageID}} {{.ImageName}} {{.Command}}"},
			map[string]string{"tag": "0123456789ab web fedcba987654 busybox:latest sh -c echo hi"}},
		{"tag fields", map[string]string{"tag": "{{.FullID}} {{.ContainerName}} {{.ImageFullID}} {{.DaemonName}} {{upper .Name}}"},
			map[string]string{"tag": "0123456789abcdef0123 /web sha256:fedcba9876543210ff docker WEB"}},
		{"none", map[string]string{"max-size": "1k"}, map[string]string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := logAttrsOf(c.opts, info)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("attrs %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Fatalf("attrs %v, want %v", got, c.want)
				}
			}
		})
	}
}
