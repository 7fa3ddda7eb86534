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
}

// time is the packet's timestamp.
func (r *packetRef) time() time.Time {
	return time.Unix(int64(r.sec), int64(r.nsec))
}

// less orders packets by timestamp.
func (r *packetRef) less(o *packetRef) bool {
	if r.sec != o.sec {
		return r.sec < o.sec
	}
	return r.nsec < o.nsec
}

// userFilter runs a filter in user space, returning the bytes to keep (0
// drops the packet), as filter.Run.
type userFilter func(data []byte, wireLen int) uint32

// batchOptions are what turns a block's packets into the frames returned.
type batchOptions struct {
	mode    linkMode
	snaplen int
	// micro truncates timestamps to microseconds.
	micro bool
	// filter, when set, runs in user space on the rebuilt frame (for
	// programs the kernel cannot run on a cooked socket).
	filter userFilter
	// loopback drops outgoing copies of loopback packets in user space
	// too, as libpcap does, should one get past the kernel program.
	loopback loopbackRule
}

// fillBatch walks a retired block, rebuilds each packet's frame in place,
// applies the snap length and the user-space filter, and appends one
// reference per kept packet to refs. Malformed packets end the walk with
// errBadBlock after the packets before them.
func fillBatch(block []byte, opt *batchOptions, refs []packetRef) ([]packetRef, error) {
	var w blockWalker
	if err := w.reset(block); err != nil {
		return refs, err
	}
	var f frame
	for {
		ok, err := w.nextFrame(&f)
		if err != nil || !ok {
			return refs, err
		}
		if opt.loopback != loopbackNone && loopbackCopy(block, &f, opt.loopback) {
			continue
		}
		start, caplen, wireLen, ok := opt.mode.assemble(block, &f)
		if !ok {
			return refs, errBadBlock
		}
		caplen = min(caplen, opt.snaplen)
		if opt.filter != nil {
			keep := opt.filter(block[start:start+caplen], wireLen)
			if keep == 0 {
				continue
			}
			if uint64(keep) < uint64(caplen) {
				caplen = int(keep)
			}
		}
		nsec := f.Nsec
		if opt.micro {
			nsec -= nsec % 1000
		}
		refs = append(refs, packetRef{start: start, caplen: caplen, wireLen: wireLen, sec: f.Sec, nsec: nsec})
	}
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

// captureInfo is the metadata of a packet.
func (r *packetRef) captureInfo(lt pcap.LinkType) pcap.CaptureInfo {
	return pcap.CaptureInfo{
		Timestamp:     r.time(),
		CaptureLength: r.caplen,
		Length:        r.wireLen,
		LinkType:      lt,
	}
}
