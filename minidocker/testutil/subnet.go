package testutil

import (
	"crypto/rand"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
)

// FreeSubnet picks a random 10.2xx.y.0/bits that no route of the host
// overlaps, so tests of other packages and other engineers can run at once.
func FreeSubnet(t testing.TB, bits int) netip.Prefix {
	t.Helper()
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		b := make([]byte, 2)
		rand.Read(b)
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 200 + b[0]%50, b[1], 0}), bits).Masked()
		ok := true
		for _, r := range routes {
			if r.Dst == nil {
				continue
			}
			if q, err := netip.ParsePrefix(r.Dst.String()); err == nil && q.Bits() > 0 && q.Overlaps(p) {
				ok = false
			}
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free subnet")
	return netip.Prefix{}
}
