package pcap

import (
	"encoding/binary"
	"math/bits"
)

// byteOrder reads the integers of a file written in either byte order. It
// is a flag rather than a binary.ByteOrder so the calls inline in the
// per-packet path.
type byteOrder struct{ big bool }

func (o byteOrder) u16(b []byte) uint16 {
	v := binary.LittleEndian.Uint16(b)
	if o.big {
		v = bits.ReverseBytes16(v)
	}
	return v
}

func (o byteOrder) u32(b []byte) uint32 {
	v := binary.LittleEndian.Uint32(b)
	if o.big {
		v = bits.ReverseBytes32(v)
	}
	return v
}

func (o byteOrder) u64(b []byte) uint64 {
	v := binary.LittleEndian.Uint64(b)
	if o.big {
		v = bits.ReverseBytes64(v)
	}
	return v
}
