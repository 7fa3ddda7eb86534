package capture

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// Source is a live capture on one interface (or "any"): one AF_PACKET
// socket with its TPACKET_V3 ring, or Config.Fanout of them in one fanout
// group. ReadPacket reads the rings itself, as libpcap does: it walks the
// kernel's blocks in place, gives each back once read, and waits in poll
// only when no block is ready.
type Source struct {
	rings    []*ring
	readers  []*ringReader // the rings' readers, for the merge
	linkType pcap.LinkType
	snaplen  uint32
	timeout  time.Duration

	waiter  *waiter
	stopped atomic.Bool
	closed  atomic.Bool

	// ReadPacket's state.
	readMu       sync.Mutex // held while waiting; Close takes it to unmap
	wait         []*ringReader
	stopDeadline time.Time // when a stopped capture stops waiting
	onWait       func()

	mu    sync.Mutex // guards stats and the sockets' lifetime
	stats Stats
	// rules of an eBPF socket filter, and their counters as last read.
	rules     []Rule
	ruleStats []RuleStats
}

// Open opens a live capture as cfg says. The filter is attached before
// the socket receives anything, so no packet it rejects is ever read.
func Open(cfg Config) (*Source, error) {
	if (cfg.Filter.HasLookups() || len(cfg.Rules) > 0) && !cfg.EBPF {
		return nil, errors.New("capture: sets and rules run in eBPF programs: capture with an eBPF socket filter, XDP or tcx")
	}
	if len(cfg.Rules) > 0 && (cfg.Filter != nil || cfg.Fanout > 1) {
		return nil, errors.New("capture: rules replace the filter, and run on one socket (no fanout)")
	}
	target, err := resolveInterface(cfg.Interface)
	if err != nil {
		return nil, err
	}
	snaplen := cfg.Snaplen
	if snaplen == 0 || snaplen > maxSnaplen {
		snaplen = maxSnaplen
	}
	mode := modeFor(target.linkType)
	if minLen := uint32(mode.headerLen() + 1); snaplen < minLen {
		snaplen = minLen // as libpcap, room for the cooked header and a byte
	}
	timeout := cfg.BlockTimeout
	if timeout == 0 && cfg.Fanout > 1 {
		timeout = fanoutBlockTimeout
	}
	geo := newRingGeometry(cfg.BufferSize, snaplen, os.Getpagesize(), timeout)
	spec := socketSpec{
		name:    target.name,
		ifindex: target.index,
		cooked:  mode.Cooked != notCooked,
		promisc: cfg.Promiscuous,
		dir:     cfg.Direction,
		geo:     geo,
		filter:  cfg.Filter,
		mode:    mode,
		snaplen: snaplen,
		ebpf:    cfg.EBPF,
		sets:    cfg.Sets,
		rules:   cfg.Rules,
	}
	n := max(cfg.Fanout, 1)
	if n > 1 {
		spec.fanoutID = newFanoutID()
	}
	s := &Source{linkType: target.linkType, snaplen: snaplen, timeout: geo.RetireTimeout, rules: cfg.Rules}
	for attempt := 1; ; attempt++ {
		err := s.openRings(spec, n, !cfg.Nanoseconds)
		if err == nil {
			break
		}
		if !errors.Is(err, errFanoutTaken) || attempt == 4 {
			return nil, err
		}
		spec.fanoutID = newFanoutID() // another program's group: try another
	}
	fds := make([]int, len(s.rings))
	for i, r := range s.rings {
		fds[i] = r.fd
		s.readers = append(s.readers, r.ringReader)
	}
	if s.waiter, err = newWaiter(fds); err != nil {
		s.closeRings()
		return nil, err
	}
	s.wait = make([]*ringReader, 0, n)
	return s, nil
}

// openRings opens the n sockets of a capture; on error none stays open.
func (s *Source) openRings(spec socketSpec, n int, micro bool) error {
	for i := range n {
		r, err := openRing(spec, i)
		if err != nil {
			s.closeRings()
			return err
		}
		r.opt.micro = micro
		s.rings = append(s.rings, r)
	}
	return nil
}

// maxSnaplen is libpcap's MAXIMUM_SNAPLEN, the default.
const maxSnaplen = 262144

// newFanoutID is fanoutID, replaced in tests.
var newFanoutID = fanoutID

// fanoutID picks a fanout group id; groups are per network namespace and
// an id already taken by another program would make joining fail.
func fanoutID() int {
	return 1 + (os.Getpid()^int(rand.Uint32()))&0xfffe
}

// FilterRefused says why the kernel refused the capture's filter, which
// then runs in user space (tcpdump warns then): a *KernelFilterError, or
// nil when the kernel runs the filter.
func (s *Source) FilterRefused() error {
	if len(s.rings) == 0 || s.rings[0].userFilter == nil {
		return nil
	}
	return s.rings[0].userFilter
}

// LinkType is the capture's link type.
func (s *Source) LinkType() pcap.LinkType { return s.linkType }

// Snaplen is the most bytes kept of each packet.
func (s *Source) Snaplen() uint32 { return s.snaplen }

// ReadPacket blocks until a packet arrives and returns it. The data lives
// in the ring and stays valid until the next call. After Stop it returns
// what the kernel had already captured, then io.EOF.
func (s *Source) ReadPacket() (data []byte, ci pcap.CaptureInfo, err error) {
	data, err = s.ReadPacketInfo(&ci)
	return data, ci, err
}

// ReadPacketInfo is ReadPacket filling *ci in place. A loop over many
// packets is faster with it: copying the returned CaptureInfo from frame
// to frame stalls the processor on each packet (a store-forwarding miss),
// which costs about as much as reading the packet.
func (s *Source) ReadPacketInfo(ci *pcap.CaptureInfo) ([]byte, error) {
	if s.closed.Load() {
		return nil, io.EOF // the rings are gone
	}
	if len(s.readers) == 1 {
		// One ring: its next packet, if the kernel handed it over.
		r := s.readers[0]
		if err := r.fill(); err != nil {
			return nil, err
		}
		if r.hasHead {
			r.hasHead = false
			s.describe(ci, &r.head)
			return r.packet(), nil
		}
	}
	return s.readWaiting(ci)
}

// WriteReady writes to w, without waiting, the packets the kernel has
// handed over, up to max of them, and returns how many it wrote: none
// when none are ready (ReadPacket then waits). A loop over a busy ring
// writes each packet for a fraction of what ReadPacket and a
// WritePacket cost. Only a capture of one ring writes this way; with
// fanout, whose rings are merged, WriteReady writes nothing. readErr is
// the ring's, writeErr w's.
func (s *Source) WriteReady(w *pcap.Writer, max int) (n int, readErr, writeErr error) {
	if len(s.readers) != 1 || s.closed.Load() {
		return 0, nil, nil
	}
	return s.readers[0].writeReady(w, max)
}

// describe fills ci for packet p.
func (s *Source) describe(ci *pcap.CaptureInfo, p *packetRef) {
	ci.Timestamp = time.Unix(int64(p.sec), int64(p.nsec))
	ci.CaptureLength = p.caplen
	ci.Length = p.wireLen
	ci.LinkType = s.linkType
	ci.Direction, ci.Flags = p.direction()
}

// readWaiting is ReadPacket when it may have to wait: for the kernel's
// next block, or, with fanout, for a ring that may hold an earlier packet.
func (s *Source) readWaiting(ci *pcap.CaptureInfo) ([]byte, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for {
		if s.closed.Load() {
			return nil, io.EOF
		}
		for _, r := range s.readers {
			if !r.hasHead && !r.ended {
				if err := r.fill(); err != nil {
					return nil, err
				}
			}
		}
		var best *ringReader
		best, s.wait = choose(s.readers, s.wait)
		if len(s.wait) == 0 {
			if best == nil {
				return nil, io.EOF
			}
			best.hasHead = false
			s.describe(ci, &best.head)
			return best.packet(), nil
		}
		if err := s.await(s.wait, best != nil); err != nil {
			return nil, err
		}
	}
}

// watermarkPoll is how long a wait for a ring that may hold an earlier
// packet lasts before the merge looks at the rings' room again.
const watermarkPoll = time.Millisecond

// await waits until one of the rings may have a block ready, Stop or
// Close is called, or, for the merge's watermark, a short while passes.
// After Stop, the reject-all filter keeps new packets out; once those
// that passed the old filter have landed, the block the kernel was
// filling is read in place (or, where the kernel cannot tell when they
// have landed, handed over by its retire timer), and a ring ends once
// the kernel holds no packet for it.
func (s *Source) await(rings []*ringReader, watermark bool) error {
	timeout := time.Duration(-1)
	if watermark {
		timeout = watermarkPoll
	}
	if s.stopped.Load() {
		now := time.Now()
		if s.stopDeadline.IsZero() {
			s.stopDeadline = now.Add(2*s.timeout + 50*time.Millisecond)
			if err := packetsLanded(); err != nil {
				time.Sleep(time.Millisecond) // let packets past the old filter land
				return nil
			}
			for _, r := range s.readers {
				r.final = true
			}
			return nil
		}
		going := false
		for _, r := range rings {
			if r.pending() && now.Before(s.stopDeadline) {
				going = true
			} else {
				r.ended = true
			}
		}
		if !going {
			return nil
		}
		if timeout < 0 || s.timeout < timeout {
			timeout = s.timeout
		}
	}
	if s.onWait != nil {
		s.onWait()
	}
	failed, err := s.waiter.wait(timeout)
	if err != nil {
		return err
	}
	for _, i := range failed {
		if r := s.rings[i]; r.err == nil {
			// Reading the error clears it in the kernel: keep it, and
			// deliver what the kernel filled before it first.
			r.err = fmt.Errorf("capture: %s: %w", r.name, socketError(r.fd))
		}
	}
	return nil
}

// OnWait has f called by ReadPacket, in its goroutine, each time it is
// about to wait for the kernel to hand packets over. A writer flushes
// there, so that its system calls come while the capture has nothing else
// to do: a system call made while packets are read wakes the Go runtime's
// monitor thread, which then polls every 20 µs, each time a context switch
// on the capture's CPU, for as long as the reading goes on. Call it before
// reading.
func (s *Source) OnWait(f func()) { s.onWait = f }

// Stop ends the capture: no new packet is accepted, ReadPacket returns
// those the kernel already captured and then io.EOF. It is safe to call
// from any goroutine (a signal handler's) and more than once.
func (s *Source) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() || s.stopped.Load() {
		return
	}
	for _, r := range s.rings {
		// Failing to swap the filter only lets a few more packets in.
		_ = attachFilter(r.fd, rejectAll)
	}
	// Only now: a reader that sees stopped reads the block the kernel was
	// filling in place, once the packets past the old filter have landed.
	s.stopped.Store(true)
	s.waiter.wake()
}

// Stats returns the kernel's counters since Open: packets that passed the
// filter (those dropped included, as tcpdump's "received by filter") and
// packets dropped for want of ring space.
func (s *Source) Stats() (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return s.stats, nil
	}
	return s.collectStats()
}

// collectStats adds the counters the kernel kept since the last read (it
// resets them on every read). Call with mu held.
func (s *Source) collectStats() (Stats, error) {
	for _, r := range s.rings {
		st, err := r.stats()
		if err != nil {
			return s.stats, err
		}
		s.stats.Received += st.Received
		s.stats.Dropped += st.Dropped
	}
	return s.stats, nil
}

// Close releases the sockets and rings; a ReadPacket waiting returns
// io.EOF first. Stats still answers afterwards with the final counts.
// ReadPacket must not be reading a packet concurrently with Close: its
// data lives in the rings.
func (s *Source) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	_, _ = s.collectStats()
	s.closed.Store(true)
	s.waiter.wake()
	s.mu.Unlock()
	s.readMu.Lock()
	defer s.readMu.Unlock()
	return s.closeRings()
}

// closeRings closes every socket and the eventfd.
func (s *Source) closeRings() error {
	var first error
	for _, r := range s.rings {
		if err := r.close(); err != nil && first == nil {
			first = err
		}
	}
	s.rings = nil
	if s.waiter != nil {
		s.waiter.close()
		s.waiter = nil
	}
	return first
}

// UpdateSets refills, in place, the set maps of a capture with an eBPF
// socket filter (Config.EBPF) while it runs; the filter must look up the
// same kinds of entries as it was compiled for, which the caller checks.
func (s *Source) UpdateSets(sets map[string]*filter.Set) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return errors.New("capture: closed")
	}
	for _, r := range s.rings {
		if err := r.updateSets(sets); err != nil {
			return err
		}
	}
	return nil
}

// RuleStats returns each rule's counters, nil without rules.
func (s *Source) RuleStats() ([]RuleStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return readRuleStats(s.rules, &s.ruleStats, s.closed.Load(), func() ([][][bpf.RuleCounterWords]uint64, error) {
		var all [][][bpf.RuleCounterWords]uint64
		for _, r := range s.rings {
			counts, err := bpf.SumRuleCounters(r.setMaps[bpf.RuleCountersMap])
			if err != nil {
				return nil, fmt.Errorf("capture: %s: %w", r.name, err)
			}
			all = append(all, counts)
		}
		return all, nil
	})
}
