package capture

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/weircap/weir/pcap"
)

// ringReader reads one mapped TPACKET_V3 ring in the kernel's order:
// block after block, packet after packet, each rebuilt in place when its
// turn comes, and each block given back to the kernel once its packets
// have been read. It is plain memory access (the syscalls are the
// Source's), so tests run it on rings built in memory.
type ringReader struct {
	index  int // of the ring (socket) in the capture
	mem    []byte
	geo    ringGeometry
	opt    frameOptions
	blocks blockReader // over block cur, while reading

	cur     int  // block being read, or the next the kernel hands over
	reading bool // block cur is user space's and being read
	head    packetRef
	hasHead bool  // head is the next packet to return
	ended   bool  // no packet will come any more
	err     error // the socket's error, returned once the ready blocks are read
	// final says the kernel writes no more packets into the ring (the
	// capture stopped and every packet in flight landed): the block it
	// was filling is then read in place, last, without waiting for its
	// retire timer, and never given back.
	final   bool
	inPlace bool // block cur is that block, being read
}

// newRingReader reads ring memory mem of geometry geo.
func newRingReader(index int, mem []byte, geo ringGeometry, opt frameOptions) *ringReader {
	r := &ringReader{index: index, mem: mem, geo: geo, opt: opt}
	r.blocks.opt = &r.opt
	return r
}

// fill makes the next packet the kernel has handed over the head, without
// waiting: hasHead stays false when there is none yet. The block whose
// packets are all read goes back to the kernel here, once the caller no
// longer uses the last packet returned from it. A malformed block is
// reported after the packets before the fault; reading goes on after it.
func (r *ringReader) fill() error {
	for !r.hasHead && !r.ended {
		if r.reading {
			ok, err := r.blocks.next(&r.head)
			if ok {
				r.hasHead = true
				return nil
			}
			if err = r.nextBlock(err); err != nil {
				return err
			}
		}
		if !r.ready(r.cur) {
			if r.err != nil {
				err := r.err
				r.err, r.ended = nil, true
				return err
			}
			if !r.final || !r.pending() {
				return nil
			}
			r.inPlace = true
		}
		r.reading = true
		if err := r.blocks.reset(r.block(r.cur)); err != nil {
			return r.nextBlock(err)
		}
	}
	return nil
}

// writeReady writes the packets the kernel has handed over, up to max,
// to w.
func (r *ringReader) writeReady(w *pcap.Writer, max int) (n int, readErr, writeErr error) {
	plain := r.opt.plain()
	for n < max {
		if plain && r.reading && !r.hasHead {
			k, err := r.blocks.writePlain(w, max-n)
			if n += k; err != nil || n == max {
				return n, nil, err
			}
		}
		if !r.hasHead {
			if err := r.fill(); err != nil {
				return n, err, nil
			}
			if !r.hasHead {
				return n, nil, nil
			}
		}
		r.hasHead = false
		if err := w.WriteRecord(r.head.sec, r.head.nsec, r.packet(), r.head.wireLen); err != nil {
			return n, nil, err
		}
		n++
	}
	return n, nil, nil
}

// nextBlock gives block cur back to the kernel and moves to the next one;
// err, the reason reading it ended, gains the block's name.
func (r *ringReader) nextBlock(err error) error {
	if r.inPlace {
		// The kernel still owns the block (its timer may hand it over
		// any time): it is not given back, and nothing follows it.
		r.reading, r.ended = false, true
		if err != nil {
			err = fmt.Errorf("capture: block %d of ring %d: %w", r.cur, r.index, err)
		}
		return err
	}
	r.release(r.cur)
	if err != nil {
		err = fmt.Errorf("capture: block %d of ring %d: %w", r.cur, r.index, err)
	}
	r.cur++
	if r.cur == r.geo.BlockCount {
		r.cur = 0
	}
	r.reading = false
	return err
}

// packet is the head's bytes. Call with hasHead.
func (r *ringReader) packet() []byte {
	off := r.cur*r.geo.BlockSize + r.head.start
	return r.mem[off : off+r.head.caplen : off+r.head.caplen]
}

// block is the memory of block i.
func (r *ringReader) block(i int) []byte {
	off := i * r.geo.BlockSize
	return r.mem[off : off+r.geo.BlockSize : off+r.geo.BlockSize]
}

// blockWord is a 32-bit field of block i's descriptor, for atomic access.
func (r *ringReader) blockWord(i, offset int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[i*r.geo.BlockSize+offset]))
}

// ready reports whether the kernel has handed block i to user space.
func (r *ringReader) ready(i int) bool {
	return atomic.LoadUint32(r.blockWord(i, blockStatusOffset))&statusUser != 0
}

// pending reports whether the kernel holds packets in block cur that it
// has not handed over yet.
func (r *ringReader) pending() bool {
	return atomic.LoadUint32(r.blockWord(r.cur, blockNumPacketsOffset)) != 0
}

// holdsEarlier reports whether the kernel is filling block cur with
// packets that may be stamped before p: it holds some, and it opened the
// block (at a time it records, before stamping any packet in it) no later
// than p's timestamp.
func (r *ringReader) holdsEarlier(p *packetRef) bool {
	if !r.pending() {
		return false
	}
	sec := atomic.LoadUint32(r.blockWord(r.cur, blockOpenedSecOffset))
	nsec := atomic.LoadUint32(r.blockWord(r.cur, blockOpenedNsecOffset))
	return !p.before(sec, nsec)
}

// filling reports whether half the ring or more waits to be read, so that
// holding its packets back any longer risks losing the next ones.
func (r *ringReader) filling() bool {
	return r.ready((r.cur + r.geo.BlockCount/2) % r.geo.BlockCount)
}

// release gives block i back to the kernel. Its packet count is cleared
// too: the kernel resets it only when it starts filling the block, and
// until then a stale count would look like packets in the making.
func (r *ringReader) release(i int) {
	atomic.StoreUint32(r.blockWord(i, blockNumPacketsOffset), 0)
	atomic.StoreUint32(r.blockWord(i, blockStatusOffset), 0)
}
