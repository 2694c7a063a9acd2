package network

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/minidocker/minidocker/minidocker/errdefs"
)

// A reservation keeps a host port for one container. For tcp and udp it holds
// a socket bound (never listening) to hostIP:port: no other process can bind
// the port while the container has it, and a port that someone else already
// uses fails here, before anything was created. The socket never sees
// traffic, because the nat rules rewrite packets before the socket lookup.
type reservation struct {
	b     PortBinding
	owner string
	fd    int
}

func allocatedErr(ip string, port int) error {
	return fmt.Errorf("Bind for %s failed: port is already allocated", net.JoinHostPort(ip, strconv.Itoa(port)))
}

func overlaps(a, b PortBinding) bool {
	if a.proto() != b.proto() || a.HostPort != b.HostPort {
		return false
	}
	return a.hostIP() == b.hostIP() || a.hostIP() == "0.0.0.0" || b.hostIP() == "0.0.0.0"
}

func sockType(proto string) int {
	switch proto {
	case "tcp":
		return unix.SOCK_STREAM
	case "udp":
		return unix.SOCK_DGRAM
	}
	return -1
}

// bindPort binds a socket to ip:port (port 0 = kernel picks) and returns the
// fd and the port. For protocols without a socket here (sctp) fd is -1.
func bindPort(proto, ip string, port int) (int, int, error) {
	st := sockType(proto)
	if st < 0 {
		return -1, port, nil
	}
	fd, err := unix.Socket(unix.AF_INET, st|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, err
	}
	addr := &unix.SockaddrInet4{Port: port}
	copy(addr.Addr[:], net.ParseIP(ip).To4())
	if err := unix.Bind(fd, addr); err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	if port == 0 {
		sa, err := unix.Getsockname(fd)
		if err != nil {
			unix.Close(fd)
			return -1, 0, err
		}
		port = sa.(*unix.SockaddrInet4).Port
	}
	return fd, port, nil
}

// conflictLocked reports a clash with the ports this manager already holds.
func (m *Manager) conflictLocked(b PortBinding) bool {
	for _, r := range m.ports {
		if overlaps(r.b, b) {
			return true
		}
	}
	return false
}

// CheckPorts tells, without reserving anything, whether the bindings can be
// published now (docker checks this when the container is created).
func (m *Manager) CheckPorts(bs []PortBinding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs, err := m.reserveLocked("", bs)
	m.releaseLocked(rs)
	return err
}

// reserveLocked reserves every binding or none; it returns the bindings with
// the host ports resolved.
func (m *Manager) reserveLocked(owner string, bs []PortBinding) ([]*reservation, error) {
	var got []*reservation
	fail := func(err error) ([]*reservation, error) {
		m.releaseLocked(got)
		return nil, err
	}
	for _, b := range bs {
		if err := checkProto(b.proto()); err != nil {
			return fail(err)
		}
		b.Proto = b.proto()
		if b.HostIP == "" {
			b.HostIP = m.cfg.DefaultHostIP
		}
		if b.HostIP != "" {
			ip := net.ParseIP(b.HostIP)
			if ip == nil || ip.To4() == nil {
				return fail(errdefs.Invalid("invalid IP address: %s", b.HostIP))
			}
			if ip.IsUnspecified() {
				b.HostIP = ""
			}
		}
		if b.ContainerPort <= 0 || b.ContainerPort > 65535 {
			return fail(errdefs.Invalid("invalid containerPort: %d", b.ContainerPort))
		}
		if b.HostPort < 0 || b.HostPort > 65535 || b.HostPortEnd > 65535 {
			return fail(errdefs.Invalid("invalid hostPort: %d", b.HostPort))
		}
		var r *reservation
		var err error
		if b.HostPortEnd > b.HostPort {
			for p := b.HostPort; p <= b.HostPortEnd && r == nil; p++ {
				c := b
				c.HostPort, c.HostPortEnd = p, 0
				r, err = m.reserveOneLocked(owner, c)
			}
			if r == nil {
				return fail(fmt.Errorf("Bind for %s:%d-%d failed: port is already allocated", b.hostIP(), b.HostPort, b.HostPortEnd))
			}
		} else {
			b.HostPortEnd = 0
			if r, err = m.reserveOneLocked(owner, b); err != nil {
				return fail(err)
			}
		}
		got = append(got, r)
		m.ports = append(m.ports, r)
	}
	return got, nil
}

func (m *Manager) reserveOneLocked(owner string, b PortBinding) (*reservation, error) {
	if b.HostPort != 0 && m.conflictLocked(b) {
		return nil, allocatedErr(b.hostIP(), b.HostPort)
	}
	for tries := 0; ; tries++ {
		fd, port, err := bindPort(b.proto(), b.hostIP(), b.HostPort)
		if errors.Is(err, unix.EADDRINUSE) {
			return nil, allocatedErr(b.hostIP(), b.HostPort)
		}
		if errors.Is(err, unix.EADDRNOTAVAIL) {
			return nil, errdefs.Invalid("Bind for %s failed: cannot assign requested address", net.JoinHostPort(b.hostIP(), strconv.Itoa(b.HostPort)))
		}
		if err != nil {
			return nil, fmt.Errorf("Bind for %s failed: %w", net.JoinHostPort(b.hostIP(), strconv.Itoa(b.HostPort)), err)
		}
		c := b
		c.HostPort = port
		if b.HostPort == 0 && m.conflictLocked(c) && tries < 20 {
			// the kernel gave a port another binding of ours holds on a
			// different address or protocol; ask again
			defer closeFd(fd)
			continue
		}
		return &reservation{b: c, owner: owner, fd: fd}, nil
	}
}

func closeFd(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}

func (m *Manager) releaseLocked(rs []*reservation) {
	for _, r := range rs {
		closeFd(r.fd)
		r.fd = -1
		for i, h := range m.ports {
			if h == r {
				m.ports = append(m.ports[:i], m.ports[i+1:]...)
				break
			}
		}
	}
}

func (m *Manager) releaseOwnerLocked(owner string) {
	var rs []*reservation
	for _, r := range m.ports {
		if r.owner == owner {
			rs = append(rs, r)
		}
	}
	m.releaseLocked(rs)
}
