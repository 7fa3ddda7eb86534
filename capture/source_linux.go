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
// group. A reader goroutine per ring waits for the kernel's blocks and
// rebuilds their packets in place; ReadPacket returns them one by one,
// merged by timestamp.
type Source struct {
	rings    []*ring
	linkType pcap.LinkType
	snaplen  uint32
	timeout  time.Duration

	ready   chan *batch   // retired blocks and end markers, from the readers
	done    chan struct{} // closed by Close: readers return at once
	wakeFd  int           // eventfd written by Stop to wake the readers
	stopped atomic.Bool
	readers sync.WaitGroup

	// Consumer side, used by ReadPacket only.
	merge merger
	held  *batch // exhausted batch whose last packet the caller may still hold

	mu     sync.Mutex // guards the fields below and the sockets' lifetime
	stats  Stats
	closed bool
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
	s.ready = make(chan *batch, n*(geo.BlockCount+1))
	s.done = make(chan struct{})
	s.merge = newMerger(n, geo.BlockCount)
	for _, r := range s.rings {
		s.readers.Add(1)
		go s.read(r)
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
	select {
	case <-s.done:
		return nil, pcap.CaptureInfo{}, io.EOF // closed: the rings are gone
	default:
	}
	if s.held != nil {
		s.giveBack(s.held)
		s.held = nil
	}
	for {
		if b, ref, exhausted := s.merge.next(); b != nil {
			if exhausted {
				s.held = b
			}
			data := s.rings[b.ring].block(b.block)[ref.start : ref.start+ref.caplen]
			return data, ref.captureInfo(s.linkType), nil
		}
		if s.merge.done() {
			return nil, pcap.CaptureInfo{}, io.EOF
		}
		var b *batch
		select {
		case b = <-s.ready:
		case <-s.done:
			return nil, pcap.CaptureInfo{}, io.EOF
		}
		if err := s.accept(b); err != nil {
			return nil, pcap.CaptureInfo{}, err
		}
		if len(s.rings) > 1 {
			if err := s.acceptReady(); err != nil {
				return nil, pcap.CaptureInfo{}, err
			}
		}
	}
}

// acceptReady takes every batch already waiting, so the merge compares
// all the packets the readers have.
func (s *Source) acceptReady() error {
	for {
		select {
		case b := <-s.ready:
			if err := s.accept(b); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// accept queues a batch for merging; an empty one goes straight back.
func (s *Source) accept(b *batch) error {
	err := b.err
	b.err = nil
	switch {
	case b.end:
		s.merge.add(b)
	case len(b.refs) == 0:
		s.giveBack(b)
	default:
		s.merge.add(b)
	}
	return err
}

// giveBack returns a block to the kernel and its token to the reader.
func (s *Source) giveBack(b *batch) {
	r := s.rings[b.ring]
	b.refs, b.next = b.refs[:0], 0
	r.release(b.block)
	r.free <- struct{}{}
}

// read is the reader goroutine of one ring: it takes the kernel's blocks
// in order, rebuilds their packets and hands them to ReadPacket.
func (s *Source) read(r *ring) {
	defer s.readers.Done()
	for {
		select {
		case <-r.free:
		case <-s.done:
			return
		}
		b := &r.batches[r.cur]
		if ok, err := s.waitBlock(r); !ok {
			r.free <- struct{}{}
			s.ready <- &batch{ring: r.index, end: true, err: err}
			return
		}
		b.refs, b.err = fillBatch(r.block(r.cur), &r.opt, b.refs[:0])
		if b.err != nil {
			b.err = fmt.Errorf("capture: block %d of ring %d: %w", r.cur, r.index, b.err)
		}
		r.cur = (r.cur + 1) % r.geo.BlockCount
		s.ready <- b
	}
}

// waitBlock waits until the kernel hands over the ring's current block.
// It returns false when there is none to wait for: after Stop once the
// kernel holds no packet, on Close, or with the socket's error.
func (s *Source) waitBlock(r *ring) (bool, error) {
	var stopDeadline time.Time
	for {
		if r.ready(r.cur) {
			return true, nil
		}
		select {
		case <-s.done:
			return false, nil
		default:
		}
		wake, timeout := s.wakeFd, time.Duration(-1)
		if s.stopped.Load() {
			// The reject-all filter keeps new packets out; a block the
			// kernel is filling is handed over by its timer.
			if stopDeadline.IsZero() {
				stopDeadline = time.Now().Add(2*s.timeout + 50*time.Millisecond)
				time.Sleep(time.Millisecond) // let packets past the old filter land
				continue
			}
			if !r.pending(r.cur) || time.Now().After(stopDeadline) {
				return false, nil
			}
			wake, timeout = -1, s.timeout
		}
		if r.err != nil {
			return false, r.err
		}
		if err := waitReadable(r.fd, wake, timeout); err != nil {
			// Reading the error clears it in the kernel: keep it, and
			// deliver what the kernel filled before it first.
			r.err = fmt.Errorf("capture: %s: %w", r.name, err)
		}
	}
}

// Stop ends the capture: no new packet is accepted, ReadPacket returns
// those the kernel already captured and then io.EOF. It is safe to call
// from any goroutine (a signal handler's) and more than once.
func (s *Source) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.stopped.Swap(true) {
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
	if s.closed {
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

// Close stops the readers and releases the sockets and rings. Stats still
// answers afterwards with the final counts. ReadPacket must not run
// concurrently with Close.
func (s *Source) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	_, _ = s.collectStats()
	s.closed = true
	close(s.done)
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(s.wakeFd, one[:])
	s.mu.Unlock()
	s.readers.Wait()
	err := s.closeRings()
	return err
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
