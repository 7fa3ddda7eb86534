package capture

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// HookSource is a live capture by an eBPF program at XDP or tcx: the
// program copies matching packets into a BPF ring buffer, which
// ReadPacket reads. The programs are attached through BPF links owned by
// this process, so they go when it exits, however it ends.
type HookSource struct {
	name    string
	snaplen uint32
	micro   bool
	offset  clockOffset

	objs    *bpf.CaptureObjects
	ring    *bpfRing
	mapping [][]byte // the ring's two mappings
	waiter  *waiter
	links   []link.Link // closing a link detaches its program, and may sleep
	promisc int         // packet socket holding promiscuous mode; -1 for none
	// poll is how often the reader looks at the ring when the programs
	// do not wake it per packet; 0 when they do.
	poll time.Duration
	// onWait runs before the reader waits for the ring (OnWait).
	onWait func()
	// rules and the comments of their packets, for a rules capture.
	rules    []Rule
	comments []string
	// programs are the filter or the rules' filters, whose set lookups
	// UpdateSets fills again.
	programs []filter.Program

	// ReadPacket's state, reused so that reading allocates nothing.
	decoded bpf.Record
	buf     []byte
	readMu  sync.Mutex // held while reading; Close takes it to unmap
	drained bool       // after Stop, the ring was read once more
	// readSinceWait says records were read since the last wait, and
	// lastRead when the reader last saw one: it polls until s.poll has
	// passed without any, then sleeps until woken (nextWait).
	readSinceWait bool
	lastRead      time.Time

	stopped   atomic.Bool
	closed    atomic.Bool
	mu        sync.Mutex // guards links, closing and stats
	stats     Stats
	ruleStats []RuleStats // as last read, kept past Close
}

// OpenHook starts an eBPF capture as cfg says: it loads the capture
// programs with the filter, attaches them to the interface and returns
// the source reading their ring buffer.
func OpenHook(cfg HookConfig) (*HookSource, error) {
	target, err := resolveInterface(cfg.Interface)
	if err != nil {
		return nil, err
	}
	if target.index == 0 {
		return nil, fmt.Errorf("capture: %s capture needs one interface, not %q", cfg.Hook, cfg.Interface)
	}
	if target.linkType != pcap.LinkTypeEthernet {
		return nil, fmt.Errorf("capture: %s: %s capture needs an Ethernet interface, not %s", target.name, cfg.Hook, target.linkType.Name())
	}
	hooks, err := hooksFor(cfg.Hook, cfg.Direction)
	if err != nil {
		return nil, err
	}
	snaplen := cfg.Snaplen
	if snaplen == 0 || snaplen > maxSnaplen {
		snaplen = maxSnaplen
	}
	if len(cfg.Rules) > 0 && cfg.Filter != nil {
		return nil, fmt.Errorf("capture: %s: rules replace the filter: give one or the other", target.name)
	}
	specs, err := captureSpecs(hooks, cfg.Filter, cfg.Rules, snaplen)
	if err != nil {
		return nil, fmt.Errorf("capture: %s: %w", target.name, err)
	}
	ringBytes := bpf.RingBytes(cfg.BufferSize, snaplen, os.Getpagesize())
	s := &HookSource{name: target.name, snaplen: snaplen, micro: !cfg.Nanoseconds, promisc: -1,
		rules: cfg.Rules, comments: ruleComments(cfg.Rules), programs: []filter.Program{cfg.Filter}}
	for _, r := range cfg.Rules {
		s.programs = append(s.programs, r.Filter)
	}
	if s.poll = hookPollInterval(cfg.BlockTimeout); s.poll > 0 {
		for i := range specs {
			specs[i].WakeupBytes = ringBytes / wakeupFraction
		}
	}
	if err := s.open(target, cfg, specs, ringBytes); err != nil {
		s.release()
		// The probes cost a few program loads: they run only to explain
		// a failure by the feature the kernel lacks.
		for _, h := range hooks {
			if perr := bpf.ProbeCapture(h); perr != nil {
				return nil, bpfError(target.name, "probing for "+cfg.Hook.String(), perr)
			}
		}
		return nil, err
	}
	return s, nil
}

// open loads, starts reading and attaches, in that order, so the ring has
// a reader before the first packet.
func (s *HookSource) open(target captureTarget, cfg HookConfig, specs []bpf.CaptureSpec, ringBytes uint32) error {
	var err error
	maps, err := bpf.SetMaps(cfg.Filter, cfg.Sets)
	for _, r := range cfg.Rules {
		if err == nil {
			var more []bpf.SetMap
			more, err = bpf.SetMaps(r.Filter, cfg.Sets)
			maps = mergeSetMaps(maps, more)
		}
	}
	if err != nil {
		return fmt.Errorf("capture: %s: %w", target.name, err)
	}
	if s.objs, err = bpf.LoadCapture(specs, ringBytes, maps); err != nil {
		return bpfError(target.name, "loading the capture program", err)
	}
	if err := s.mapRing(int(ringBytes)); err != nil {
		return fmt.Errorf("capture: %s: ring buffer: %w", target.name, err)
	}
	if s.waiter, err = newWaiter([]int{s.objs.Ring.FD()}); err != nil {
		return err
	}
	s.buf = make([]byte, int(s.snaplen)+vlanTagLen)
	if s.offset, err = measureClockOffset(); err != nil {
		return err
	}
	if cfg.Promiscuous {
		if s.promisc, err = holdPromiscuous(target); err != nil {
			return err
		}
	}
	for _, spec := range specs {
		l, err := attach(target, spec.Hook, s.objs.Programs[spec.Hook], cfg.XDPMode)
		if err != nil {
			return err
		}
		s.links = append(s.links, l)
	}
	return nil
}

// mapRing maps the ring buffer's position pages and data, as the kernel
// lays them out: the consumer page writable, then the producer page and
// the data twice, read-only.
func (s *HookSource) mapRing(size int) error {
	page := os.Getpagesize()
	fd := s.objs.Ring.FD()
	cons, err := rawMmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	s.mapping = append(s.mapping, cons)
	prod, err := rawMmap(fd, int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	s.mapping = append(s.mapping, prod)
	prefault(prod, page)
	s.ring = newBPFRing((*uint64)(unsafe.Pointer(&cons[0])), (*uint64)(unsafe.Pointer(&prod[0])), prod[page:])
	s.ring.holdBack = s.poll > 0
	return nil
}

// attach links a program to the interface's hook.
func attach(target captureTarget, hook bpf.CaptureHook, p *ebpf.Program, mode XDPMode) (link.Link, error) {
	switch hook {
	case bpf.HookXDP:
		flags := link.XDPAttachFlags(0)
		switch mode {
		case XDPModeNative:
			flags = link.XDPDriverMode
		case XDPModeGeneric:
			flags = link.XDPGenericMode
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: p, Interface: target.index, Flags: flags})
		if err != nil {
			return nil, xdpAttachError(target, mode, err)
		}
		return l, nil
	default:
		at := ebpf.AttachTCXIngress
		if hook == bpf.HookTCXEgress {
			at = ebpf.AttachTCXEgress
		}
		l, err := link.AttachTCX(link.TCXOptions{Interface: target.index, Program: p, Attach: at})
		if err != nil {
			return nil, bpfError(target.name, "attaching to "+hook.String(), err)
		}
		return l, nil
	}
}

// holdPromiscuous puts the interface in promiscuous mode through a packet
// socket's membership, which the kernel undoes when the socket closes,
// even if the process is killed. The socket is never bound: it receives
// nothing.
func holdPromiscuous(target captureTarget) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, sysError(target.name, "socket", err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(target.index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		unix.Close(fd)
		return -1, sysError(target.name, "setsockopt PACKET_ADD_MEMBERSHIP", err)
	}
	return fd, nil
}

// measureClockOffset samples CLOCK_MONOTONIC around CLOCK_REALTIME a few
// times and keeps the tightest reading.
func measureClockOffset() (clockOffset, error) {
	var samples [8]clockSample
	for i := range samples {
		var a, r, b unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &a); err != nil {
			return 0, fmt.Errorf("capture: clock_gettime: %w", err)
		}
		_ = unix.ClockGettime(unix.CLOCK_REALTIME, &r)
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &b)
		samples[i] = clockSample{a.Nano(), r.Nano(), b.Nano()}
	}
	return bestOffset(samples[:]), nil
}

// LinkType is Ethernet: XDP and tcx captures run on Ethernet interfaces.
func (s *HookSource) LinkType() pcap.LinkType { return pcap.LinkTypeEthernet }

// Snaplen is the most bytes kept of each packet.
func (s *HookSource) Snaplen() uint32 { return s.snaplen }

// ReadPacket blocks until a packet arrives and returns it; the data is
// valid until the next call. After Stop it returns the packets already in
// the ring, then io.EOF.
func (s *HookSource) ReadPacket() (data []byte, ci pcap.CaptureInfo, err error) {
	data, err = s.ReadPacketInfo(&ci)
	return data, ci, err
}

// ReadPacketInfo is ReadPacket filling *ci in place.
func (s *HookSource) ReadPacketInfo(ci *pcap.CaptureInfo) ([]byte, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for {
		if s.closed.Load() {
			return nil, io.EOF
		}
		rec, err := s.ring.next()
		if err != nil {
			return nil, err
		}
		if rec != nil {
			s.readSinceWait = true
			if err := bpf.DecodeRecord(rec, &s.decoded); err != nil {
				return nil, fmt.Errorf("capture: %s: %w", s.name, err)
			}
			data := recordPacket(&s.decoded, s.offset, s.micro, s.buf, ci)
			ci.Comment = ""
			if r := int(s.decoded.Rule); r > 0 && r <= len(s.comments) {
				ci.Comment = s.comments[r-1]
			}
			return data, nil
		}
		if s.stopped.Load() {
			if s.drained {
				return nil, io.EOF
			}
			// Once more, for records the programs wrote as they went.
			s.drained = true
			time.Sleep(time.Millisecond)
			continue
		}
		if s.onWait != nil {
			s.onWait()
		}
		timeout, ok := s.nextWait()
		if !ok {
			continue // records landed as the reader gave the ring back
		}
		if _, err := s.waiter.wait(timeout); err != nil {
			return nil, err
		}
	}
}

// nextWait is how long to wait for the ring (negative: until woken). With
// batched wake-ups the reader polls every s.poll for the records below
// the wake-up mark while records come; once a whole poll interval passed
// without one, it gives the ring back and sleeps until the next record
// wakes it, so an idle capture does not wake at all. ok is false when
// records arrived meanwhile: read them first.
func (s *HookSource) nextWait() (timeout time.Duration, ok bool) {
	if s.poll <= 0 {
		return -1, true
	}
	now := time.Now()
	if s.readSinceWait {
		s.readSinceWait, s.lastRead = false, now
	}
	if now.Sub(s.lastRead) < s.poll {
		return s.poll, true // the waiter keeps its earlier deadline
	}
	return -1, s.ring.caughtUp()
}

// OnWait has f called by ReadPacket, in its goroutine, each time it has
// read the ring empty and is about to wait: a writer flushes there, so
// its system calls come while the capture has nothing else to do and the
// file never lags more than one wake-up behind. Call it before reading.
func (s *HookSource) OnWait(f func()) { s.onWait = f }

// Stop detaches the programs, so no new packet is captured; ReadPacket
// returns those already in the ring, then io.EOF. Safe from any goroutine
// and more than once.
func (s *HookSource) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() || s.stopped.Load() {
		return
	}
	s.collectStats()
	s.closeLinks()
	s.stopped.Store(true)
	s.waiter.wake()
}

// UpdateSets fills the maps of the programs' set lookups from sets, in
// place, while the programs run: the programs must look up the same
// kinds of entries as they were compiled for (same programs compiled
// with the new sets), which the caller checks.
func (s *HookSource) UpdateSets(sets map[string]*filter.Set) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return fmt.Errorf("capture: %s: closed", s.name)
	}
	var maps []bpf.SetMap
	for _, p := range s.programs {
		more, err := bpf.SetMaps(p, sets)
		if err != nil {
			return fmt.Errorf("capture: %s: %w", s.name, err)
		}
		maps = mergeSetMaps(maps, more)
	}
	for _, m := range maps {
		em := s.objs.SetMaps[m.Name]
		if em == nil {
			return fmt.Errorf("capture: %s: no map %s in the running program", s.name, m.Name)
		}
		if err := bpf.UpdateSetMap(em, m); err != nil {
			return fmt.Errorf("capture: %s: %w", s.name, err)
		}
	}
	return nil
}

// RuleStats returns each rule's counters, nil without rules.
func (s *HookSource) RuleStats() ([]RuleStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return readRuleStats(s.rules, &s.ruleStats, s.closed.Load(), func() ([][][bpf.RuleCounterWords]uint64, error) {
		counts, err := s.objs.ReadRuleCounters()
		if err != nil {
			return nil, fmt.Errorf("capture: %s: %w", s.name, err)
		}
		return [][][bpf.RuleCounterWords]uint64{counts}, nil
	})
}

// Stats returns the programs' counters: packets that matched (those
// dropped included) and packets lost because the ring was full.
func (s *HookSource) Stats() (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return s.stats, nil
	}
	return s.stats, s.collectStats()
}

// collectStats reads the counters; call with mu held.
func (s *HookSource) collectStats() error {
	submitted, dropped, err := s.objs.ReadCounters()
	if err != nil {
		return fmt.Errorf("capture: %s: %w", s.name, err)
	}
	s.stats = Stats{Received: submitted + dropped, Dropped: dropped}
	return nil
}

// Close detaches the programs and frees the ring; a ReadPacket waiting
// returns io.EOF. Stats still answers with the final counts.
func (s *HookSource) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	_ = s.collectStats()
	s.closed.Store(true)
	if s.waiter != nil {
		s.waiter.wake()
	}
	s.mu.Unlock()
	s.readMu.Lock()
	defer s.readMu.Unlock()
	return s.release()
}

// release frees whatever open made.
func (s *HookSource) release() error {
	first := s.closeLinks()
	if s.waiter != nil {
		s.waiter.close()
		s.waiter = nil
	}
	for _, m := range s.mapping {
		if err := rawMunmap(m); err != nil && first == nil {
			first = err
		}
	}
	s.mapping, s.ring = nil, nil
	if s.objs != nil {
		if err := s.objs.Close(); err != nil && first == nil {
			first = err
		}
	}
	if s.promisc >= 0 {
		closeSleeping(s.promisc)
		s.promisc = -1
	}
	return first
}

// closeLinks detaches the programs.
func (s *HookSource) closeLinks() error {
	var first error
	for _, l := range s.links {
		if err := l.Close(); err != nil && first == nil {
			first = fmt.Errorf("capture: %s: detaching: %w", s.name, err)
		}
	}
	s.links = nil
	return first
}
