package capture

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// bpfRing reads the records of a BPF ring buffer in place, as the kernel
// lays it out (kernel/bpf/ringbuf.c): a page holding the consumer
// position, which user space writes; a page holding the producer
// position; the data pages, mapped twice in a row so that a record that
// wraps around is contiguous. Each record starts with 8 bytes: its length
// (bit 31 set while the producer writes it, bit 30 when it was discarded)
// and its page offset; records are 8-byte aligned.
//
// Unlike cilium/ebpf's reader, which copies each record and stores the
// consumer position after each, it returns the record in place and
// stores the position once per batch, or before the caller waits: the
// producer reads that position on every reservation, and each store moves
// its cache line from one core to the other.
type bpfRing struct {
	consumer *uint64 // in the consumer page
	producer *uint64 // in the producer page
	data     []byte  // the data pages, twice
	mask     uint64  // data size - 1

	cons      uint64 // where the next record starts
	prod      uint64 // the producer position last read
	committed uint64 // the consumer position the kernel knows
	batch     uint64 // bytes read between stores of the position
	// holdBack keeps, once the ring is read empty, the position the
	// kernel knows at the start of the last record read, not past it:
	// the kernel wakes a reader when a record lands where the consumer
	// position stands (it has caught up, so it may be sleeping), and a
	// reader that polls on a timer does not want those wake-ups. Before
	// it sleeps without a timer, the reader gives the rest back
	// (caughtUp), and the next record wakes it.
	holdBack bool
	last     uint64 // where the last record returned starts
}

// Record header bits and size.
const (
	ringBusyBit    = 1 << 31
	ringDiscardBit = 1 << 30
	ringHeaderLen  = 8
)

// newBPFRing reads a ring whose data area (twice its size, as mapped)
// is data; consumer and producer point into the position pages.
func newBPFRing(consumer, producer *uint64, data []byte) *bpfRing {
	size := uint64(len(data) / 2)
	r := &bpfRing{consumer: consumer, producer: producer, data: data, mask: size - 1, batch: max(size/16, 4096)}
	r.cons = atomic.LoadUint64(consumer)
	r.committed, r.prod = r.cons, r.cons
	return r
}

// next returns the next record, or nil when the ring holds no finished
// one; then the kernel knows every record read so far is free. A record
// stays valid until next is called again.
func (r *bpfRing) next() ([]byte, error) {
	for {
		if r.cons == r.prod {
			if r.prod = atomic.LoadUint64(r.producer); r.cons == r.prod {
				r.commit(r.readUpTo())
				return nil, nil
			}
		}
		off := r.cons & r.mask
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))
		if hdr&ringBusyBit != 0 {
			r.commit(r.readUpTo()) // the producer wakes a reader that caught up
			return nil, nil
		}
		n := uint64(hdr &^ (ringBusyBit | ringDiscardBit))
		total := (n + ringHeaderLen + 7) &^ 7
		if total > r.prod-r.cons || total > r.mask+1 {
			return nil, fmt.Errorf("capture: ring buffer record of %d bytes at %d, past the producer at %d", n, r.cons, r.prod)
		}
		start := r.cons
		r.cons += total
		if hdr&ringDiscardBit != 0 {
			continue
		}
		if start-r.committed >= r.batch {
			r.commit(start) // the record returned stays the reader's
		}
		r.last = start
		return r.data[off+ringHeaderLen : off+ringHeaderLen+n], nil
	}
}

// readUpTo is the position to give the kernel once the ring is read
// empty: all of it, or with holdBack up to the last record returned.
func (r *bpfRing) readUpTo() uint64 {
	if r.holdBack && r.last >= r.committed {
		return r.last
	}
	return r.cons
}

// caughtUp gives the kernel every record read and reports whether the
// ring is still empty after: then the next record the programs submit
// without a wake-up flag wakes the reader, which may sleep without a
// timer. (Storing the position, then loading the producer's, pairs with
// the producer's store of its position before it loads the consumer's.)
func (r *bpfRing) caughtUp() bool {
	if r.cons != r.committed {
		atomic.StoreUint64(r.consumer, r.cons)
		r.committed = r.cons
	}
	r.prod = atomic.LoadUint64(r.producer)
	return r.cons == r.prod
}

// commit tells the kernel the ring is free up to pos.
func (r *bpfRing) commit(pos uint64) {
	if pos != r.committed {
		atomic.StoreUint64(r.consumer, pos)
		r.committed = pos
	}
}
