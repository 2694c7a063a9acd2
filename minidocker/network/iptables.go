package network

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
)

// The rules, for chain prefix P (default MINIDOCKER) and a network on
// bridge BR with subnet NET:
//
//	nat    PREROUTING  -m addrtype --dst-type LOCAL -j P
//	nat    OUTPUT      -m addrtype --dst-type LOCAL -j P
//	nat    POSTROUTING -j P-POSTROUTING
//	nat    P                -p tcp [-d HOSTIP/32] --dport HP -m comment --comment CID -j DNAT --to-destination CIP:CP
//	nat    P-POSTROUTING    -s NET ! -o BR -j MASQUERADE                          (containers going out)
//	nat    P-POSTROUTING    -s NET -o BR -m conntrack --ctstate DNAT -j MASQUERADE (hairpin)
//	nat    P-POSTROUTING    -s 127.0.0.0/8 -o BR -j MASQUERADE                     (host's 127.0.0.1:PORT)
//	filter FORWARD     -j P-FORWARD (first rule)
//	filter P-FORWARD        -o BR -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
//	filter P-FORWARD        -o BR -m conntrack --ctstate DNAT -j ACCEPT             (published ports)
//	filter P-FORWARD        -i BR -j ACCEPT
//
// An internal network (`network create --internal`) has none of those;
// instead, put first in P-FORWARD so no other network's ACCEPT comes
// before them:
//
//	filter P-FORWARD        -i BR ! -o BR -j DROP   (nothing leaves the bridge)
//	filter P-FORWARD        -o BR ! -i BR -j DROP   (nothing comes in from elsewhere)
//	filter P-FORWARD        -i BR -o BR -j ACCEPT   (bridged frames between its containers)

type ipt struct {
	prefix string
}

func (t ipt) nat() string     { return t.prefix }
func (t ipt) post() string    { return t.prefix + "-POSTROUTING" }
func (t ipt) forward() string { return t.prefix + "-FORWARD" }

func iptables(args ...string) (string, error) {
	cmd := exec.Command("iptables", append([]string{"-w"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// restore applies a batch of rule changes to one table with a single
// iptables-restore run (one exec instead of one per rule; all or nothing).
func restore(table string, lines [][]string) error {
	var in strings.Builder
	fmt.Fprintf(&in, "*%s\n", table)
	for _, l := range lines {
		in.WriteString(strings.Join(l, " "))
		in.WriteByte('\n')
	}
	in.WriteString("COMMIT\n")
	cmd := exec.Command("iptables-restore", "-w", "--noflush")
	cmd.Stdin = strings.NewReader(in.String())
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables-restore: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	return nil
}

// ensureChain creates a chain if it is missing.
func ensureChain(table, chain string) error {
	if _, err := iptables("-t", table, "-n", "-L", chain); err == nil {
		return nil
	}
	_, err := iptables("-t", table, "-N", chain)
	if err != nil {
		// another daemon (or our own restart) may have made it meanwhile:
		// look again rather than read iptables' message
		if _, lerr := iptables("-t", table, "-n", "-L", chain); lerr == nil {
			return nil
		}
	}
	return err
}

// ensureRule appends (or with insert, puts first) a rule unless it is there.
func ensureRule(table, chain string, insert bool, rule ...string) error {
	if _, err := iptables(append([]string{"-t", table, "-C", chain}, rule...)...); err == nil {
		return nil
	}
	op := []string{"-t", table, "-A", chain}
	if insert {
		op = []string{"-t", table, "-I", chain, "1"}
	}
	_, err := iptables(append(op, rule...)...)
	return err
}

// deleteRule deletes every copy of a rule; a missing rule or chain is fine.
func deleteRule(table, chain string, rule ...string) error {
	for i := 0; i < 10; i++ {
		_, err := iptables(append([]string{"-t", table, "-D", chain}, rule...)...)
		if err != nil {
			if isMissing(err) {
				return nil
			}
			return err
		}
	}
	return nil
}

func isMissing(err error) bool {
	s := err.Error()
	for _, w := range []string{"does a matching rule exist", "No chain/target/match", "Bad rule", "doesn't exist", "does not exist", "not found"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func deleteChain(table, chain string) error {
	if _, err := iptables("-t", table, "-F", chain); err != nil {
		if isMissing(err) {
			return nil
		}
		return err
	}
	_, err := iptables("-t", table, "-X", chain)
	if err != nil && isMissing(err) {
		return nil
	}
	return err
}

func (t ipt) jumps() [][]string {
	return [][]string{
		{"nat", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", t.nat()},
		{"nat", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", t.nat()},
		{"nat", "POSTROUTING", "-j", t.post()},
		{"filter", "FORWARD", "-j", t.forward()},
	}
}

func (t ipt) setupBase() error {
	for _, c := range [][2]string{{"nat", t.nat()}, {"nat", t.post()}, {"filter", t.forward()}} {
		if err := ensureChain(c[0], c[1]); err != nil {
			return err
		}
	}
	for _, j := range t.jumps() {
		if err := ensureRule(j[0], j[1], j[1] == "FORWARD", j[2:]...); err != nil {
			return err
		}
	}
	return nil
}

func (t ipt) teardownBase() error {
	var first error
	for _, j := range t.jumps() {
		if err := deleteRule(j[0], j[1], j[2:]...); err != nil && first == nil {
			first = err
		}
	}
	for _, c := range [][2]string{{"nat", t.nat()}, {"nat", t.post()}, {"filter", t.forward()}} {
		if err := deleteChain(c[0], c[1]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// networkRules are the rules of one bridge network, as {table, chain,
// rule...} (the table at the top of this file says what each is for).
func (t ipt) networkRules(bridge string, subnet netip.Prefix) [][]string {
	// exercise:begin 05-nat-rules
	s := subnet.Masked().String()
	return [][]string{
		{"nat", t.post(), "-s", s, "!", "-o", bridge, "-j", "MASQUERADE"},
		{"nat", t.post(), "-s", s, "-o", bridge, "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"},
		{"nat", t.post(), "-s", "127.0.0.0/8", "-o", bridge, "-j", "MASQUERADE"},
		{"filter", t.forward(), "-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
		{"filter", t.forward(), "-o", bridge, "-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT"},
		{"filter", t.forward(), "-i", bridge, "-j", "ACCEPT"},
	}
	// exercise:end 05-nat-rules
}

// internalRules are the isolation rules of an internal network, in the
// order they must end up at the top of P-FORWARD.
func (t ipt) internalRules(bridge string) [][]string {
	return [][]string{
		{"filter", t.forward(), "-i", bridge, "!", "-o", bridge, "-j", "DROP"},
		{"filter", t.forward(), "-o", bridge, "!", "-i", bridge, "-j", "DROP"},
		{"filter", t.forward(), "-i", bridge, "-o", bridge, "-j", "ACCEPT"},
	}
}

// rulesOf is the rule set of a network: the ordinary one, or an internal
// network's (insert: each goes first in its chain, so they are added in
// reverse to keep their order).
func (t ipt) rulesOf(bridge string, subnet netip.Prefix, internal bool) (rules [][]string, insert bool) {
	if internal {
		return t.internalRules(bridge), true
	}
	return t.networkRules(bridge, subnet), false
}

func (t ipt) setupNetwork(bridge string, subnet netip.Prefix, internal bool) error {
	rules, insert := t.rulesOf(bridge, subnet, internal)
	for i := range rules {
		r := rules[i]
		if insert {
			r = rules[len(rules)-1-i]
		}
		if err := ensureRule(r[0], r[1], insert, r[2:]...); err != nil {
			return err
		}
	}
	return nil
}

func (t ipt) teardownNetwork(bridge string, subnet netip.Prefix, internal bool) error {
	var first error
	rules, _ := t.rulesOf(bridge, subnet, internal)
	for _, r := range rules {
		if err := deleteRule(r[0], r[1], r[2:]...); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// dnatRule is the rule publishing one binding of container cid.
func (t ipt) dnatRule(cid string, ip netip.Addr, b PortBinding) []string {
	// exercise:begin 05-nat-rules
	r := []string{"-p", b.proto()}
	if b.hostIP() != "0.0.0.0" {
		r = append(r, "-d", b.hostIP()+"/32")
	}
	r = append(r, "-m", b.proto(), "--dport", strconv.Itoa(b.HostPort),
		"-m", "comment", "--comment", commentFor(cid),
		"-j", "DNAT", "--to-destination", ip.String()+":"+strconv.Itoa(b.ContainerPort))
	return r
	// exercise:end 05-nat-rules
}

func commentFor(cid string) string { return "minidocker:" + cid }

// addPorts adds the DNAT rules of a new endpoint in one batch.
func (t ipt) addPorts(cid string, ip netip.Addr, bs []PortBinding) error {
	var lines [][]string
	for _, b := range bs {
		lines = append(lines, append([]string{"-A", t.nat()}, t.dnatRule(cid, ip, b)...))
	}
	return restore("nat", lines)
}

// ensurePorts adds whichever DNAT rules of an endpoint are missing.
func (t ipt) ensurePorts(cid string, ip netip.Addr, bs []PortBinding) error {
	for _, b := range bs {
		if err := ensureRule("nat", t.nat(), false, t.dnatRule(cid, ip, b)...); err != nil {
			return err
		}
	}
	return nil
}

// removePorts deletes an endpoint's DNAT rules: one batch, or rule by rule
// (tolerating missing ones) when the batch fails.
func (t ipt) removePorts(cid string, ip netip.Addr, bs []PortBinding) error {
	var lines [][]string
	for _, b := range bs {
		lines = append(lines, append([]string{"-D", t.nat()}, t.dnatRule(cid, ip, b)...))
	}
	if restore("nat", lines) == nil {
		return nil
	}
	var first error
	for _, b := range bs {
		if err := deleteRule("nat", t.nat(), t.dnatRule(cid, ip, b)...); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// portRuleOwners lists the DNAT rules of our chain with the container ID of
// their comment, as argument lists ready for -D.
func (t ipt) portRules() (map[string][][]string, error) {
	// list the whole table: iptables-nft 1.8.9 answers -S for a missing
	// chain with "is incompatible", which cannot be told from a real problem
	out, err := iptables("-t", "nat", "-S")
	if err != nil {
		return nil, err
	}
	res := map[string][][]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "-A" || f[1] != t.nat() {
			continue
		}
		for i := range f {
			f[i] = strings.Trim(f[i], `"`)
		}
		owner := ""
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "--comment" && strings.HasPrefix(f[i+1], "minidocker:") {
				owner = strings.TrimPrefix(f[i+1], "minidocker:")
			}
		}
		res[owner] = append(res[owner], f[2:])
	}
	return res, nil
}
