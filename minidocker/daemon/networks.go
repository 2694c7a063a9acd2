package daemon

import (
	"fmt"
	"path/filepath"

	"github.com/moby/moby/api/types/container"

	"github.com/minidocker/minidocker/minidocker/network"
	"github.com/minidocker/minidocker/minidocker/runtime"
)

// This file is the seam between containers and networking. The container
// code calls only these hooks: checkNetworking at create, connect at start,
// disconnect when the container stops or is removed.

// initNetworks opens the network manager: the default bridge, iptables
// base rules, the IPAM state under <data-root>/network.
func (d *Daemon) initNetworks() error {
	m, err := network.New(network.Config{
		BridgeName:  d.cfg.Bridge,
		BridgeCIDR:  d.cfg.Bip,
		ChainPrefix: d.cfg.IPTablesChain,
		IPTables:    d.cfg.IPTablesEnabled(),
		StateDir:    filepath.Join(d.cfg.DataRoot, "network"),
		ExecRoot:    d.cfg.ExecRoot,
	})
	if err != nil {
		return fmt.Errorf("setting up networking: %w", err)
	}
	d.networks = m
	return nil
}

func (d *Daemon) closeNetworks() error {
	if d.networks == nil {
		return nil
	}
	if d.cfg.RemoveNetworkOnExit {
		return d.networks.Cleanup()
	}
	return d.networks.Close()
}

// networkWarnings are the host problems `info` reports (ip_forward off,
// bridge netfilter missing).
func (d *Daemon) networkWarnings() []string { return network.CheckHost() }

// checkNetworking validates a container's network settings at create time,
// before anything exists, so a bad mode or a taken port leaves nothing.
func (d *Daemon) checkNetworking(cfg *container.Config, hc *container.HostConfig) error {
	switch mode := string(hc.NetworkMode); mode {
	case "none", "host":
		return nil
	default:
		return fmt.Errorf("network mode %q is not supported yet", mode)
	}
}

// connect gives a starting container its network namespace: which one
// init must join, and the IP address for /etc/hosts ("" when none).
func (d *Daemon) connect(c *Container) (net runtime.Network, ip string, err error) {
	switch string(c.HostConfig.NetworkMode) {
	case "host":
		return runtime.Network{Mode: "host"}, "", nil
	default:
		return runtime.Network{Mode: "none"}, "", nil
	}
}

// disconnect releases what connect made. It is idempotent: it runs on stop,
// on a failed start and on rm.
func (d *Daemon) disconnect(c *Container) {}
