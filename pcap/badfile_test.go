package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// readUntilError opens file and reads to the end, returning the packets
// read and the error that ended them (from NewReader or ReadPacket).
func readUntilError(file []byte) (int, error) {
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		return 0, err
	}
	got, err := readAll(r)
	if _, _, again := r.ReadPacket(); again != err {
		return len(got), errors.New("error not repeated: " + again.Error())
	}
	return len(got), err
}

// TestTruncatedEverywhere cuts small files at every offset: the packets
// wholly before the cut are read, then a cut at a record boundary is a
// clean io.EOF and any other cut a *FormatError at the start of the
// record it falls in.
func TestTruncatedEverywhere(t *testing.T) {
	classic := classicHeader(binary.LittleEndian, magicMicroseconds, 2, 4, 0, uint32(LinkTypeEthernet))
	for i := range 6 {
		classic.record(uint32(i), 0, uint32(i*20), uint32(i*20), payload(i*20, byte(i)), false)
	}
	modified := classicHeader(binary.BigEndian, magicModified, 2, 4, 100, uint32(LinkTypeEthernet)).
		record(1, 2, 20, 20, payload(20, 0), true).
		record(3, 4, 7, 7, payload(7, 1), true)
	ngLittle, _ := ngSample(binary.LittleEndian)
	ngBig, _ := ngSample(binary.BigEndian)
	for _, f := range []struct {
		name string
		b    *fileBuilder
	}{{"pcap", classic}, {"modified", modified}, {"pcapng little", ngLittle}, {"pcapng big", ngBig}} {
		t.Run(f.name, func(t *testing.T) {
			full := f.b.bytes()
			units := f.b.units()
			for cut := 0; cut < len(full); cut++ {
				wantPackets, wantOffset, boundary := 0, 0, false
				for _, u := range units {
					if u.end <= cut && u.packet {
						wantPackets++
					}
					if u.start <= cut && cut < u.end {
						wantOffset, boundary = u.start, u.start == cut && cut > 0
					}
				}
				packets, err := readUntilError(full[:cut])
				if packets != wantPackets {
					t.Fatalf("cut at %d: %d packets, want %d (then %v)", cut, packets, wantPackets, err)
				}
				if boundary {
					if err != io.EOF {
						t.Fatalf("cut at %d, a record boundary: %v, want io.EOF", cut, err)
					}
					continue
				}
				var fe *FormatError
				if !errors.As(err, &fe) || fe.Offset != int64(wantOffset) || !strings.HasPrefix(fe.Msg, "truncated") {
					t.Fatalf("cut at %d: %v, want a truncation at offset %d", cut, err, wantOffset)
				}
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	le := binary.LittleEndian
	p60 := payload(60, 0)
	classic := func() *fileBuilder { // header 0-24, one good record 24-100
		return classicHeader(le, magicMicroseconds, 2, 4, 65535, uint32(LinkTypeEthernet)).record(1, 0, 60, 60, p60, false)
	}
	ng := func() *fileBuilder { // SHB 0-28, IDB 28-48, one good EPB 48-140
		return ngFile(le).idb(uint16(LinkTypeEthernet), 0).epb(0, 1, 60, 60, p60)
	}
	epbBody := func(iface, caplen uint32, data []byte) []byte {
		body := le.AppendUint32(nil, iface)
		body = le.AppendUint64(body, 0)
		body = le.AppendUint32(body, caplen)
		body = le.AppendUint32(body, caplen)
		return append(body, data...)
	}
	big := binary.BigEndian
	for _, tc := range []struct {
		name        string
		file        []byte
		wantPackets int
		wantOffset  int64
		wantMsg     string
	}{
		{"empty file", nil, 0, 0, "truncated file header (0 bytes)"},
		{"bad magic", []byte("GIF89a, not a capture file"), 0, 0, "not a pcap or pcapng file (magic 0x47494638)"},
		{"short file header", classic().bytes()[:10], 0, 0, "truncated file header (10 of 24 bytes)"},
		{"unsupported version", classicHeader(le, magicMicroseconds, 3, 0, 0, 1).bytes(), 0, 0, "unsupported pcap version 3.0"},
		{"archaic version", classicHeader(big, magicNanoseconds, 1, 0, 0, 1).bytes(), 0, 0, "unsupported pcap version 1.0"},
		{"capture length over the maximum", classic().record(2, 0, 300000, 300000, p60, false).bytes(),
			1, 100, "capture length 300000 larger than maximum 262144"},
		{"capture length 2^32-1", classic().record(2, 0, 1<<32-1, 60, p60, false).bytes(),
			1, 100, "capture length 4294967295 larger than maximum 262144"},
		{"truncated packet data", classic().record(2, 0, 1514, 1514, payload(230, 0), false).bytes(),
			1, 100, "truncated packet data (wanted 1514 bytes, 230 present)"},
		{"truncated record header", classic().raw(make([]byte, 10)).bytes(), 1, 100, "truncated record header"},

		{"block length 8", ng().rawBlock(6, 8, 8, nil).bytes(), 1, 140, "block length 8 too small"},
		{"enhanced packet block length 12", ng().rawBlock(6, 12, 12, nil).bytes(), 1, 140, "enhanced packet block length 12 too small"},
		{"block length 2^31", ng().rawBlock(6, 1<<31, 1<<31, nil).bytes(), 1, 140, "block length 2147483648 too large"},
		{"block length 2^32-4", ng().rawBlock(6, 1<<32-4, 0, nil).bytes(), 1, 140, "block length 4294967292 too large"},
		{"block length not a multiple of 4", ng().rawBlock(6, 30, 30, make([]byte, 18)).bytes(), 1, 140, "block length 30 not a multiple of 4"},
		{"trailer mismatch", ng().rawBlock(6, 92, 96, epbBody(0, 60, p60)).bytes(), 1, 140, "block length 92 but trailing length 96"},
		{"truncated block", ng().raw(ng().bytes()[48:98]).bytes(), 1, 140, "truncated block (wanted 92 bytes, 50 present)"},
		{"truncated block header", ng().raw([]byte{6, 0, 0}).bytes(), 1, 140, "truncated block header"},
		{"interface out of range", ng().epb(3, 1, 60, 60, p60).bytes(), 1, 140, "packet block for interface 3, but only 1 interface defined"},
		{"interface out of range, 2 defined", ng().idb(1, 0).epb(2, 1, 60, 60, p60).bytes(), 1, 160, "packet block for interface 2, but only 2 interfaces defined"},
		{"interface of the previous section", ngFile(le).idb(1, 0).idb(1, 0).epb(1, 1, 60, 60, p60).section(big).idb(1, 0).epb(1, 1, 60, 60, p60).bytes(),
			1, 208, "packet block for interface 1, but only 1 interface defined"},
		{"packet before any interface", ngFile(le).epb(0, 1, 60, 60, p60).bytes(), 0, 28, "packet block for interface 0, but no interface defined"},
		{"simple packet before any interface", ngFile(big).nrb().spb(60, p60).bytes(), 0, 68, "packet block for interface 0, but no interface defined"},
		{"captured length overruns the block", ng().block(6, epbBody(0, 100, p60)).bytes(), 1, 140, "captured length 100 overruns the block (60 bytes of room)"},
		{"bad byte-order magic", ng().rawBlock(blockTypeSectionHeader, 28, 28, append([]byte{1, 2, 3, 4}, make([]byte, 12)...)).bytes(),
			1, 140, "bad byte-order magic"},
		{"truncated section header", ngFile(le).bytes()[:8], 0, 0, "truncated section header block"},
		{"section header too large", ng().raw(le.AppendUint32(le.AppendUint32([]byte{10, 13, 13, 10}, 2<<20), byteOrderMagic)).bytes(),
			1, 140, "block length 2097152 too large"},
		{"section header too small", ng().rawBlock(blockTypeSectionHeader, 16, 16, le.AppendUint32(nil, byteOrderMagic)).bytes(),
			1, 140, "section header block length 16 too small"},
		{"unsupported pcapng version", ng().rawBlock(blockTypeSectionHeader, 28, 28, le.AppendUint64(le.AppendUint16(le.AppendUint16(le.AppendUint32(nil, byteOrderMagic), 2), 0), 0)).bytes(),
			1, 140, "unsupported pcapng version 2.0"},
		{"interface description too small", ngFile(le).block(blockTypeInterface, []byte{1, 0, 0, 0}).bytes(), 0, 28, "interface description block length 16 too small"},
		{"if_tsresol length 2", ngFile(le).idb(1, 0, option{optionTSResol, []byte{6, 6}}).bytes(), 0, 28, "if_tsresol option length 2, want 1"},
		{"if_tsresol 10^-20", ngFile(le).idb(1, 0, option{optionTSResol, []byte{20}}).bytes(), 0, 28, "if_tsresol 10^-20 too fine"},
		{"if_tsresol 2^-64", ngFile(le).idb(1, 0, option{optionTSResol, []byte{0x80 | 64}}).bytes(), 0, 28, "if_tsresol 2^-64 too fine"},
		{"if_tsoffset length 4", ngFile(le).idb(1, 0, option{optionTSOffset, []byte{1, 2, 3, 4}}).bytes(), 0, 28, "if_tsoffset option length 4, want 8"},
		{"option overruns the block", ngFile(le).block(blockTypeInterface, append(le.AppendUint32(le.AppendUint32(nil, 1), 0), 2, 0, 100, 0)).bytes(),
			0, 28, "interface option 2 length 100 overruns the block"},
		{"simple packet block too small", ng().rawBlock(blockTypeSimplePacket, 12, 12, nil).bytes(), 1, 140, "simple packet block length 12 too small"},
		{"section option overruns the block", ng().rawBlock(blockTypeSectionHeader, 32, 32,
			append(le.AppendUint64(le.AppendUint16(le.AppendUint16(le.AppendUint32(nil, byteOrderMagic), 1), 0), 0), 1, 0, 9, 0)).bytes(),
			1, 140, "section header option 1 overruns the block"},
		{"packet block too small", ng().rawBlock(blockTypeObsoletePacket, 16, 16, make([]byte, 4)).bytes(), 1, 140, "packet block length 16 too small"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			packets, err := readUntilError(tc.file)
			if packets != tc.wantPackets {
				t.Errorf("%d packets before the error, want %d", packets, tc.wantPackets)
			}
			checkFormatError(t, err, tc.wantOffset, tc.wantMsg)
		})
	}
}

// TestDamagedBlocksLibpcapSkips: statistics blocks and packet options,
// which libpcap never reads, do not end the file when damaged: the
// packets are read, and the damaged parts ignored.
func TestDamagedBlocksLibpcapSkips(t *testing.T) {
	le := binary.LittleEndian
	p := payload(6, 0)
	b := ngFile(le).idb(uint16(LinkTypeEthernet), 0).
		block(blockTypeInterfaceStats, []byte{1, 2, 3, 4}).                                                    // too short
		block(blockTypeInterfaceStats, append(le.AppendUint32(nil, 9), make([]byte, 8)...)).                   // no interface 9
		block(blockTypeInterfaceStats, append(le.AppendUint32(nil, 0), make([]byte, 8)...)).                   // no options
		block(blockTypeEnhancedPacket, append(epbHeader(le, 0, 6), append(append(p, 0, 0), 1, 0, 200, 0)...)). // comment overruns
		epb(0, 7, 6, 6, p, option{optionEPBFlags, []byte{1, 0}})                                               // flags of 2 bytes
	r, got := mustRead(t, b.bytes())
	if len(got) != 2 || got[0].ci.Comment != "" || got[1].ci.Direction != DirectionUnknown {
		t.Errorf("read %+v", got)
	}
	if st, ok := r.Stats(0); !ok || st != (InterfaceStats{}) {
		t.Errorf("statistics %+v %v, want empty ones", st, ok)
	}
}

func epbHeader(order endian, iface, caplen uint32) []byte {
	body := order.AppendUint32(nil, iface)
	body = order.AppendUint64(body, 0)
	body = order.AppendUint32(body, caplen)
	return order.AppendUint32(body, caplen)
}

// TestLyingLengthsAllocateLittle: a length field may claim up to libpcap's
// limits (128 MiB for D-Bus), but the buffer only grows with data that
// actually arrives.
func TestLyingLengthsAllocateLittle(t *testing.T) {
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"pcap", classicHeader(le, magicMicroseconds, 2, 4, 0, uint32(linkTypeDBus)).record(1, 0, 120<<20, 120<<20, payload(100, 0), false).bytes()},
		{"pcapng", ngFile(le).idb(uint16(linkTypeDBus), 0).rawBlock(6, 120<<20, 120<<20, make([]byte, 100)).bytes()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := readUntilError(tc.file)
			runtime.ReadMemStats(&after)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Msg, "truncated") {
				t.Fatalf("got %v, want a truncation error", err)
			}
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", allocated, len(tc.file))
			}
		})
	}
}

func TestPcapngSections(t *testing.T) {
	p1, p2, p3 := payload(10, 1), payload(11, 2), payload(12, 3)
	b := ngFile(binary.LittleEndian).
		idb(uint16(LinkTypeEthernet), 0).
		epb(0, 1_000_000, 10, 10, p1).
		section(binary.BigEndian). // a new byte order and a new interface list
		idb(uint16(LinkTypeRaw), 0, option{optionTSResol, []byte{3}}).
		idb(uint16(LinkTypeNull), 0, option{optionName, []byte("lo")}).
		epb(1, 2_000_000, 11, 11, p2).
		epb(0, 3_000, 12, 12, p3)
	r, got := mustRead(t, b.bytes())
	checkPackets(t, got, []wantPacket{
		packetAt(1, 0, p1, 10, 0, LinkTypeEthernet),
		packetAt(2, 0, p2, 11, 1, LinkTypeNull),
		packetAt(3, 0, p3, 12, 0, LinkTypeRaw),
	})
	if r.LinkType() != LinkTypeEthernet || r.Nanoseconds() {
		t.Errorf("first interface: link type %v, nanoseconds %v", r.LinkType(), r.Nanoseconds())
	}
	ifaces := r.Interfaces()
	if len(ifaces) != 2 || ifaces[0].LinkType != LinkTypeRaw || ifaces[1].Name != "lo" {
		t.Errorf("interfaces of the second section: %+v", ifaces)
	}
	if r.SectionIndex() != 1 {
		t.Errorf("section index %d, want 1", r.SectionIndex())
	}
}

func TestPcapngWithoutInterfaces(t *testing.T) {
	b := ngFile(binary.BigEndian).nrb().isb(0)
	r, got := mustRead(t, b.bytes())
	if len(got) != 0 || r.LinkType() != 0 || len(r.Interfaces()) != 0 {
		t.Errorf("packets %d, link type %v, interfaces %v", len(got), r.LinkType(), r.Interfaces())
	}
}

func TestReadAheadStopsAtFirstInterface(t *testing.T) {
	b, want := ngSample(binary.LittleEndian)
	r, err := NewReader(bytes.NewReader(b.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != LinkTypeEthernet || r.Snaplen() != 0 || !r.Nanoseconds() {
		t.Errorf("before the first packet: link type %v, snaplen %d, nanoseconds %v", r.LinkType(), r.Snaplen(), r.Nanoseconds())
	}
	got, err := readAll(r)
	if err != io.EOF {
		t.Fatal(err)
	}
	checkPackets(t, got, want)
}

func TestReadPacketDoesNotAllocate(t *testing.T) {
	for _, f := range []struct {
		name string
		file []byte
	}{{"pcap", benchmarkFile(false, 2000)}, {"pcapng", benchmarkFile(true, 2000)}} {
		t.Run(f.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(f.file))
			if err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if _, _, err := r.ReadPacket(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per packet", allocs)
			}
		})
	}
}
