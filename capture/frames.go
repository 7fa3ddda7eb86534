package capture

import (
	"time"

	"github.com/weircap/weir/pcap"
)

// packetRef locates one ready packet inside a ring block.
type packetRef struct {
	start   int
	caplen  int
	wireLen int
	sec     uint32
	nsec    uint32
	pktType uint8 // sockaddr_ll's PACKET_HOST, PACKET_OUTGOING...
}

// time is the packet's timestamp.
func (r *packetRef) time() time.Time {
	return time.Unix(int64(r.sec), int64(r.nsec))
}

// before reports whether the packet is stamped before sec.nsec.
func (r *packetRef) before(sec, nsec uint32) bool {
	if r.sec != sec {
		return r.sec < sec
	}
	return r.nsec < nsec
}

// captureInfo is the metadata of a packet.
func (r *packetRef) captureInfo(lt pcap.LinkType) pcap.CaptureInfo {
	return pcap.CaptureInfo{
		Timestamp:     r.time(),
		CaptureLength: r.caplen,
		Length:        r.wireLen,
		LinkType:      lt,
	}
}

// direction is the packet's pcapng direction and reception flags.
func (r *packetRef) direction() (pcap.Direction, uint32) {
	return pcap.LinuxPacketDirection(r.pktType)
}

// userFilter runs a filter in user space, returning the bytes to keep (0
// drops the packet), as filter.Run.
type userFilter func(data []byte, wireLen int) uint32

// frameOptions are what turns a block's packets into the frames returned.
type frameOptions struct {
	mode    linkMode
	snaplen int
	// micro truncates timestamps to microseconds.
	micro bool
	// filter, when set, runs in user space on each frame after its
	// cooked header is built and before a VLAN tag is put back, as
	// libpcap runs a filter the kernel could not take.
	filter userFilter
	// metadata puts the packet's metadata (metadataLen bytes) in front of
	// the frame the filter sees: a user-space program reads the kernel's
	// ancillary values there (see userProgram).
	metadata bool
	// loopback drops outgoing copies of loopback packets in user space
	// too, as libpcap does, should one get past the kernel program.
	loopback loopbackRule
}

// blockReader steps through the packets of one retired block, rebuilding
// each frame in place (cooked header, VLAN tag, snap length) and applying
// the user-space filter, one packet per call.
type blockReader struct {
	walker blockWalker
	opt    *frameOptions
	f      frame // the packet being read
}

// reset starts reading block b.
func (r *blockReader) reset(b []byte) error { return r.walker.reset(b) }

// next rebuilds the next kept packet and locates it in ref; ok is false at
// the end of the block. A malformed packet ends the block with
// errBadBlock, after the packets before it.
func (r *blockReader) next(ref *packetRef) (ok bool, err error) {
	block, opt, f := r.walker.block, r.opt, &r.f
	for {
		if ok, err := r.walker.nextFrame(f); !ok {
			return false, err
		}
		if opt.loopback != loopbackNone && loopbackCopy(block, f, opt.loopback) {
			continue
		}
		start, caplen, wireLen := f.dataStart(), int(f.Snaplen), int(f.Len)
		if opt.mode.Cooked != notCooked {
			var ok bool
			if start, caplen, wireLen, ok = opt.mode.addCookedHeader(block, f); !ok {
				return false, errBadBlock
			}
		}
		if opt.filter != nil {
			keep, ok := runUserFilter(block, f, opt, start, min(caplen, opt.snaplen), wireLen)
			if !ok {
				return false, errBadBlock
			}
			if keep == 0 {
				continue
			}
			if uint64(keep) < uint64(caplen) {
				caplen = int(keep)
			}
		}
		if f.tagged() {
			var ok bool
			if start, caplen, wireLen, ok = opt.mode.putVLANTag(block, f, start, caplen, wireLen); !ok {
				return false, errBadBlock
			}
		}
		nsec := f.Nsec
		if opt.micro {
			nsec -= nsec % 1000
		}
		ref.start, ref.caplen, ref.wireLen = start, min(caplen, opt.snaplen), wireLen
		ref.sec, ref.nsec = f.Sec, nsec
		ref.pktType = block[f.Offset+sockaddrLLOffset+sockaddrLLPktTypeOffset]
		return true, nil
	}
}

// plain reports whether the frames are written as the kernel stored
// them, but for a VLAN tag to put back: no cooked header, no user-space
// filter, no loopback copies to drop.
func (opt *frameOptions) plain() bool {
	return opt.mode.Cooked == notCooked && opt.filter == nil && opt.loopback == loopbackNone
}

// writePlain writes the block's next packets to w, up to max, for
// options that are plain: one tight loop instead of a call to next and a
// write per packet. It stops before a packet that needs rebuilding (a
// VLAN tag) or is malformed, which next then reads.
func (r *blockReader) writePlain(w *pcap.Writer, max int) (n int, err error) {
	wk, f := &r.walker, &r.f
	snaplen, micro := r.opt.snaplen, r.opt.micro
	for n < max && wk.left != 0 && wk.next != 0 {
		if parseFrame(wk.block, wk.next, f) != nil || f.tagged() {
			return n, nil
		}
		wk.advance()
		nsec := f.Nsec
		if micro {
			nsec -= nsec % 1000
		}
		start := f.dataStart()
		data := wk.block[start : start+min(int(f.Snaplen), snaplen)]
		if err := w.WriteRecord(f.Sec, nsec, data, int(f.Len)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// runUserFilter runs the user-space filter on the frame at start, with the
// packet's metadata in front of it when the program reads any. ok is false
// when the headroom cannot hold the metadata.
func runUserFilter(block []byte, f *frame, opt *frameOptions, start, caplen, wireLen int) (keep uint32, ok bool) {
	from := start
	if opt.metadata {
		from -= metadataLen
		if from < f.Offset+frameHeadroom {
			return 0, false
		}
		putMetadata(block[from:start], block, f)
	}
	return opt.filter(block[from:start+caplen], wireLen), true
}

// loopbackCopy reports whether the packet is the outgoing copy of a
// packet the capture sees again coming in on the loopback device.
func loopbackCopy(block []byte, f *frame, rule loopbackRule) bool {
	a := parseLinkAddr(block, f.Offset)
	if a.PktType != packetOutgoing {
		return false
	}
	return rule == loopbackDevice || a.Ifindex == loopbackIndex
}
