package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// backend is where a live capture's filter runs.
type backend int

const (
	// backendClassic is an AF_PACKET socket with a classic BPF filter, as
	// tcpdump: the default.
	backendClassic backend = iota
	// backendEBPF is an AF_PACKET socket with the filter as an eBPF
	// socket filter (--ebpf).
	backendEBPF
	// backendXDP is an XDP program copying matches into a BPF ring buffer
	// (--xdp): received packets only.
	backendXDP
	// backendTC is a tcx program on ingress and egress (--tc).
	backendTC
	// backendAuto is the fastest backend that works here, falling back to
	// the next one when it does not (--backend auto).
	backendAuto
)

var backendNames = []string{"classic", "ebpf", "xdp", "tc", "auto"}

func (b backend) String() string { return backendNames[b] }

// description is how messages name a backend.
func (b backend) description() string {
	switch b {
	case backendEBPF:
		return "AF_PACKET with an eBPF filter"
	case backendXDP:
		return "XDP"
	case backendTC:
		return "tcx"
	case backendAuto:
		return "auto"
	}
	return "AF_PACKET with a classic BPF filter"
}

// hook is the eBPF capture hook of an XDP or tcx backend.
func (b backend) hook() capture.Hook {
	if b == backendXDP {
		return capture.HookXDP
	}
	return capture.HookTCX
}

// applyBackend records --backend, --xdp, --tc, --ebpf and --xdp-mode.
func (o *options) applyBackend(p parsedOption) error {
	if p.spec.long == "xdp-mode" {
		if p.arg != "native" && p.arg != "generic" {
			return fmt.Errorf("invalid XDP mode %s (must be native or generic)", p.arg)
		}
		o.xdpMode, _ = capture.ParseXDPMode(p.arg)
		o.xdpModeSet = true
		return nil
	}
	name := p.spec.long
	if name == "backend" {
		name = strings.ToLower(p.arg)
	}
	b := -1
	for i, n := range backendNames {
		if n == name {
			b = i
		}
	}
	if b < 0 {
		return fmt.Errorf("invalid backend %s (must be auto, classic, ebpf, xdp or tc)", p.arg)
	}
	if o.backendSet && o.backend != backend(b) {
		return fmt.Errorf("%s conflicts with the %s backend already chosen", p.name, o.backend)
	}
	o.backend, o.backendSet = backend(b), true
	return nil
}

// checkBackendOptions rejects options a backend cannot honour.
func (o *options) checkBackendOptions() error {
	switch {
	case o.xdpModeSet && o.backend != backendXDP && o.backend != backendAuto:
		return errors.New("--xdp-mode applies to XDP capture: add --xdp")
	case o.fanout > 1 && (o.backend == backendXDP || o.backend == backendTC):
		return fmt.Errorf("--fanout applies to AF_PACKET sockets, not to --%s", o.backend)
	case o.backend == backendXDP && o.direction == capture.DirectionOut:
		return errors.New("XDP sees only received packets: -Q out needs --tc")
	case o.readFile != "" && o.backendSet && o.backend != backendClassic && o.backend != backendAuto:
		return fmt.Errorf("--%s is for live capture: it does not apply to -r", o.backend)
	}
	return nil
}

// autoChain is what --backend auto tries, in order: XDP when only received
// packets are wanted (it sees no others), else tcx, which sees both
// directions; then AF_PACKET with an eBPF filter; then the classic one.
func autoChain(dir capture.Direction, fanout int) []backend {
	switch {
	case fanout > 1:
		return []backend{backendEBPF, backendClassic}
	case dir == capture.DirectionIn:
		return []backend{backendXDP, backendEBPF, backendClassic}
	}
	return []backend{backendTC, backendEBPF, backendClassic}
}

// errReported marks a failure already reported to the user (a filter
// that does not compile), after which no other backend is tried.
var errReported = errors.New("reported")

// openLive compiles the filter for the interface and opens the capture
// with the backend asked for; --backend auto falls back from one backend
// to the next, saying why. Errors are reported.
func (c *command) openLive(cfg capture.Config, expr string) (liveSource, bool) {
	chain := []backend{c.opts.backend}
	if c.opts.backend == backendAuto {
		chain = autoChain(c.opts.direction, c.opts.fanout)
	}
	for i, b := range chain {
		src, err := c.openWith(b, cfg, expr)
		switch {
		case err == nil:
			return src, true
		case errors.Is(err, errReported):
			return nil, false
		case i+1 < len(chain):
			c.errorf("warning: %s capture unavailable: %s; trying %s", b.description(), liveErrorText(err), chain[i+1].description())
			continue
		}
		c.reportOpenError(cfg.Interface, err)
	}
	return nil, false
}

// openWith opens a capture with one backend.
func (c *command) openWith(b backend, cfg capture.Config, expr string) (liveSource, error) {
	var fcfg filter.Config
	var err error
	if b == backendXDP || b == backendTC {
		fcfg, err = c.system.HookFilterConfig(cfg.Interface, b.hook())
	} else {
		fcfg, err = c.system.FilterConfig(cfg.Interface)
	}
	if err != nil {
		return nil, err
	}
	if c.opts.linkTypeSet && c.opts.linkType != fcfg.LinkType {
		c.errorf("%s is not one of the DLTs supported by this device", c.opts.linkType.Name())
		return nil, errReported
	}
	fcfg.Snaplen = c.liveSnaplen()
	fcfg.Optimize = !c.opts.noOptimize
	if b != backendClassic && len(c.sets) > 0 {
		// eBPF programs look sets up in maps, whatever their size.
		fcfg.SetLookups, cfg.Sets = true, c.sets
	}
	if strings.TrimSpace(expr) != "" {
		prog, ok := c.compile(expr, fcfg)
		if !ok {
			return nil, errReported
		}
		cfg.Filter = prog
	}
	switch b {
	case backendXDP, backendTC:
		hcfg := capture.HookConfig{Config: cfg, Hook: b.hook(), XDPMode: c.opts.xdpMode}
		programs, err := c.liveRules(fcfg, &hcfg.Config)
		if err != nil {
			return nil, err
		}
		src, err := c.system.OpenHook(hcfg)
		if err == nil {
			c.addReloadable(src, hcfg.Sets, fcfg, expr, programs)
		}
		return src, err
	case backendEBPF:
		cfg.EBPF = true
	}
	programs := []filter.Program{cfg.Filter}
	if cfg.EBPF {
		if programs, err = c.liveRules(fcfg, &cfg); err != nil {
			return nil, err
		}
	}
	src, err := c.system.Open(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.EBPF {
		c.addReloadable(src, cfg.Sets, fcfg, expr, programs)
	}
	// As tcpdump, say so when the kernel refused the filter, which then
	// runs in user space.
	if r, ok := src.(interface{ FilterRefused() error }); ok {
		if err := r.FilterRefused(); err != nil {
			c.errorf("warning: %s", liveErrorText(err))
		}
	}
	return src, nil
}

// dumpConfig is the filter.Config -d compiles with for a backend without
// -i: Ethernet as the interface would show it to the backend's program.
func dumpConfig(b backend, snaplen uint32, optimize bool) filter.Config {
	return filter.Config{
		LinkType:   pcap.LinkTypeEthernet,
		Snaplen:    snaplen,
		Optimize:   optimize,
		KernelVLAN: b == backendTC, // tcx sees socket buffers, tags out
	}
}

// liveRules puts the rules file's rules and sets, if any, into cfg for an
// eBPF capture and returns the programs a set reload recompiles: the
// rules' filters, or else cfg's filter.
func (c *command) liveRules(fcfg filter.Config, cfg *capture.Config) ([]filter.Program, error) {
	if c.rules == nil {
		return []filter.Program{cfg.Filter}, nil
	}
	var err error
	if cfg.Rules, cfg.Sets, err = c.hookRules(fcfg); err != nil {
		c.reportRulesError(err)
		return nil, errReported
	}
	programs := make([]filter.Program, len(cfg.Rules))
	for i, r := range cfg.Rules {
		programs[i] = r.Filter
	}
	return programs, nil
}

// addReloadable lets SIGHUP and --watch reload the sets of src, a source
// whose programs look sets up in kernel maps.
func (c *command) addReloadable(src liveSource, sets map[string]*filter.Set, fcfg filter.Config, expr string, programs []filter.Program) {
	u, ok := src.(interface {
		UpdateSets(map[string]*filter.Set) error
	})
	if ok && len(sets) > 0 {
		c.reloadables = append(c.reloadables, reloadable{src: u, fcfg: fcfg, expr: expr, programs: programs})
	}
}
