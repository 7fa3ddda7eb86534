package pcap

import (
	"encoding/binary"
	"time"
)

// endian is a byte order that can also append.
type endian interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// fileBuilder assembles capture files byte by byte, in either byte order,
// so tests can state exactly what a writer (or a damaged file) would hold.
// starts records where every file header, record or block begins, and
// packets which of them carry a packet.
type fileBuilder struct {
	order   endian
	buf     []byte
	starts  []int
	packets []bool
}

func (b *fileBuilder) u16(v uint16) { b.buf = b.order.AppendUint16(b.buf, v) }
func (b *fileBuilder) u32(v uint32) { b.buf = b.order.AppendUint32(b.buf, v) }
func (b *fileBuilder) u64(v uint64) { b.buf = b.order.AppendUint64(b.buf, v) }

func (b *fileBuilder) bytes() []byte { return append([]byte(nil), b.buf...) }

// mark notes that a header, record or block starts here.
func (b *fileBuilder) mark(packet bool) {
	b.starts = append(b.starts, len(b.buf))
	b.packets = append(b.packets, packet)
}

// unit is one file header, record or block of a built file.
type unit struct {
	start, end int
	packet     bool
}

func (b *fileBuilder) units() []unit {
	var us []unit
	for i, start := range b.starts {
		end := len(b.buf)
		if i+1 < len(b.starts) {
			end = b.starts[i+1]
		}
		us = append(us, unit{start, end, b.packets[i]})
	}
	return us
}

// classicHeader starts a classic pcap file.
func classicHeader(order endian, magic uint32, major, minor uint16, snaplen, linkField uint32) *fileBuilder {
	b := &fileBuilder{order: order}
	b.mark(false)
	b.u32(magic)
	b.u16(major)
	b.u16(minor)
	b.u32(0) // thiszone
	b.u32(0) // sigfigs
	b.u32(snaplen)
	b.u32(linkField)
	return b
}

// record appends a classic record; data is written as given, whatever
// caplen says. modified adds the 8 extra bytes of the a1b2cd34 format.
func (b *fileBuilder) record(sec, frac, caplen, wireLength uint32, data []byte, modified bool) *fileBuilder {
	b.mark(true)
	b.u32(sec)
	b.u32(frac)
	b.u32(caplen)
	b.u32(wireLength)
	if modified {
		b.u32(2)    // interface index
		b.u16(0x08) // protocol
		b.buf = append(b.buf, 0, 0)
	}
	b.buf = append(b.buf, data...)
	return b
}

// option is one pcapng option.
type option struct {
	code  uint16
	value []byte
}

// ngFile starts a pcapng file with a section header in the given order.
func ngFile(order endian, opts ...option) *fileBuilder {
	b := &fileBuilder{}
	return b.section(order, opts...)
}

// section appends a section header block; later blocks use its order.
func (b *fileBuilder) section(order endian, opts ...option) *fileBuilder {
	b.order = order
	var body []byte
	body = order.AppendUint32(body, byteOrderMagic)
	body = order.AppendUint16(body, 1)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, ^uint64(0)) // section length unknown
	return b.block(blockTypeSectionHeader, append(body, b.options(opts)...))
}

// block appends a block with the given type and body (padded to 4 bytes).
func (b *fileBuilder) block(blockType uint32, body []byte) *fileBuilder {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	length := uint32(len(body) + blockOverhead)
	b.mark(blockType == blockTypeEnhancedPacket || blockType == blockTypeSimplePacket || blockType == blockTypeObsoletePacket)
	b.u32(blockType)
	b.u32(length)
	b.buf = append(b.buf, body...)
	b.u32(length)
	return b
}

// options encodes options followed by opt_endofopt (none when opts is
// empty).
func (b *fileBuilder) options(opts []option) []byte {
	if len(opts) == 0 {
		return nil
	}
	var out []byte
	for _, o := range opts {
		out = b.order.AppendUint16(out, o.code)
		out = b.order.AppendUint16(out, uint16(len(o.value)))
		out = append(out, o.value...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return append(out, 0, 0, 0, 0)
}

func (b *fileBuilder) idb(linkType uint16, snaplen uint32, opts ...option) *fileBuilder {
	var body []byte
	body = b.order.AppendUint16(body, linkType)
	body = b.order.AppendUint16(body, 0)
	body = b.order.AppendUint32(body, snaplen)
	return b.block(blockTypeInterface, append(body, b.options(opts)...))
}

func (b *fileBuilder) epb(iface uint32, ticks uint64, caplen, wireLength uint32, data []byte, opts ...option) *fileBuilder {
	var body []byte
	body = b.order.AppendUint32(body, iface)
	body = b.order.AppendUint32(body, uint32(ticks>>32))
	body = b.order.AppendUint32(body, uint32(ticks))
	body = b.order.AppendUint32(body, caplen)
	body = b.order.AppendUint32(body, wireLength)
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	return b.block(blockTypeEnhancedPacket, append(body, b.options(opts)...))
}

func (b *fileBuilder) spb(wireLength uint32, data []byte) *fileBuilder {
	body := b.order.AppendUint32(nil, wireLength)
	return b.block(blockTypeSimplePacket, append(body, data...))
}

func (b *fileBuilder) obsoletePacket(iface uint16, ticks uint64, caplen, wireLength uint32, data []byte) *fileBuilder {
	var body []byte
	body = b.order.AppendUint16(body, iface)
	body = b.order.AppendUint16(body, 0) // drops
	body = b.order.AppendUint32(body, uint32(ticks>>32))
	body = b.order.AppendUint32(body, uint32(ticks))
	body = b.order.AppendUint32(body, caplen)
	body = b.order.AppendUint32(body, wireLength)
	return b.block(blockTypeObsoletePacket, append(body, data...))
}

// Blocks a packet reader skips.
const (
	blockTypeNameResolution  uint32 = 4
	blockTypeDecryptSecrets  uint32 = 10
	blockTypeCustomCopyable  uint32 = 0x00000bad
	blockTypeLocalUse        uint32 = 0x80000001
	blockTypeUnknownReserved uint32 = 0x00000042
)

// isb appends an interface statistics block.
func (b *fileBuilder) isb(iface uint32) *fileBuilder {
	var body []byte
	body = b.order.AppendUint32(body, iface)
	body = b.order.AppendUint64(body, 0)
	body = append(body, b.options([]option{{4, b.order.AppendUint64(nil, 7)}})...) // isb_ifrecv
	return b.block(blockTypeInterfaceStats, body)
}

// nrb appends a name resolution block naming 192.0.2.1.
func (b *fileBuilder) nrb() *fileBuilder {
	var body []byte
	record := append([]byte{192, 0, 2, 1}, "host.example\x00"...)
	body = b.order.AppendUint16(body, 1) // nrb_record_ipv4
	body = b.order.AppendUint16(body, uint16(len(record)))
	body = append(body, record...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	body = append(body, 0, 0, 0, 0) // nrb_record_end
	return b.block(blockTypeNameResolution, body)
}

// payload is n recognisable bytes.
func payload(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = seed + byte(i)
	}
	return p
}

// wantPacket is what ReadPacket should return.
type wantPacket struct {
	data []byte
	ci   CaptureInfo
}

func packetAt(sec int64, nsec int64, data []byte, wireLength int, iface int, lt LinkType) wantPacket {
	return wantPacket{data: data, ci: CaptureInfo{
		Timestamp:      time.Unix(sec, nsec),
		CaptureLength:  len(data),
		Length:         wireLength,
		InterfaceIndex: iface,
		LinkType:       lt,
	}}
}

// raw appends bytes as they are, as one unit.
func (b *fileBuilder) raw(p []byte) *fileBuilder {
	b.mark(false)
	b.buf = append(b.buf, p...)
	return b
}

// rawBlock appends a block whose length fields say whatever the test
// wants.
func (b *fileBuilder) rawBlock(blockType, length, trailer uint32, body []byte) *fileBuilder {
	b.mark(false)
	b.u32(blockType)
	b.u32(length)
	b.buf = append(b.buf, body...)
	b.u32(trailer)
	return b
}
