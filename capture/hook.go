package capture

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// Hook is where an eBPF capture program runs.
type Hook int

// Hooks.
const (
	// HookXDP runs at XDP: received frames only, before the kernel builds
	// a socket buffer, VLAN tags still in the frame.
	HookXDP Hook = iota + 1
	// HookTCX runs at tcx ingress and egress: both directions, on socket
	// buffers, where the kernel has taken the outer VLAN tag out of the
	// packet (as for AF_PACKET).
	HookTCX
)

func (h Hook) String() string {
	switch h {
	case HookXDP:
		return "XDP"
	case HookTCX:
		return "tcx"
	}
	return fmt.Sprintf("hook(%d)", int(h))
}

// XDPMode is how an XDP program is attached.
type XDPMode int

// XDP modes.
const (
	// XDPModeAuto lets the kernel choose: the driver's native XDP when it
	// has it, generic (skb) mode otherwise.
	XDPModeAuto XDPMode = iota
	// XDPModeNative runs in the driver, before any allocation; the driver
	// must support it.
	XDPModeNative
	// XDPModeGeneric runs in the core network stack on any interface.
	XDPModeGeneric
)

func (m XDPMode) String() string {
	switch m {
	case XDPModeNative:
		return "native"
	case XDPModeGeneric:
		return "generic"
	}
	return "auto"
}

// ParseXDPMode reads "native" or "generic" (and "auto").
func ParseXDPMode(s string) (XDPMode, error) {
	switch s {
	case "native", "drv", "driver":
		return XDPModeNative, nil
	case "generic", "skb":
		return XDPModeGeneric, nil
	case "auto", "":
		return XDPModeAuto, nil
	}
	return 0, fmt.Errorf("capture: unknown XDP mode %q (native or generic)", s)
}

// HookConfig describes an eBPF capture: Config's interface, snap length,
// promiscuous mode, direction and filter (compiled with HookFilterConfig,
// lowered to eBPF for the hook), BufferSize as the ring buffer's size.
// Fanout and BlockTimeout do not apply.
type HookConfig struct {
	Config
	Hook    Hook
	XDPMode XDPMode
}

// Rule is one rule of a rules capture.
type Rule struct {
	Name    string // in the pcapng comment of each packet it captures
	Filter  filter.Program
	Sample  uint32
	Snaplen uint32
	Action  bpf.RuleAction
	Capture bool // with bpf.RuleDrop: copy the packet too
	// Rate, when not nil, limits the packets the rule acts on.
	Rate *bpf.RuleRate
}

// RuleStats are a rule's counters.
type RuleStats struct {
	Name                                                string
	Matched, SampledOut, RateLimited, Captured, Dropped uint64
}

// ruleStats names the rules' counters, summed over programs (one per
// socket or hook).
func ruleStats(rules []Rule, programs ...[][bpf.RuleCounterWords]uint64) []RuleStats {
	out := make([]RuleStats, len(rules))
	for i, r := range rules {
		out[i].Name = r.Name
		for _, counts := range programs {
			if i < len(counts) {
				out[i].add(counts[i])
			}
		}
	}
	return out
}

// readRuleStats is RuleStats for a source: nil without rules; once the
// source is closed, *last, the counters as read before; else what read
// gives, program by program, summed per rule and kept in *last.
func readRuleStats(rules []Rule, last *[]RuleStats, closed bool, read func() ([][][bpf.RuleCounterWords]uint64, error)) ([]RuleStats, error) {
	if len(rules) == 0 {
		return nil, nil
	}
	if closed {
		return *last, nil
	}
	programs, err := read()
	if err != nil {
		return nil, err
	}
	*last = ruleStats(rules, programs...)
	return *last, nil
}

// add adds a program's counters (bpf.Rule* slots).
func (s *RuleStats) add(c [bpf.RuleCounterWords]uint64) {
	s.Matched += c[bpf.RuleMatched]
	s.SampledOut += c[bpf.RuleSampledOut]
	s.RateLimited += c[bpf.RuleRateLimited]
	s.Captured += c[bpf.RuleCaptured]
	s.Dropped += c[bpf.RuleDropped]
}

// hooksFor is which programs a capture needs: XDP sees received packets
// only; tcx has one program per direction.
func hooksFor(h Hook, dir Direction) ([]bpf.CaptureHook, error) {
	switch h {
	case HookXDP:
		if dir == DirectionOut {
			return nil, fmt.Errorf("capture: XDP sees only received packets: capture outgoing ones with tcx")
		}
		return []bpf.CaptureHook{bpf.HookXDP}, nil
	case HookTCX:
		switch dir {
		case DirectionIn:
			return []bpf.CaptureHook{bpf.HookTCXIngress}, nil
		case DirectionOut:
			return []bpf.CaptureHook{bpf.HookTCXEgress}, nil
		}
		return []bpf.CaptureHook{bpf.HookTCXIngress, bpf.HookTCXEgress}, nil
	}
	return nil, fmt.Errorf("capture: unknown hook %d", int(h))
}

// wakeupFraction is the part of the ring that fills before the programs
// wake the reader; below it, the reader finds the records when it polls.
const wakeupFraction = 8

// hookPollInterval is how often the reader of an eBPF capture looks at
// the ring: the block timeout asked for (DefaultBlockTimeout when none),
// as AF_PACKET hands over a partly filled block. Immediate mode (a
// millisecond or less) gives 0: the programs then wake the reader as soon
// as a packet is there.
func hookPollInterval(blockTimeout time.Duration) time.Duration {
	switch {
	case blockTimeout == 0:
		return DefaultBlockTimeout
	case blockTimeout <= time.Millisecond:
		return 0
	}
	return blockTimeout
}

// clockOffset converts CLOCK_MONOTONIC, bpf_ktime_get_ns's clock, to wall
// time: realtime = monotonic + offset.
type clockOffset int64

// clockSample is one reading of both clocks: monotonic before and after
// the realtime one.
type clockSample struct {
	monoBefore, real, monoAfter int64
}

// bestOffset picks the sample read in the shortest time, the tightest
// bound on the two clocks' difference, and takes the realtime reading as
// made halfway.
func bestOffset(samples []clockSample) clockOffset {
	best := samples[0]
	for _, s := range samples[1:] {
		if s.monoAfter-s.monoBefore < best.monoAfter-best.monoBefore {
			best = s
		}
	}
	mid := best.monoBefore + (best.monoAfter-best.monoBefore)/2
	return clockOffset(best.real - mid)
}

// wall is the wall-clock time of a monotonic timestamp.
func (o clockOffset) wall(monotonic uint64) time.Time {
	ns := int64(monotonic) + int64(o)
	return time.Unix(ns/1e9, ns%1e9)
}

// recordPacket turns a decoded record into a packet and its CaptureInfo.
// A VLAN tag the kernel took out of the packet (tcx) is put back after
// the MAC addresses, as libpcap and the AF_PACKET source do, into buf,
// which must have room for the record's data and the tag.
func recordPacket(r *bpf.Record, off clockOffset, micro bool, buf []byte, ci *pcap.CaptureInfo) []byte {
	ts := off.wall(r.Monotonic)
	if micro {
		ts = ts.Truncate(time.Microsecond)
	}
	ci.Timestamp = ts
	ci.CaptureLength = int(r.CaptureLength)
	ci.Length = int(r.Length)
	ci.LinkType = pcap.LinkTypeEthernet
	if r.PacketType == bpf.PacketTypeUnknown {
		ci.Direction, ci.Flags = pcap.DirectionInbound, 0
	} else {
		ci.Direction, ci.Flags = pcap.LinuxPacketDirection(r.PacketType)
	}
	data := r.Data
	if !r.VLANPresent || len(data) < 2*macLen {
		return data
	}
	proto := r.VLANProto
	if proto == 0 {
		proto = 0x8100
	}
	out := buf[:len(data)+vlanTagLen]
	copy(out, data[:2*macLen])
	binary.BigEndian.PutUint16(out[2*macLen:], proto)
	binary.BigEndian.PutUint16(out[2*macLen+2:], r.VLANTCI)
	copy(out[2*macLen+vlanTagLen:], data[2*macLen:])
	ci.CaptureLength += vlanTagLen
	ci.Length += vlanTagLen
	return out
}

// macLen is an Ethernet address's length.
const macLen = 6

// captureSpecs builds the capture programs' specs: the filter, or each
// rule's, lowered for each hook's view of the packet.
func captureSpecs(hooks []bpf.CaptureHook, f filter.Program, rules []Rule, snaplen uint32) ([]bpf.CaptureSpec, error) {
	specs := make([]bpf.CaptureSpec, len(hooks))
	for i, h := range hooks {
		specs[i] = bpf.CaptureSpec{Hook: h, Snaplen: snaplen}
		if len(rules) == 0 {
			frag, err := lowerFilter(f, h, snaplen)
			if err != nil {
				return nil, err
			}
			specs[i].Filter = frag
			continue
		}
		for _, r := range rules {
			frag, err := lowerFilter(r.Filter, h, snaplen)
			if err != nil {
				return nil, fmt.Errorf("rule %q: %w", r.Name, err)
			}
			specs[i].Rules = append(specs[i].Rules, bpf.RuleSpec{Filter: frag, Sample: r.Sample,
				Snaplen: r.Snaplen, Action: r.Action, Capture: r.Capture, Rate: r.Rate})
		}
	}
	return specs, nil
}

// ruleComments are the pcapng comments of each rule's packets, made once.
func ruleComments(rules []Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = "rule: " + r.Name
	}
	return out
}

// HookFilterConfig is how to compile a filter for an eBPF capture on
// iface: as FilterConfig, but at XDP the program sees VLAN tags in the
// frame (KernelVLAN off), while tcx sees the socket buffer with the outer
// tag taken out, as AF_PACKET does.
func HookFilterConfig(iface string, h Hook) (filter.Config, error) {
	cfg, err := FilterConfig(iface)
	if err != nil {
		return cfg, err
	}
	if h == HookXDP {
		cfg.KernelVLAN = false
	}
	return cfg, nil
}

// mergeSetMaps adds to maps those of more it lacks: rules that use the
// same set share its maps.
func mergeSetMaps(maps, more []bpf.SetMap) []bpf.SetMap {
	for _, m := range more {
		if !slices.ContainsFunc(maps, func(o bpf.SetMap) bool { return o.Name == m.Name }) {
			maps = append(maps, m)
		}
	}
	return maps
}
