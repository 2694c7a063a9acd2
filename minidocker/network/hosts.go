package network

import (
	"fmt"
	"strings"
)

// HostsFile is the container's /etc/hosts: the loopback and IPv6 lines
// docker writes, then "IP hostname [names...]" when the container has an
// address (bridge mode). Pass the container's hostname (docker: the short
// ID) and, on user networks, its name and aliases.
func HostsFile(ip string, hostname string, names ...string) []byte {
	// exercise:begin 05-hosts-file
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("ff00::0\tip6-mcastprefix\n")
	b.WriteString("ff02::1\tip6-allnodes\n")
	b.WriteString("ff02::2\tip6-allrouters\n")
	if ip != "" {
		all := []string{}
		seen := map[string]bool{}
		for _, n := range append([]string{hostname}, names...) {
			if n != "" && !seen[n] {
				seen[n] = true
				all = append(all, n)
			}
		}
		if len(all) > 0 {
			fmt.Fprintf(&b, "%s\t%s\n", ip, strings.Join(all, " "))
		}
	}
	return []byte(b.String())
	// exercise:end 05-hosts-file
}
