package libcontainer

// Shims started ahead of need. A shim is this Go binary: before it reads
// its first byte of spec it has paid the runtime's start-up and the
// package inits, a good part of a container's start. So every shim is
// started as a spare that knows no bundle yet and waits on a control
// socket (its fd 3); claiming it sends the bundle's path, and the answer
// comes back on the same socket. A daemon keeps one spare ready
// (SpareShims), so a `run` finds the Go process already up.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// shimControlFd is the spare's end of its control socket: it reads its
// claim there, and writes its report (shimResponse) back.
const shimControlFd = 3

// shimClaim is what the daemon sends a spare: the bundle it will hold.
type shimClaim struct {
	Bundle string
}

// spareShim is a started shim that waits for its claim.
type spareShim struct {
	cmd    *exec.Cmd
	ctl    *os.File      // the daemon's end of the control socket
	exited chan struct{} // closed once the process has ended (and is reaped)
}

// startSpareShim starts "minidocker shim" in a session of its own (it
// outlives the daemon once it holds a container). Its only link to the
// daemon is the control socket: if the daemon goes away (even kill -9)
// before claiming it, the spare reads EOF and exits. Parent-death signals
// cannot do this: they would also end a claimed shim with the daemon.
func startSpareShim() (*spareShim, error) {
	mine, child, err := socketPair("shim-control")
	if err != nil {
		return nil, err
	}
	defer child.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		mine.Close()
		return nil, err
	}
	defer null.Close()
	cmd := &exec.Cmd{
		Path:        selfExe,
		Args:        []string{os.Args[0], roleShim},
		Env:         []string{roleEnv + "=" + roleShim, "PATH=" + defaultPath, "GOMAXPROCS=1", "_MINIDOCKER_TRACE=" + os.Getenv("_MINIDOCKER_TRACE")},
		Dir:         "/",
		Stdin:       null,
		Stdout:      null,
		Stderr:      null, // until claimed: then <bundle>/shim.log
		ExtraFiles:  []*os.File{child},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, fmt.Errorf("runtime: start shim: %w", err)
	}
	sp := &spareShim{cmd: cmd, ctl: mine, exited: make(chan struct{})}
	go func() { // reap it when it ends while we are still here
		cmd.Wait()
		close(sp.exited)
	}()
	return sp, nil
}

// claim hands the spare its bundle and waits until it has made the
// container (CreateShim's contract). Cancelling ctx before the shim
// reported kills it.
func (sp *spareShim) claim(ctx context.Context, bundleDir string) (*Shim, error) {
	defer sp.ctl.Close()
	b, _ := json.Marshal(shimClaim{Bundle: bundleDir})
	if _, err := sp.ctl.Write(append(b, '\n')); err != nil {
		sp.cmd.Process.Kill()
		return nil, fmt.Errorf("runtime: start shim: %w", err)
	}
	type result struct {
		r   shimResponse
		err error
	}
	rc := make(chan result, 1)
	go func() {
		var r shimResponse
		err := json.NewDecoder(sp.ctl).Decode(&r)
		rc <- result{r, err}
	}()
	select {
	case <-ctx.Done():
		sp.cmd.Process.Kill()
		return nil, ctx.Err()
	case res := <-rc:
		if res.err != nil {
			b, _ := os.ReadFile(bundleFile(bundleDir, ShimLogFile))
			why := strings.TrimSpace(string(b))
			if why == "" {
				why = "it ended before it reported"
			}
			return nil, fmt.Errorf("runtime: shim failed: %s", why)
		}
		if res.r.Error != "" {
			return nil, &StartError{Code: res.r.Code, Message: res.r.Error}
		}
		return &Shim{bundle: bundleDir, Pid: res.r.Pid}, nil
	}
}

// discard lets an unclaimed spare go: on EOF it exits.
func (sp *spareShim) discard() { sp.ctl.Close() }

// gone reports whether the spare has already ended (killed by someone).
func (sp *spareShim) gone() bool {
	select {
	case <-sp.exited:
		return true
	default:
		return false
	}
}

// awaitClaim is a spare's wait for its bundle. On EOF (the daemon went
// away or let it go) it reports ok false: the spare then exits. Claimed,
// it becomes the bundle's shim: the bundle is its working directory (how
// Cleanup and the daemon know it: its command line was fixed before it
// had a bundle) and shim.log its stderr.
func awaitClaim(ctl *os.File) (bundle string, ok bool, err error) {
	var c shimClaim
	if err := json.NewDecoder(ctl).Decode(&c); err != nil || c.Bundle == "" {
		return "", false, nil
	}
	if !filepath.IsAbs(c.Bundle) {
		return "", true, fmt.Errorf("bundle %q is not an absolute path", c.Bundle)
	}
	if err := os.Chdir(c.Bundle); err != nil {
		return c.Bundle, true, err
	}
	// at once, not when the container is made: a daemon killed while this
	// shim makes it leaves a bundle whose Cleanup must find the shim (and
	// kill it) before the bundle is removed under the shim's writes
	writeFileAtomic(bundleFile(c.Bundle, ShimPidFile), []byte(strconv.Itoa(os.Getpid())), 0o644)
	logf, err := os.OpenFile(bundleFile(c.Bundle, ShimLogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return c.Bundle, true, err
	}
	defer logf.Close()
	if err := unix.Dup3(int(logf.Fd()), 2, 0); err != nil {
		return c.Bundle, true, err
	}
	trace("shim: claimed") // the first line in shim.log
	return c.Bundle, true, nil
}

// SpareShims keeps one shim started ahead of need for a daemon: CreateShim
// claims it and Refill starts the next one in the background, so the Go
// start-up of a shim is off the path of a container's start. The spare is
// never a container: it has no bundle, no cgroup, no record. A nil
// *SpareShims starts every shim on demand.
type SpareShims struct {
	mu       sync.Mutex
	spare    *spareShim // ready to be claimed, or nil
	starting bool       // a refill is starting one
	closed   bool
}

// NewSpareShims starts the first spare in the background.
func NewSpareShims() *SpareShims {
	p := &SpareShims{}
	go p.refill()
	return p
}

// CreateShim is the package's CreateShim on the spare when one is ready,
// on a shim started now otherwise (two starts at once: the second one).
// It does not start the next spare: the caller calls Refill once the
// container's start is over (done or failed). A refill is two Go
// start-ups, the shim's and its spare init's, about 45 ms of CPU here
// (their schedstat); started at the claim, they ran alongside the very
// start that claimed the spare, which on two cores wants both.
func (p *SpareShims) CreateShim(ctx context.Context, bundleDir string) (*Shim, error) {
	bundleDir, err := filepath.Abs(bundleDir)
	if err != nil {
		return nil, err
	}
	var sp *spareShim
	if p != nil {
		sp = p.take()
	}
	if sp == nil {
		if sp, err = startSpareShim(); err != nil {
			return nil, err
		}
	}
	os.Remove(bundleFile(bundleDir, ExitFile))
	return sp.claim(ctx, bundleDir)
}

// take removes the ready spare from the pool (nil: none is ready).
func (p *SpareShims) take() *spareShim {
	p.mu.Lock()
	defer p.mu.Unlock()
	sp := p.spare
	p.spare = nil
	if sp != nil && sp.gone() {
		sp.discard()
		return nil
	}
	return sp
}

// Refill starts the next spare in the background unless one is ready or
// on its way.
func (p *SpareShims) Refill() {
	if p != nil {
		go p.refill()
	}
}

// refill starts a spare unless one is ready or on its way. The process
// is started without the lock held: a start takes milliseconds, and
// CreateShim must not wait for it.
func (p *SpareShims) refill() {
	p.mu.Lock()
	if p.closed || p.spare != nil || p.starting {
		p.mu.Unlock()
		return
	}
	p.starting = true
	p.mu.Unlock()
	sp, err := startSpareShim()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starting = false
	if err != nil {
		slog.Warn("starting a spare shim", "err", err)
		return
	}
	if p.closed || p.spare != nil {
		sp.discard()
		return
	}
	p.spare = sp
}

// Close lets the spare go (it exits on its own) and starts no more.
// Claimed shims run on: they hold containers.
func (p *SpareShims) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	sp := p.spare
	p.spare = nil
	p.mu.Unlock()
	if sp != nil {
		sp.discard()
		select {
		case <-sp.exited:
		case <-time.After(2 * time.Second):
			sp.cmd.Process.Kill()
		}
	}
}
