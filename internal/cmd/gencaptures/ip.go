package main

import (
	"encoding/binary"
	"net/netip"
)

// ip4 describes an IPv4 header; zero fields take common defaults.
type ip4 struct {
	src, dst netip.Addr
	ttl      uint8
	tos      uint8
	id       uint16
	df       bool
	options  []byte // padded with end-of-options to a multiple of 4
}

// packet builds the header around seg.
func (h ip4) packet(seg segment) []byte {
	return h.fragment(seg.proto, seg.build(h.src, h.dst), 0, false)
}

// fragments builds the datagram of seg, then cuts it at the given byte
// offsets of the payload (multiples of 8) into fragments.
func (h ip4) fragments(seg segment, cuts ...int) [][]byte {
	payload := seg.build(h.src, h.dst)
	var out [][]byte
	start := 0
	for i := 0; i <= len(cuts); i++ {
		end := len(payload)
		if i < len(cuts) {
			end = cuts[i]
		}
		out = append(out, h.fragment(seg.proto, payload[start:end], start, end < len(payload)))
		start = end
	}
	return out
}

func (h ip4) fragment(proto uint8, payload []byte, offset int, moreFragments bool) []byte {
	opts := append([]byte(nil), h.options...)
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	hdrLen := 20 + len(opts)
	b := make([]byte, hdrLen+len(payload))
	b[0] = 0x40 | byte(hdrLen/4)
	b[1] = h.tos
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	id := h.id
	if id == 0 {
		id = 0x1000 + uint16(proto)
	}
	binary.BigEndian.PutUint16(b[4:], id)
	frag := uint16(offset / 8)
	if moreFragments {
		frag |= 0x2000
	}
	if h.df {
		frag |= 0x4000
	}
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8] = h.ttl
	if b[8] == 0 {
		b[8] = 64
	}
	b[9] = proto
	copy(b[12:], h.src.AsSlice())
	copy(b[16:], h.dst.AsSlice())
	copy(b[20:], opts)
	binary.BigEndian.PutUint16(b[10:], checksum(b[:hdrLen]))
	copy(b[hdrLen:], payload)
	return b
}

// IPv4 options.
var (
	optRouterAlert = []byte{148, 4, 0, 0}
	optRecordRoute = []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0} // two empty slots
	optNOPs        = []byte{1, 1, 1, 1, 1, 1, 1, 0}
	optTimestamp   = []byte{68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	optMaxLength   = []byte{7, 39, 4, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5,
		6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9, 0} // IHL 15
)

// ip6 describes an IPv6 header and its extension headers.
type ip6 struct {
	src, dst netip.Addr
	hopLimit uint8
	flow     uint32
	ext      []ext6
}

// ext6 is one extension header: its type and its bytes after the
// next-header field (the length byte included).
type ext6 struct {
	kind uint8
	body []byte
}

func (h ip6) packet(seg segment) []byte {
	return h.assemble(h.ext, seg.proto, seg.build(h.src, h.dst))
}

func (h ip6) assemble(exts []ext6, proto uint8, payload []byte) []byte {
	var chain []byte
	for i, e := range exts {
		next := proto
		if i+1 < len(exts) {
			next = exts[i+1].kind
		}
		chain = append(chain, next)
		chain = append(chain, e.body...)
	}
	first := proto
	if len(exts) > 0 {
		first = exts[0].kind
	}
	b := make([]byte, 40, 40+len(chain)+len(payload))
	binary.BigEndian.PutUint32(b[0:], 6<<28|h.flow)
	binary.BigEndian.PutUint16(b[4:], uint16(len(chain)+len(payload)))
	b[6] = first
	b[7] = h.hopLimit
	if b[7] == 0 {
		b[7] = 64
	}
	copy(b[8:], h.src.AsSlice())
	copy(b[24:], h.dst.AsSlice())
	b = append(b, chain...)
	return append(b, payload...)
}

// fragments cuts seg's bytes at the given offsets, adding a fragment
// header after h's own extension headers.
func (h ip6) fragments(id uint32, seg segment, cuts ...int) [][]byte {
	payload := seg.build(h.src, h.dst)
	var out [][]byte
	start := 0
	for i := 0; i <= len(cuts); i++ {
		end := len(payload)
		if i < len(cuts) {
			end = cuts[i]
		}
		fh := make([]byte, 7)
		off := uint16(start/8) << 3
		if end < len(payload) {
			off |= 1
		}
		binary.BigEndian.PutUint16(fh[1:], off)
		binary.BigEndian.PutUint32(fh[3:], id)
		exts := append(append([]ext6(nil), h.ext...), ext6{protoFragment, fh})
		out = append(out, h.assemble(exts, seg.proto, payload[start:end]))
		start = end
	}
	return out
}

// Extension headers.
var (
	extHopByHop    = ext6{protoHopByHop, []byte{0, 5, 2, 0, 0, 1, 0}} // router alert (MLD), PadN
	extHopByHopPad = ext6{protoHopByHop, []byte{0, 1, 4, 0, 0, 0, 0}} // PadN only
	extDstOpts     = ext6{protoDstOpts, []byte{0, 1, 4, 0, 0, 0, 0}}
	extRouting     = ext6{protoRouting, append([]byte{2, 0, 0, 0, 0, 0, 0},
		netip.MustParseAddr("fd00:beef::99").AsSlice()...)} // type 0, segments left 0
)
