package bpf

import (
	"encoding/binary"
	"fmt"
)

// A ring record, as the capture program writes it (host byte order but
// for the VLAN protocol, which the kernel keeps in network order):
//
//	 0  u64 bpf_ktime_get_ns (CLOCK_MONOTONIC)
//	 8  u32 length on the wire
//	12  u32 bytes captured
//	16  u32 interface index
//	20  u16 VLAN TCI the kernel took out of the packet (tcx)
//	22  u16 VLAN protocol, big-endian (tcx)
//	24  u8  Linux packet type (sll_pkttype); PacketTypeUnknown at XDP
//	25  u8  1 when a VLAN tag was taken out of the packet (tcx)
//	26  u16 the rule that captured the packet, from 1 (0: no rules)
//	28  4 bytes of zeros
//	32  the packet's first bytes; the record is padded to its size class
const (
	recTimestamp     = 0
	recLength        = 8
	recCaptureLength = 12
	recIfindex       = 16
	recVLANTCI       = 20
	recVLANProto     = 22
	recPacketType    = 24
	recFlags         = 25
	recRule          = 26

	// RecordHeaderLen is the size of a record's header.
	RecordHeaderLen = 32
)

// Record is a decoded ring record.
type Record struct {
	// Monotonic is when the program saw the packet, in CLOCK_MONOTONIC
	// nanoseconds.
	Monotonic     uint64
	Length        uint32 // bytes on the wire
	CaptureLength uint32 // bytes in Data
	Ifindex       uint32
	// PacketType is the Linux packet type (0 host ... 4 outgoing), or
	// PacketTypeUnknown.
	PacketType uint8
	// VLANPresent says the kernel took a VLAN tag out of the packet (tcx
	// only); VLANTCI and VLANProto are that tag.
	VLANPresent bool
	VLANTCI     uint16
	VLANProto   uint16
	// Rule is the number of the rule that captured the packet, from 1;
	// 0 without rules.
	Rule uint16
	// Data is the captured bytes, within the decoded buffer.
	Data []byte
}

// DecodeRecord decodes a ring record into r; r.Data then points into b.
// Nothing is allocated.
func DecodeRecord(b []byte, r *Record) error {
	if len(b) < RecordHeaderLen {
		return fmt.Errorf("bpf: ring record of %d bytes is shorter than its %d-byte header", len(b), RecordHeaderLen)
	}
	ne := binary.NativeEndian
	r.Monotonic = ne.Uint64(b[recTimestamp:])
	r.Length = ne.Uint32(b[recLength:])
	r.CaptureLength = ne.Uint32(b[recCaptureLength:])
	r.Ifindex = ne.Uint32(b[recIfindex:])
	r.VLANTCI = ne.Uint16(b[recVLANTCI:])
	r.VLANProto = binary.BigEndian.Uint16(b[recVLANProto:])
	r.PacketType = b[recPacketType]
	r.VLANPresent = b[recFlags]&1 != 0
	r.Rule = ne.Uint16(b[recRule:])
	room := len(b) - RecordHeaderLen
	switch {
	case uint64(r.CaptureLength) > uint64(room):
		return fmt.Errorf("bpf: ring record says %d bytes captured but holds %d", r.CaptureLength, room)
	case r.CaptureLength > r.Length:
		return fmt.Errorf("bpf: ring record says %d bytes captured of a %d-byte packet", r.CaptureLength, r.Length)
	}
	r.Data = b[RecordHeaderLen : RecordHeaderLen+int(r.CaptureLength)]
	return nil
}

// AppendRecord appends a record as the capture program writes it, data
// padded with zeros to capacity bytes: the inverse of DecodeRecord, for
// tests and fixtures.
func AppendRecord(b []byte, r *Record, capacity int) []byte {
	var h [RecordHeaderLen]byte
	ne := binary.NativeEndian
	ne.PutUint64(h[recTimestamp:], r.Monotonic)
	ne.PutUint32(h[recLength:], r.Length)
	ne.PutUint32(h[recCaptureLength:], r.CaptureLength)
	ne.PutUint32(h[recIfindex:], r.Ifindex)
	ne.PutUint16(h[recVLANTCI:], r.VLANTCI)
	binary.BigEndian.PutUint16(h[recVLANProto:], r.VLANProto)
	h[recPacketType] = r.PacketType
	if r.VLANPresent {
		h[recFlags] = 1
	}
	b = append(b, h[:]...)
	b = append(b, r.Data...)
	for range capacity - len(r.Data) {
		b = append(b, 0)
	}
	return b
}
