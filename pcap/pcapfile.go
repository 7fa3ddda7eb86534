package pcap

import (
	"io"
	"time"
)

// magicModified marks Alexey Kuznetzov's "modified" pcap format, whose
// records carry 8 more bytes (interface index, protocol, packet type).
const magicModified uint32 = 0xa1b2cd34

const (
	fileHeaderLength           = 24
	recordHeaderLength         = 16
	modifiedRecordHeaderLength = 24
)

// Upper bits of the header's link type field (pcap-savefile(5)): when
// fcsKnownBit is set, the top 4 bits give the FCS length in 16-bit words.
const (
	linkTypeMask uint32 = 0xffff
	fcsKnownBit  uint32 = 0x04000000
)

// lengthOrder tells where the captured and wire lengths sit in a record:
// files before version 2.3 wrote them the other way round, and some 2.3
// files did either.
type lengthOrder uint8

const (
	lengthsInOrder lengthOrder = iota
	lengthsSwapped
	lengthsMaybeSwapped // swap when "captured" exceeds "wire", as libpcap
)

// classicState is what a classic pcap file header says about its records.
type classicState struct {
	order        byteOrder
	linkType     LinkType
	snaplen      uint32 // as written in the header
	cutAt        uint32 // longer records are cut to this, as libpcap does
	maxCaplen    uint32 // longer records are damage
	fcsLength    int    // -1 when the header does not say
	nanoseconds  bool
	recordLength int
	lengths      lengthOrder
}

func (st *classicState) iface() Interface {
	resolution := uint64(1_000_000)
	if st.nanoseconds {
		resolution = 1_000_000_000
	}
	return Interface{
		LinkType:            st.linkType,
		Snaplen:             st.snaplen,
		TimestampResolution: resolution,
		FCSLength:           st.fcsLength,
	}
}

// classicMagic decodes a classic pcap magic number in either byte order.
func classicMagic(b []byte) (order byteOrder, magic uint32, ok bool) {
	for _, o := range [2]byteOrder{{big: false}, {big: true}} {
		switch m := o.u32(b); m {
		case magicMicroseconds, magicNanoseconds, magicModified:
			return o, m, true
		}
	}
	return byteOrder{}, 0, false
}

func isClassicMagic(b []byte) bool {
	_, _, ok := classicMagic(b)
	return ok
}

// startClassic reads the 24-byte file header.
func (r *Reader) startClassic() error {
	n, err := r.in.ensure(fileHeaderLength)
	if err != nil {
		return err
	}
	if n < fileHeaderLength {
		return formatErrorf(0, "truncated file header (%d of %d bytes)", n, fileHeaderLength)
	}
	h := r.in.peek(fileHeaderLength)
	order, magic, _ := classicMagic(h)
	major, minor := order.u16(h[4:]), order.u16(h[6:])
	st := &r.classic
	st.order = order
	switch {
	case major == 2 && minor < 3, major == 543 && minor == 0: // 543.0: DG/UX
		st.lengths = lengthsSwapped
	case major == 2 && minor == 3:
		st.lengths = lengthsMaybeSwapped
	case major == 2 && minor == 4:
		st.lengths = lengthsInOrder
	default:
		return formatErrorf(0, "unsupported pcap version %d.%d", major, minor)
	}
	st.snaplen = order.u32(h[16:])
	field := order.u32(h[20:])
	st.linkType = LinkType(field & linkTypeMask)
	st.fcsLength = -1
	if field&fcsKnownBit != 0 {
		st.fcsLength = int(field>>28) * 2
	}
	st.nanoseconds = magic == magicNanoseconds
	st.maxCaplen = maxSnaplen(st.linkType)
	st.cutAt = effectiveSnaplen(st.linkType, st.snaplen)
	st.recordLength = recordHeaderLength
	if magic == magicModified {
		st.recordLength = modifiedRecordHeaderLength
		if st.linkType == LinkTypeEthernet {
			// Cooked captures got a fake Ethernet header on top of the
			// snap length; libpcap allows for it the same way.
			st.cutAt += 14
		}
	}
	r.in.consume(fileHeaderLength)
	return nil
}

// readClassic reads one record.
func (r *Reader) readClassic(ci *CaptureInfo) ([]byte, error) {
	st, in := &r.classic, r.in
	at := in.offset
	hl := st.recordLength
	n, err := in.ensure(hl)
	if err != nil {
		return nil, err
	}
	if n < hl {
		if n == 0 {
			return nil, io.EOF
		}
		return nil, formatErrorf(at, "truncated record header")
	}
	h := in.peek(hl)
	sec, frac := st.order.u32(h[0:]), st.order.u32(h[4:])
	caplen, wireLength := st.order.u32(h[8:]), st.order.u32(h[12:])
	if st.lengths == lengthsSwapped || st.lengths == lengthsMaybeSwapped && caplen > wireLength {
		caplen, wireLength = wireLength, caplen
	}
	if caplen > st.maxCaplen {
		return nil, formatErrorf(at, "capture length %d larger than maximum %d", caplen, st.maxCaplen)
	}
	total := hl + int(caplen)
	if n, err = in.ensure(total); err != nil {
		return nil, err
	}
	if n < total {
		return nil, formatErrorf(at, "truncated packet data (wanted %d bytes, %d present)", caplen, n-hl)
	}
	data := in.peek(total)[hl:]
	in.consume(total)
	if caplen > st.cutAt {
		data = data[:st.cutAt]
	}
	nsec := int64(frac)
	if !st.nanoseconds {
		nsec *= 1000
	}
	*ci = CaptureInfo{
		Timestamp:     time.Unix(int64(sec), nsec),
		CaptureLength: len(data),
		Length:        int(wireLength),
		LinkType:      st.linkType,
	}
	return data, nil
}
