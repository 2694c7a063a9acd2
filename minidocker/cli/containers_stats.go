package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/moby/moby/api/types/container"
)

// StatsCmd is `docker stats`.
type StatsCmd struct {
	All        bool     `short:"a" help:"Show all containers (default shows just running)."`
	NoStream   bool     `name:"no-stream" help:"Disable streaming stats and only pull the first result."`
	NoTrunc    bool     `name:"no-trunc" help:"Do not truncate output."`
	Containers []string `arg:"" optional:"" name:"container"`
}

// statsRow is one line of the table.
type statsRow struct {
	id, name                              string
	cpu, mem, memLimit, memPerc           float64
	netRx, netTx, blkRead, blkWrite, pids uint64
	err                                   error
}

// Run shows the containers' resource usage, once with --no-stream, else refreshed.
func (c *StatsCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	ids := c.Containers
	if len(ids) == 0 {
		list, err := cli.ContainerList(g.ctx, client.ContainerListOptions{All: c.All})
		if err != nil {
			return err
		}
		for _, ct := range list.Items {
			ids = append(ids, ct.ID)
		}
	}
	for {
		rows := make([]statsRow, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rows[i] = c.sample(g, cli, id)
			}()
		}
		wg.Wait()
		if !c.NoStream {
			fmt.Fprint(g.stdout, "\033[2J\033[H")
		}
		var firstErr error
		w := tabwriter.NewWriter(g.stdout, 10, 1, 3, ' ', 0)
		fmt.Fprintln(w, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
		for _, r := range rows {
			if r.err != nil {
				if firstErr == nil {
					firstErr = r.err
				}
				continue
			}
			id := r.id
			if !c.NoTrunc && len(id) > 12 {
				id = id[:12]
			}
			fmt.Fprintf(w, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%s / %s\t%s / %s\t%d\n", id, r.name, r.cpu,
				units.BytesSize(r.mem), units.BytesSize(r.memLimit), r.memPerc,
				units.HumanSizeWithPrecision(float64(r.netRx), 3), units.HumanSizeWithPrecision(float64(r.netTx), 3),
				units.HumanSizeWithPrecision(float64(r.blkRead), 3), units.HumanSizeWithPrecision(float64(r.blkWrite), 3), r.pids)
		}
		w.Flush()
		if c.NoStream {
			return firstErr
		}
		select {
		case <-g.ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *StatsCmd) sample(g *Globals, cli *client.Client, id string) statsRow {
	res, err := cli.ContainerStats(g.ctx, id, client.ContainerStatsOptions{Stream: false, IncludePreviousSample: true})
	if err != nil {
		return statsRow{err: err}
	}
	defer res.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil && err != io.EOF {
		return statsRow{err: err}
	}
	return rowOf(&s)
}

// rowOf computes the table's figures the way docker's CLI does.
func rowOf(s *container.StatsResponse) statsRow {
	r := statsRow{id: s.ID, name: strings.TrimPrefix(s.Name, "/")}
	cpuDelta := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	sysDelta := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
	online := float64(s.CPUStats.OnlineCPUs)
	if online == 0 {
		online = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	if sysDelta > 0 && cpuDelta > 0 && s.PreCPUStats.SystemUsage > 0 {
		r.cpu = cpuDelta / sysDelta * online * 100
	}
	mem := s.MemoryStats.Usage
	if v, ok := s.MemoryStats.Stats["total_inactive_file"]; ok && v < mem {
		mem -= v
	} else if v, ok := s.MemoryStats.Stats["inactive_file"]; ok && v < mem {
		mem -= v
	}
	r.mem, r.memLimit = float64(mem), float64(s.MemoryStats.Limit)
	if r.memLimit > 0 {
		r.memPerc = r.mem / r.memLimit * 100
	}
	for _, n := range s.Networks {
		r.netRx += n.RxBytes
		r.netTx += n.TxBytes
	}
	for _, e := range s.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			r.blkRead += e.Value
		case "write":
			r.blkWrite += e.Value
		}
	}
	r.pids = s.PidsStats.Current
	return r
}
