package network

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/minidocker/minidocker/minidocker/testutil"
)

// TestFiftyAtOnce attaches 50 containers with published ports concurrently,
// reaches each through the host's 127.0.0.1, then detaches them concurrently.
func TestFiftyAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 50
	eps := make([]*Endpoint, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			eps[i], errs[i] = e.m.Attach(context.Background(), AttachRequest{
				ContainerID: fmt.Sprintf("fifty%02d-%s", i, testutil.RandomHex(4)),
				Ports:       []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 80}, {ContainerPort: 53, Proto: "udp"}},
			})
		}(i)
	}
	wg.Wait()
	seenIP, seenPort := map[string]bool{}, map[int]bool{}
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("attach %d: %v", i, errs[i])
		}
		if seenIP[eps[i].IP.String()] || seenPort[eps[i].Ports[0].HostPort] {
			t.Fatalf("duplicate IP or port: %+v", eps[i])
		}
		seenIP[eps[i].IP.String()], seenPort[eps[i].Ports[0].HostPort] = true, true
		serve(t, eps[i].NetnsPath, 80, eps[i].ContainerID)
	}
	for _, ep := range eps {
		mustFetch(t, "host", "", fmt.Sprintf("127.0.0.1:%d", ep.Ports[0].HostPort), "hello from "+ep.ContainerID)
	}
	// udp through the published port of the last one
	last := eps[n-1]
	var pc net.PacketConn
	if err := RunInNetns(last.NetnsPath, func() (err error) { pc, err = net.ListenPacket("udp4", ":53"); return err }); err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 100)
		for {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte("echo "), buf[:k]...), from)
		}
	}()
	c, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", last.Ports[1].HostPort))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	c.Write([]byte("ping"))
	buf := make([]byte, 100)
	k, err := c.Read(buf)
	c.Close()
	if err != nil || string(buf[:k]) != "echo ping" {
		t.Errorf("udp: %q %v", buf[:k], err)
	}

	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = e.m.Detach(eps[i].ContainerID)
		}(i)
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Errorf("detach %d: %v", i, errs[i])
		}
	}
	e.assertClean(t)
}

// BenchmarkThroughput sends 200 MB to a container through its published
// port on the host's 127.0.0.1 (DNAT + route_localnet, all in the kernel) and
// straight to its IP, and reports both rates and their ratio.
func BenchmarkThroughput(b *testing.B) {
	e := newEnv(b)
	ep, err := e.m.Attach(context.Background(), AttachRequest{ContainerID: "tput" + testutil.RandomHex(4), Ports: []PortBinding{{HostIP: "127.0.0.1", ContainerPort: 5001}}})
	if err != nil {
		b.Fatal(err)
	}
	var ln net.Listener
	if err := RunInNetns(ep.NetnsPath, func() (err error) { ln, err = net.Listen("tcp4", ":5001"); return err }); err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	const size = 200 << 20
	send := func(addr string) float64 {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 256<<10)
		start := time.Now()
		for sent := 0; sent < size; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
		return float64(size) / (1 << 20) / time.Since(start).Seconds()
	}
	var viaPort, direct float64
	for i := 0; i < b.N; i++ {
		viaPort += send(fmt.Sprintf("127.0.0.1:%d", ep.Ports[0].HostPort))
		direct += send(net.JoinHostPort(ep.IP.String(), "5001"))
	}
	b.ReportMetric(viaPort/float64(b.N), "MB/s-127.0.0.1")
	b.ReportMetric(direct/float64(b.N), "MB/s-direct")
	b.ReportMetric(viaPort/direct, "ratio")
	e.m.Detach(ep.ContainerID)
}
