package capture

import (
	"encoding/binary"
	"errors"
)

// The ring is shared memory written by the kernel in the host's byte order.
var hostOrder = binary.NativeEndian

var errBadBlock = errors.New("capture: malformed ring block")

// blockHeader is the part of struct tpacket_block_desc the walker needs.
type blockHeader struct {
	Status      uint32
	NumPackets  uint32
	FirstOffset uint32
	Length      uint32
}

// parseBlockHeader reads a block descriptor.
func parseBlockHeader(b []byte) (blockHeader, error) {
	if len(b) < blockDescLen {
		return blockHeader{}, errBadBlock
	}
	return blockHeader{
		Status:      hostOrder.Uint32(b[blockStatusOffset:]),
		NumPackets:  hostOrder.Uint32(b[blockNumPacketsOffset:]),
		FirstOffset: hostOrder.Uint32(b[blockFirstOffset:]),
		Length:      hostOrder.Uint32(b[blockLengthOffset:]),
	}, nil
}

// linkAddr is struct sockaddr_ll: where a packet came from and how.
type linkAddr struct {
	Protocol  uint16 // EtherType, network byte order in the kernel, host value here
	Ifindex   int32
	HAType    uint16 // ARPHRD_*
	PktType   uint8  // PACKET_HOST, PACKET_OUTGOING, ...
	AddrLen   uint8
	Addr      [8]byte
	addrBytes int // AddrLen bounded by len(Addr)
}

// frame is one struct tpacket3_hdr with its sockaddr_ll, and where its data
// sits in the block.
type frame struct {
	Offset   int // of the tpacket3_hdr in the block
	Sec      uint32
	Nsec     uint32
	Snaplen  uint32 // bytes present
	Len      uint32 // bytes on the wire
	Status   uint32
	Mac      uint16 // data offset from the header
	Net      uint16
	VLANTCI  uint32
	VLANTPID uint16
}

// tagged reports whether the kernel took a VLAN tag out of the packet
// (older kernels set only the TCI, as libpcap's VLAN_VALID allows).
func (f *frame) tagged() bool { return f.Status&statusVLANValid != 0 || f.VLANTCI != 0 }

// dataStart is the offset in the block of the packet's first byte.
func (f *frame) dataStart() int { return f.Offset + int(f.Mac) }

// parseFrame reads the packet header at off into f and checks that the
// header, the sockaddr_ll and the data all lie inside the block.
func parseFrame(b []byte, off int, f *frame) error {
	if off < blockDescLen || off > len(b)-frameHeadroom {
		return errBadBlock
	}
	h := b[off : off+frameHeadroom : off+frameHeadroom]
	f.Offset = off
	f.Sec = hostOrder.Uint32(h[frameSecOffset:])
	f.Nsec = hostOrder.Uint32(h[frameNsecOffset:])
	f.Snaplen = hostOrder.Uint32(h[frameSnapOffset:])
	f.Len = hostOrder.Uint32(h[frameLenOffset:])
	f.Status = hostOrder.Uint32(h[frameStatOffset:])
	f.Mac = hostOrder.Uint16(h[frameMacOffset:])
	f.Net = hostOrder.Uint16(h[frameNetOffset:])
	f.VLANTCI = hostOrder.Uint32(h[frameTCIOffset:])
	f.VLANTPID = hostOrder.Uint16(h[frameTPIDOffset:])
	if int(f.Mac) < frameHeadroom || uint64(off)+uint64(f.Mac)+uint64(f.Snaplen) > uint64(len(b)) {
		return errBadBlock
	}
	return nil
}

// parseLinkAddr reads the sockaddr_ll of the packet header at off, which
// parseFrame has checked.
func parseLinkAddr(b []byte, off int) linkAddr {
	sll := b[off+sockaddrLLOffset : off+sockaddrLLOffset+sockaddrLLLen]
	a := linkAddr{
		Protocol: binary.BigEndian.Uint16(sll[2:]),
		Ifindex:  int32(hostOrder.Uint32(sll[4:])),
		HAType:   hostOrder.Uint16(sll[8:]),
		PktType:  sll[sockaddrLLPktTypeOffset],
		AddrLen:  sll[11],
	}
	copy(a.Addr[:], sll[12:20])
	a.addrBytes = min(int(a.AddrLen), len(a.Addr))
	return a
}

// blockWalker steps through the packets of one retired block. It never
// reads outside the block it was given, whatever the block holds.
type blockWalker struct {
	block []byte
	next  int // offset of the next tpacket3_hdr; 0 when done
	left  uint32
	// touched keeps touchLines' reads from being optimized away.
	touched byte
}

// reset starts walking block b.
func (w *blockWalker) reset(b []byte) error {
	w.block, w.next, w.left = b, 0, 0
	h, err := parseBlockHeader(b)
	if err != nil {
		return err
	}
	if h.NumPackets == 0 {
		return nil
	}
	if h.FirstOffset < blockDescLen || uint64(h.FirstOffset) > uint64(len(b)) {
		return errBadBlock
	}
	w.next, w.left = int(h.FirstOffset), h.NumPackets
	w.touched = touchLines(b[:min(int(h.Length), len(b))])
	return nil
}

// touchLines reads a byte of every cache line of b. A block the kernel
// handed over was written by another processor, and walking its packets
// one after the other waits for each line in turn; these reads, being
// independent of each other, are fetched many at a time.
func touchLines(b []byte) byte {
	var x byte
	for i := 0; i < len(b); i += 64 {
		x += b[i]
	}
	return x
}

// nextFrame reads the next packet header into f; ok is false at the end
// of the block. A malformed header ends the walk with errBadBlock.
func (w *blockWalker) nextFrame(f *frame) (ok bool, err error) {
	if w.left == 0 || w.next == 0 {
		return false, nil
	}
	if err = parseFrame(w.block, w.next, f); err != nil {
		w.left = 0
		return false, err
	}
	w.advance()
	return true, nil
}

// advance steps past the packet just read.
func (w *blockWalker) advance() {
	w.left--
	step := hostOrder.Uint32(w.block[w.next+frameNextOffset:])
	switch {
	case w.left == 0:
		w.next = 0
	case step == 0 || uint64(w.next)+uint64(step) > uint64(len(w.block)):
		// The kernel links every packet but the last; a broken link
		// ends the block here rather than loop or run off its end.
		w.next, w.left = 0, 0
	default:
		w.next += int(step)
	}
}
