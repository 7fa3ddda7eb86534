package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

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

	wakeFd  int // eventfd written by Stop and Close to end a wait
	stopped atomic.Bool
	closed  atomic.Bool

	// ReadPacket's state.
	readMu       sync.Mutex // held while waiting; Close takes it to unmap
	wait         []*ringReader
	pollFds      []unix.PollFd
	stopDeadline time.Time // when a stopped capture stops waiting

	mu    sync.Mutex // guards stats and the sockets' lifetime
	stats Stats
}

// Open opens a live capture as cfg says. The filter is attached before
// the socket receives anything, so no packet it rejects is ever read.
func Open(cfg Config) (*Source, error) {
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
	geo := newRingGeometry(cfg.BufferSize, snaplen, os.Getpagesize(), cfg.BlockTimeout)
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
	}
	n := max(cfg.Fanout, 1)
	if n > 1 {
		spec.fanoutID = newFanoutID()
	}
	s := &Source{linkType: target.linkType, snaplen: snaplen, timeout: geo.RetireTimeout, wakeFd: -1}
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
	s.wakeFd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		s.closeRings()
		return nil, fmt.Errorf("capture: eventfd: %w", err)
	}
	for _, r := range s.rings {
		s.readers = append(s.readers, r.ringReader)
	}
	s.wait = make([]*ringReader, 0, n)
	s.pollFds = make([]unix.PollFd, 0, n+1)
	if cfg.Warn != nil && s.rings[0].userFilter != nil {
		cfg.Warn(s.rings[0].userFilter)
	}
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

// LinkType is the capture's link type.
func (s *Source) LinkType() pcap.LinkType { return s.linkType }

// Snaplen is the most bytes kept of each packet.
func (s *Source) Snaplen() uint32 { return s.snaplen }

// ReadPacket blocks until a packet arrives and returns it. The data lives
// in the ring and stays valid until the next call. After Stop it returns
// what the kernel had already captured, then io.EOF.
func (s *Source) ReadPacket() ([]byte, pcap.CaptureInfo, error) {
	if s.closed.Load() {
		return nil, pcap.CaptureInfo{}, io.EOF // the rings are gone
	}
	if len(s.readers) == 1 {
		// One ring: its next packet, if the kernel handed it over.
		r := s.readers[0]
		if err := r.fill(); err != nil {
			return nil, pcap.CaptureInfo{}, err
		}
		if r.hasHead {
			return s.take(r)
		}
	}
	return s.readWaiting()
}

// take returns ring r's head, which the next fill moves past.
func (s *Source) take(r *ringReader) ([]byte, pcap.CaptureInfo, error) {
	r.hasHead = false
	return r.packet(), r.head.captureInfo(s.linkType), nil
}

// readWaiting is ReadPacket when it may have to wait: for the kernel's
// next block, or, with fanout, for a ring that may hold an earlier packet.
func (s *Source) readWaiting() ([]byte, pcap.CaptureInfo, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for {
		if s.closed.Load() {
			return nil, pcap.CaptureInfo{}, io.EOF
		}
		for _, r := range s.readers {
			if !r.hasHead && !r.ended {
				if err := r.fill(); err != nil {
					return nil, pcap.CaptureInfo{}, err
				}
			}
		}
		var best *ringReader
		best, s.wait = choose(s.readers, s.wait)
		if len(s.wait) == 0 {
			if best == nil {
				return nil, pcap.CaptureInfo{}, io.EOF
			}
			return s.take(best)
		}
		if err := s.await(s.wait, best != nil); err != nil {
			return nil, pcap.CaptureInfo{}, err
		}
	}
}

// watermarkPoll is how long a wait for a ring that may hold an earlier
// packet lasts before the merge looks at the rings' room again.
const watermarkPoll = time.Millisecond

// await waits until one of the rings may have a block ready (their
// blocks before the one the kernel fills are all given back, so poll
// blocks until then), Stop or Close is called, or, for the merge's
// watermark, a short while passes. After Stop, a ring ends once the
// kernel holds no packet for it (the reject-all filter keeps new ones
// out, and its retire timer hands over the block it was filling).
func (s *Source) await(rings []*ringReader, watermark bool) error {
	wake, timeout := s.wakeFd, time.Duration(-1)
	if watermark {
		timeout = watermarkPoll
	}
	if s.stopped.Load() {
		now := time.Now()
		if s.stopDeadline.IsZero() {
			s.stopDeadline = now.Add(2*s.timeout + 50*time.Millisecond)
			time.Sleep(time.Millisecond) // let packets past the old filter land
			return nil
		}
		going := rings[:0]
		for _, r := range rings {
			if r.pending() && now.Before(s.stopDeadline) {
				going = append(going, r)
			} else {
				r.ended = true
			}
		}
		if len(going) == 0 {
			return nil
		}
		rings = going
		wake = -1 // written once and for all by Stop
		if timeout < 0 || s.timeout < timeout {
			timeout = s.timeout
		}
	}
	fds := s.pollFds[:0]
	for _, r := range rings {
		fds = append(fds, unix.PollFd{Fd: int32(s.rings[r.index].fd), Events: unix.POLLIN})
	}
	if wake >= 0 {
		fds = append(fds, unix.PollFd{Fd: int32(wake), Events: unix.POLLIN})
	}
	if err := poll(fds, timeout); err != nil {
		return err
	}
	for i, r := range rings {
		if fds[i].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 && r.err == nil {
			// Reading the error clears it in the kernel: keep it, and
			// deliver what the kernel filled before it first.
			r.err = fmt.Errorf("capture: %s: %w", s.rings[r.index].name, socketError(s.rings[r.index].fd))
		}
	}
	return nil
}

// Stop ends the capture: no new packet is accepted, ReadPacket returns
// those the kernel already captured and then io.EOF. It is safe to call
// from any goroutine (a signal handler's) and more than once.
func (s *Source) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() || s.stopped.Swap(true) {
		return
	}
	for _, r := range s.rings {
		// Failing to swap the filter only lets a few more packets in.
		_ = attachFilter(r.fd, rejectAll)
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(s.wakeFd, one[:])
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
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(s.wakeFd, one[:])
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
	if s.wakeFd >= 0 {
		unix.Close(s.wakeFd)
		s.wakeFd = -1
	}
	return first
}
