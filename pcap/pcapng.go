package pcap

import (
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"strconv"
	"time"
)

// pcapng block types (draft-ietf-opsawg-pcapng) and byte-order magic.
const (
	blockTypeSectionHeader  uint32 = 0x0a0d0d0a // a palindrome: same in both byte orders
	blockTypeInterface      uint32 = 1
	blockTypeObsoletePacket uint32 = 2
	blockTypeSimplePacket   uint32 = 3
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
)

const defaultTimestampResolution = 1_000_000 // microseconds

// Interface description block options weir keeps.
const (
	optionEndOfOptions = 0
	optionName         = 2
	optionDescription  = 3
	optionTSResol      = 9
	optionFilter       = 11
	optionOS           = 12
	optionTSOffset     = 14
)

// Interface describes a capture interface: the single one of a classic
// pcap file, or a pcapng Interface Description Block.
type Interface struct {
	LinkType    LinkType
	Snaplen     uint32 // as written; 0 means no limit
	Name        string // if_name
	Description string // if_description
	Filter      string // if_filter, when given as a libpcap filter string
	OS          string // if_os
	// TimestampResolution is the number of timestamp units per second:
	// 1e6 unless if_tsresol says otherwise (1e9 for nanosecond pcap).
	TimestampResolution uint64
	TimestampOffset     int64 // if_tsoffset: seconds added to every timestamp
	// FCSLength is the number of frame check sequence bytes ending each
	// packet, from a classic pcap header; -1 when the file does not say.
	FCSLength int
}

// ngState is the reading state of a pcapng stream: the current section's
// byte order and interfaces.
type ngState struct {
	order          byteOrder
	interfaces     []Interface
	first          Interface // the file's first interface
	maxBlockLength uint32
}

// startPcapng reads the first section header and then blocks up to the
// first interface description, so the link type is known. A file that
// ends before any interface is read as a file without packets.
func (r *Reader) startPcapng() error {
	r.pcapn.maxBlockLength = defaultMaxBlockLength
	for len(r.pcapn.interfaces) == 0 {
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
	r.pcapn.first = r.pcapn.interfaces[0]
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
	}
	// Statistics, name resolution, decryption secrets, custom and unknown
	// blocks say nothing a packet reader needs.
	return nil
}

// nextBlock reads a whole block, checks its framing and returns its type
// and body (what lies between the length fields). A section header sets
// the byte order of the blocks that follow.
func (r *Reader) nextBlock() (blockType uint32, body []byte, at int64, err error) {
	ng, in := &r.pcapn, r.in
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
	ng := &r.pcapn
	if len(body) < shbFixedLength {
		return formatErrorf(at, "section header block length %d too small", len(body)+blockOverhead)
	}
	major, minor := ng.order.u16(body[4:]), ng.order.u16(body[6:])
	if major != 1 {
		return formatErrorf(at, "unsupported pcapng version %d.%d", major, minor)
	}
	ng.interfaces = nil // a fresh slice: callers may hold the old one
	return nil
}

// interfaceDescription adds an interface to the current section.
func (r *Reader) interfaceDescription(body []byte, at int64) error {
	ng := &r.pcapn
	if len(body) < idbFixedLength {
		return formatErrorf(at, "interface description block length %d too small", len(body)+blockOverhead)
	}
	ifc := Interface{
		LinkType:            LinkType(ng.order.u16(body[0:])),
		Snaplen:             ng.order.u32(body[4:]),
		TimestampResolution: defaultTimestampResolution,
		FCSLength:           -1,
	}
	if err := ng.interfaceOptions(&ifc, body[idbFixedLength:], at); err != nil {
		return err
	}
	ng.maxBlockLength = max(ng.maxBlockLength, maxBlockLengthFor(ifc.LinkType))
	ng.interfaces = append(ng.interfaces, ifc)
	return nil
}

// interfaceOptions fills ifc from the options of its description block.
func (ng *ngState) interfaceOptions(ifc *Interface, opts []byte, at int64) error {
	for len(opts) >= 4 {
		code, length := ng.order.u16(opts[0:]), int(ng.order.u16(opts[2:]))
		padded := (length + 3) &^ 3
		if 4+padded > len(opts) {
			return formatErrorf(at, "interface option %d length %d overruns the block", code, length)
		}
		value := opts[4 : 4+length]
		opts = opts[4+padded:]
		switch code {
		case optionEndOfOptions:
			return nil
		case optionName:
			ifc.Name = optionString(value)
		case optionDescription:
			ifc.Description = optionString(value)
		case optionOS:
			ifc.OS = optionString(value)
		case optionFilter:
			if len(value) > 0 && value[0] == 0 { // 0: a libpcap filter string
				ifc.Filter = optionString(value[1:])
			}
		case optionTSResol:
			resolution, err := timestampResolution(value, at)
			if err != nil {
				return err
			}
			ifc.TimestampResolution = resolution
		case optionTSOffset:
			if len(value) != 8 {
				return formatErrorf(at, "if_tsoffset option length %d, want 8", len(value))
			}
			ifc.TimestampOffset = int64(ng.order.u64(value))
		}
	}
	return nil
}

// timestampResolution decodes if_tsresol: units per second, 10^v, or 2^v
// when the top bit is set.
func timestampResolution(value []byte, at int64) (uint64, error) {
	if len(value) != 1 {
		return 0, formatErrorf(at, "if_tsresol option length %d, want 1", len(value))
	}
	v := value[0]
	if v&0x80 != 0 {
		shift := v & 0x7f
		if shift > 63 {
			return 0, formatErrorf(at, "if_tsresol 2^-%d too fine", shift)
		}
		return 1 << shift, nil
	}
	if v > 19 { // 10^20 does not fit in 64 bits
		return 0, formatErrorf(at, "if_tsresol 10^-%d too fine", v)
	}
	resolution := uint64(1)
	for range v {
		resolution *= 10
	}
	return resolution, nil
}

// optionString is a string option's value without the NUL padding some
// writers add.
func optionString(value []byte) string {
	for len(value) > 0 && value[len(value)-1] == 0 {
		value = value[:len(value)-1]
	}
	return string(value)
}

func (r *Reader) enhancedPacket(body []byte, at int64, ci *CaptureInfo) ([]byte, error) {
	if len(body) < epbFixedLength {
		return nil, formatErrorf(at, "enhanced packet block length %d too small", len(body)+blockOverhead)
	}
	o := r.pcapn.order
	ticks := uint64(o.u32(body[4:]))<<32 | uint64(o.u32(body[8:]))
	return r.packet(at, o.u32(body[0:]), ticks, o.u32(body[12:]), o.u32(body[16:]), body[epbFixedLength:], ci)
}

func (r *Reader) obsoletePacket(body []byte, at int64, ci *CaptureInfo) ([]byte, error) {
	if len(body) < obsoletePacketFixedLength {
		return nil, formatErrorf(at, "packet block length %d too small", len(body)+blockOverhead)
	}
	o := r.pcapn.order
	ticks := uint64(o.u32(body[4:]))<<32 | uint64(o.u32(body[8:]))
	return r.packet(at, uint32(o.u16(body[0:])), ticks, o.u32(body[12:]), o.u32(body[16:]), body[obsoletePacketFixedLength:], ci)
}

// packet checks and returns the packet of an enhanced or obsolete packet
// block; room is the block's space for packet data and options.
func (r *Reader) packet(at int64, index uint32, ticks uint64, caplen, wireLength uint32, room []byte, ci *CaptureInfo) ([]byte, error) {
	ifc, err := r.pcapn.iface(index, at)
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
	ifc, err := r.pcapn.iface(0, at)
	if err != nil {
		return nil, err
	}
	wireLength := r.pcapn.order.u32(body[0:])
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

// ngTimestamp converts a timestamp in units of 1/resolution seconds,
// exactly (to the nanosecond, rounding down).
func ngTimestamp(ticks, resolution uint64, offset int64) time.Time {
	var sec, nsec uint64
	switch resolution {
	case 1_000_000: // the common cases divide by constants
		sec, nsec = ticks/1_000_000, ticks%1_000_000*1000
	case 1_000_000_000:
		sec, nsec = ticks/1_000_000_000, ticks%1_000_000_000
	default:
		sec = ticks / resolution
		hi, lo := bits.Mul64(ticks%resolution, 1_000_000_000)
		nsec, _ = bits.Div64(hi, lo, resolution) // hi < resolution: no overflow
	}
	return time.Unix(int64(sec)+offset, int64(nsec))
}
