package pcap

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"time"
)

// pcapng block types (draft-ietf-opsawg-pcapng) and byte-order magic.
const (
	blockTypeSectionHeader  uint32 = 0x0a0d0d0a // a palindrome: same in both byte orders
	blockTypeInterface      uint32 = 1
	blockTypeObsoletePacket uint32 = 2
	blockTypeSimplePacket   uint32 = 3
	blockTypeInterfaceStats uint32 = 5
	blockTypeEnhancedPacket uint32 = 6
	byteOrderMagic          uint32 = 0x1a2b3c4d
	byteOrderMagicSwapped   uint32 = 0x4d3c2b1a
)

// Fixed block parts, in bytes.
const (
	blockOverhead             = 12 // type, length, trailing length
	shbFixedLength            = 16 // byte-order magic, version, section length
	idbFixedLength            = 8  // link type, reserved, snap length
	epbFixedLength            = 20 // interface, timestamp, lengths
	obsoletePacketFixedLength = 20 // interface, drops, timestamp, lengths
	spbFixedLength            = 4  // original length
	isbFixedLength            = 12 // interface, timestamp
)

// ngState is the reading state of a pcapng stream: the current section's
// byte order and interfaces.
type ngState struct {
	order          byteOrder
	interfaces     []Interface
	first          Interface // the file's first interface
	maxBlockLength uint32
	section        Section
	sectionIndex   int                  // the current section's number, from 0
	sections       int                  // section headers read
	stats          []interfaceStatsSeen // by interface, the latest statistics
}

// startPcapng reads the first section header and then blocks up to the
// first interface description, so the link type is known. A file that
// ends before any interface is read as a file without packets.
func (r *Reader) startPcapng() error {
	r.ng.maxBlockLength = defaultMaxBlockLength
	for len(r.ng.interfaces) == 0 {
		blockType, body, at, err := r.nextBlock()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if isPacketBlock(blockType) {
			// Without an interface this is an error, which the packet
			// parser words; no packet is skipped.
			_, err = r.packetBlock(blockType, body, at, &CaptureInfo{})
		} else {
			err = r.metadataBlock(blockType, body, at)
		}
		if err != nil {
			return err
		}
	}
	r.ng.first = r.ng.interfaces[0]
	return nil
}

// readPcapng reads blocks up to the next packet.
func (r *Reader) readPcapng(ci *CaptureInfo) ([]byte, error) {
	for {
		blockType, body, at, err := r.nextBlock()
		if err != nil {
			return nil, err
		}
		if blockType == blockTypeEnhancedPacket { // the common case first
			return r.enhancedPacket(body, at, ci)
		}
		if isPacketBlock(blockType) {
			return r.packetBlock(blockType, body, at, ci)
		}
		if err := r.metadataBlock(blockType, body, at); err != nil {
			return nil, err
		}
	}
}

func isPacketBlock(blockType uint32) bool {
	return blockType == blockTypeEnhancedPacket || blockType == blockTypeSimplePacket || blockType == blockTypeObsoletePacket
}

func (r *Reader) packetBlock(blockType uint32, body []byte, at int64, ci *CaptureInfo) ([]byte, error) {
	switch blockType {
	case blockTypeEnhancedPacket:
		return r.enhancedPacket(body, at, ci)
	case blockTypeSimplePacket:
		return r.simplePacket(body, at, ci)
	}
	return r.obsoletePacket(body, at, ci)
}

// metadataBlock acts on a block that carries no packet.
func (r *Reader) metadataBlock(blockType uint32, body []byte, at int64) error {
	switch blockType {
	case blockTypeSectionHeader:
		return r.sectionHeader(body, at)
	case blockTypeInterface:
		return r.interfaceDescription(body, at)
	case blockTypeInterfaceStats:
		r.interfaceStatistics(body)
	}
	// Name resolution, decryption secrets, custom and unknown blocks say
	// nothing a packet reader needs.
	return nil
}

// nextBlock reads a whole block, checks its framing and returns its type
// and body (what lies between the length fields). A section header sets
// the byte order of the blocks that follow.
func (r *Reader) nextBlock() (blockType uint32, body []byte, at int64, err error) {
	ng, in := &r.ng, r.in
	at = in.offset
	n, err := in.ensure(8)
	if err != nil {
		return 0, nil, at, err
	}
	if n < 8 {
		if n == 0 {
			return 0, nil, at, io.EOF
		}
		return 0, nil, at, formatErrorf(at, "truncated block header")
	}
	order, limit := ng.order, ng.maxBlockLength
	if binary.BigEndian.Uint32(in.peek(4)) == blockTypeSectionHeader {
		if order, err = r.sectionByteOrder(at); err != nil {
			return 0, nil, at, err
		}
		limit = maxSectionHeaderBlockLength
	}
	h := in.peek(8)
	blockType, length := order.u32(h[0:]), order.u32(h[4:])
	switch {
	case length < blockOverhead:
		return 0, nil, at, formatErrorf(at, "block length %d too small", length)
	case length%4 != 0:
		return 0, nil, at, formatErrorf(at, "block length %d not a multiple of 4", length)
	case length > limit:
		return 0, nil, at, formatErrorf(at, "block length %d too large", length)
	}
	if n, err = in.ensure(int(length)); err != nil {
		return 0, nil, at, err
	}
	if n < int(length) {
		return 0, nil, at, formatErrorf(at, "truncated block (wanted %d bytes, %d present)", length, n)
	}
	block := in.peek(int(length))
	if trailer := order.u32(block[length-4:]); trailer != length {
		return 0, nil, at, formatErrorf(at, "block length %d but trailing length %d", length, trailer)
	}
	in.consume(int(length))
	if blockType == blockTypeSectionHeader {
		ng.order = order
	}
	return blockType, block[8 : length-4], at, nil
}

// sectionByteOrder reads the byte-order magic of the section header block
// starting at the current offset.
func (r *Reader) sectionByteOrder(at int64) (byteOrder, error) {
	n, err := r.in.ensure(12)
	if err != nil {
		return byteOrder{}, err
	}
	if n < 12 {
		return byteOrder{}, formatErrorf(at, "truncated section header block")
	}
	switch binary.BigEndian.Uint32(r.in.peek(12)[8:]) {
	case byteOrderMagic:
		return byteOrder{big: true}, nil
	case byteOrderMagicSwapped:
		return byteOrder{big: false}, nil
	}
	return byteOrder{}, formatErrorf(at, "bad byte-order magic")
}

// sectionHeader starts a new section: its own byte order (already set by
// nextBlock) and its own, so far empty, interface list.
func (r *Reader) sectionHeader(body []byte, at int64) error {
	ng := &r.ng
	if len(body) < shbFixedLength {
		return formatErrorf(at, "section header block length %d too small", len(body)+blockOverhead)
	}
	major, minor := ng.order.u16(body[4:]), ng.order.u16(body[6:])
	if major != 1 {
		return formatErrorf(at, "unsupported pcapng version %d.%d", major, minor)
	}
	section, err := ng.sectionOptions(body[shbFixedLength:], at)
	if err != nil {
		return err
	}
	ng.section, ng.sectionIndex = section, ng.sections
	ng.sections++
	ng.interfaces = nil // fresh slices: callers may hold the old ones
	ng.stats = nil
	return nil
}

func (r *Reader) enhancedPacket(body []byte, at int64, ci *CaptureInfo) ([]byte, error) {
	if len(body) < epbFixedLength {
		return nil, formatErrorf(at, "enhanced packet block length %d too small", len(body)+blockOverhead)
	}
	o := r.ng.order
	ticks := uint64(o.u32(body[4:]))<<32 | uint64(o.u32(body[8:]))
	caplen, room := o.u32(body[12:]), body[epbFixedLength:]
	data, err := r.packet(at, o.u32(body[0:]), ticks, caplen, o.u32(body[16:]), room, ci)
	if err == nil {
		r.ng.packetOptions(room, caplen, ci)
	}
	return data, err
}

func (r *Reader) obsoletePacket(body []byte, at int64, ci *CaptureInfo) ([]byte, error) {
	if len(body) < obsoletePacketFixedLength {
		return nil, formatErrorf(at, "packet block length %d too small", len(body)+blockOverhead)
	}
	o := r.ng.order
	ticks := uint64(o.u32(body[4:]))<<32 | uint64(o.u32(body[8:]))
	caplen, room := o.u32(body[12:]), body[obsoletePacketFixedLength:]
	data, err := r.packet(at, uint32(o.u16(body[0:])), ticks, caplen, o.u32(body[16:]), room, ci)
	if err == nil {
		r.ng.packetOptions(room, caplen, ci) // pack_flags has epb_flags' code and layout
	}
	return data, err
}

// packet checks and returns the packet of an enhanced or obsolete packet
// block; room is the block's space for packet data and options.
func (r *Reader) packet(at int64, index uint32, ticks uint64, caplen, wireLength uint32, room []byte, ci *CaptureInfo) ([]byte, error) {
	ifc, err := r.ng.iface(index, at)
	if err != nil {
		return nil, err
	}
	if uint64(caplen) > uint64(len(room)) {
		return nil, formatErrorf(at, "captured length %d overruns the block (%d bytes of room)", caplen, len(room))
	}
	data := room[:caplen:caplen]
	if cut := effectiveSnaplen(ifc.LinkType, ifc.Snaplen); caplen > cut {
		data = data[:cut]
	}
	*ci = CaptureInfo{
		Timestamp:      ngTimestamp(ticks, ifc.TimestampResolution, ifc.TimestampOffset),
		CaptureLength:  len(data),
		Length:         int(wireLength),
		InterfaceIndex: int(index),
		LinkType:       ifc.LinkType,
	}
	return data, nil
}

// simplePacket reads a simple packet block: interface 0, no timestamp, and
// as many bytes as the packet had, the snap length allows and the block
// holds.
func (r *Reader) simplePacket(body []byte, at int64, ci *CaptureInfo) ([]byte, error) {
	if len(body) < spbFixedLength {
		return nil, formatErrorf(at, "simple packet block length %d too small", len(body)+blockOverhead)
	}
	ifc, err := r.ng.iface(0, at)
	if err != nil {
		return nil, err
	}
	wireLength := r.ng.order.u32(body[0:])
	room := body[spbFixedLength:]
	caplen := min(uint64(wireLength), uint64(effectiveSnaplen(ifc.LinkType, ifc.Snaplen)), uint64(len(room)))
	*ci = CaptureInfo{
		Timestamp:     time.Unix(ifc.TimestampOffset, 0), // as libpcap: time 0 plus the offset
		CaptureLength: int(caplen),
		Length:        int(wireLength),
		LinkType:      ifc.LinkType,
	}
	return room[:caplen:caplen], nil
}

// iface returns the current section's interface with the given index.
func (ng *ngState) iface(index uint32, at int64) (*Interface, error) {
	if uint64(index) >= uint64(len(ng.interfaces)) {
		defined := "no interface defined"
		switch n := len(ng.interfaces); {
		case n == 1:
			defined = "only 1 interface defined"
		case n > 1:
			defined = "only " + strconv.Itoa(n) + " interfaces defined"
		}
		return nil, formatErrorf(at, "packet block for interface %d, but %s", index, defined)
	}
	return &ng.interfaces[index], nil
}
