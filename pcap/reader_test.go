package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"testing"
	"testing/iotest"
	"time"
)

var byteOrders = []struct {
	name  string
	order endian
}{
	{"little", binary.LittleEndian},
	{"big", binary.BigEndian},
}

// readAll reads every packet (copying the data, which is only valid until
// the next call) and the error that ended the stream.
func readAll(r *Reader) ([]wantPacket, error) {
	var got []wantPacket
	for {
		data, ci, err := r.ReadPacket()
		if err != nil {
			return got, err
		}
		got = append(got, wantPacket{data: bytes.Clone(data), ci: ci})
	}
}

// mustRead opens file and reads it to the end, which must be io.EOF.
func mustRead(t *testing.T, file []byte) (*Reader, []wantPacket) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	got, err := readAll(r)
	if err != io.EOF {
		t.Fatalf("after %d packets: got error %v, want io.EOF", len(got), err)
	}
	return r, got
}

func checkPackets(t *testing.T, got, want []wantPacket) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.ci.Timestamp.Equal(w.ci.Timestamp) {
			t.Errorf("packet %d: timestamp %v, want %v", i, g.ci.Timestamp.UTC(), w.ci.Timestamp.UTC())
		}
		g.ci.Timestamp, w.ci.Timestamp = time.Time{}, time.Time{}
		if g.ci != w.ci {
			t.Errorf("packet %d: info %+v, want %+v", i, g.ci, w.ci)
		}
		if !bytes.Equal(g.data, w.data) {
			t.Errorf("packet %d: data differs: %d bytes %.32x..., want %d bytes %.32x...", i, len(g.data), g.data, len(w.data), w.data)
		}
	}
}

func checkFormatError(t *testing.T, err error, offset int64, msg string) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v, want *FormatError at %d: %s", err, offset, msg)
	}
	if fe.Offset != offset || fe.Msg != msg {
		t.Fatalf("got FormatError at %d: %q, want at %d: %q", fe.Offset, fe.Msg, offset, msg)
	}
}

func TestClassicVariants(t *testing.T) {
	first, second := payload(60, 1), payload(42, 9)
	for _, bo := range byteOrders {
		for _, tc := range []struct {
			name         string
			magic        uint32
			major, minor uint16
			swapLengths  bool // the file stores wire length before captured length
			modified     bool
			nanoseconds  bool
		}{
			{"microseconds", magicMicroseconds, 2, 4, false, false, false},
			{"nanoseconds", magicNanoseconds, 2, 4, false, false, true},
			{"modified", magicModified, 2, 4, false, true, false},
			{"version 2.2 swapped lengths", magicMicroseconds, 2, 2, true, false, false},
			{"version 2.3 swapped lengths", magicMicroseconds, 2, 3, true, false, false},
			{"version 2.3 in order", magicMicroseconds, 2, 3, false, false, false},
			{"dgux 543.0", magicMicroseconds, 543, 0, true, false, false},
		} {
			t.Run(bo.name+"/"+tc.name, func(t *testing.T) {
				lengths := func(caplen, wireLength uint32) (uint32, uint32) {
					if tc.swapLengths {
						return wireLength, caplen
					}
					return caplen, wireLength
				}
				b := classicHeader(bo.order, tc.magic, tc.major, tc.minor, 65535, uint32(LinkTypeEthernet))
				c, w := lengths(60, 1514)
				b.record(1700000000, 123456, c, w, first, tc.modified)
				c, w = lengths(42, 42)
				b.record(4000000000, 999999, c, w, second, tc.modified) // after 2038: unsigned seconds
				r, got := mustRead(t, b.bytes())
				scale := int64(1000)
				if tc.nanoseconds {
					scale = 1
				}
				checkPackets(t, got, []wantPacket{
					packetAt(1700000000, 123456*scale, first, 1514, 0, LinkTypeEthernet),
					packetAt(4000000000, 999999*scale, second, 42, 0, LinkTypeEthernet),
				})
				if r.Format() != "pcap" || r.LinkType() != LinkTypeEthernet || r.Snaplen() != 65535 || r.Nanoseconds() != tc.nanoseconds {
					t.Errorf("header: format %s, link type %v, snaplen %d, nanoseconds %v",
						r.Format(), r.LinkType(), r.Snaplen(), r.Nanoseconds())
				}
			})
		}
	}
}

func TestClassicHeaderFields(t *testing.T) {
	// FCS present, 2 words (4 bytes); reserved bits set too: the link type
	// is the low 16 bits only.
	field := uint32(LinkTypeLinuxSLL2) | fcsKnownBit | 2<<28 | 0x00010000
	b := classicHeader(binary.BigEndian, magicNanoseconds, 2, 4, 0, field)
	r, _ := mustRead(t, b.bytes())
	if r.LinkType() != LinkTypeLinuxSLL2 {
		t.Errorf("link type %v, want LINUX_SLL2", r.LinkType())
	}
	want := Interface{LinkType: LinkTypeLinuxSLL2, TimestampResolution: 1e9, FCSLength: 4}
	if got := r.Interfaces(); len(got) != 1 || got[0] != want {
		t.Errorf("interfaces %+v, want [%+v]", got, want)
	}
	b = classicHeader(binary.LittleEndian, magicMicroseconds, 2, 4, 0, uint32(LinkTypeRaw))
	r, _ = mustRead(t, b.bytes())
	if got := r.Interfaces()[0].FCSLength; got != -1 {
		t.Errorf("FCS length %d without the FCS bit, want -1", got)
	}
}

func TestClassicSnaplenCut(t *testing.T) {
	long := payload(200, 3)
	b := classicHeader(binary.LittleEndian, magicMicroseconds, 2, 4, 100, uint32(LinkTypeEthernet))
	b.record(1, 0, 200, 300, long, false) // longer than the snap length: cut, as libpcap
	b.record(2, 0, 100, 100, long[:100], false)
	_, got := mustRead(t, b.bytes())
	checkPackets(t, got, []wantPacket{
		packetAt(1, 0, long[:100], 300, 0, LinkTypeEthernet),
		packetAt(2, 0, long[:100], 100, 0, LinkTypeEthernet),
	})

	// Modified format on Ethernet: 14 more bytes for the cooked header.
	b = classicHeader(binary.LittleEndian, magicModified, 2, 4, 100, uint32(LinkTypeEthernet))
	b.record(1, 0, 200, 300, long, true)
	_, got = mustRead(t, b.bytes())
	checkPackets(t, got, []wantPacket{packetAt(1, 0, long[:114], 300, 0, LinkTypeEthernet)})
}

func TestClassicLargeLinkTypes(t *testing.T) {
	big := payload(300000, 0)
	b := classicHeader(binary.LittleEndian, magicMicroseconds, 2, 4, 1<<20, uint32(linkTypeUSBPcap))
	b.record(1, 0, uint32(len(big)), uint32(len(big)), big, false)
	_, got := mustRead(t, b.bytes())
	checkPackets(t, got, []wantPacket{packetAt(1, 0, big, len(big), 0, linkTypeUSBPcap)})
}

// ngSample is a pcapng file using every block type, in the given order.
func ngSample(order endian) (*fileBuilder, []wantPacket) {
	p1, p2, p3, p4 := payload(60, 1), payload(33, 2), payload(20, 3), payload(40, 4)
	b := ngFile(order, option{1, []byte("comment")})
	b.nrb() // before any interface: allowed
	b.block(blockTypeCustomCopyable, []byte{0, 0, 0x7f, 0xff, 1, 2, 3})
	b.idb(uint16(LinkTypeEthernet), 0,
		option{optionName, []byte("eth0")},
		option{optionDescription, []byte("uplink\x00")},
		option{optionFilter, append([]byte{0}, "tcp port 80"...)},
		option{optionOS, []byte("Linux 6.1")},
		option{optionTSResol, []byte{9}},
		option{optionTSOffset, order.AppendUint64(nil, 100)},
	)
	b.idb(uint16(LinkTypeRaw), 30) // microseconds by default
	b.epb(0, 1_700_000_000_123_456_789, 60, 60, p1, option{1, []byte("packet comment")},
		option{optionEPBFlags, order.AppendUint32(nil, 0x01e0_0005)}, option{1, []byte("second")}) // inbound, multicast, errors
	b.isb(0)
	b.epb(1, 1_700_000_000_654_321, 33, 1500, p2) // cut to the snap length of 30
	b.spb(100, p3)                                // interface 0, no timestamp, 20 bytes
	b.block(blockTypeLocalUse, []byte{1, 2, 3, 4})
	b.block(blockTypeUnknownReserved, nil)
	b.block(blockTypeDecryptSecrets, []byte{0x4b, 0x53, 0x4c, 0x54, 0, 0, 0, 0})
	b.obsoletePacket(1, 5_000_000, 40, 40, p4)
	first := packetAt(1_700_000_100, 123_456_789, p1, 60, 0, LinkTypeEthernet)
	first.ci.Comment, first.ci.Direction, first.ci.Flags = "packet comment\nsecond", DirectionInbound, 0x01e0_0004
	return b, []wantPacket{
		first,
		packetAt(1_700_000_000, 654_321_000, p2[:30], 1500, 1, LinkTypeRaw),
		packetAt(100, 0, p3, 100, 0, LinkTypeEthernet),
		packetAt(5, 0, p4[:30], 40, 1, LinkTypeRaw), // cut to the snap length too
	}
}

func TestPcapngBlocks(t *testing.T) {
	for _, bo := range byteOrders {
		t.Run(bo.name, func(t *testing.T) {
			b, want := ngSample(bo.order)
			r, got := mustRead(t, b.bytes())
			checkPackets(t, got, want)
			if r.Format() != "pcapng" || r.LinkType() != LinkTypeEthernet || r.Snaplen() != 0 || !r.Nanoseconds() {
				t.Errorf("header: format %s, link type %v, snaplen %d, nanoseconds %v",
					r.Format(), r.LinkType(), r.Snaplen(), r.Nanoseconds())
			}
			wantIfaces := []Interface{
				{LinkType: LinkTypeEthernet, Name: "eth0", Description: "uplink", Filter: "tcp port 80",
					OS: "Linux 6.1", TimestampResolution: 1e9, TimestampOffset: 100, FCSLength: -1},
				{LinkType: LinkTypeRaw, Snaplen: 30, TimestampResolution: 1e6, FCSLength: -1},
			}
			ifaces := r.Interfaces()
			if len(ifaces) != len(wantIfaces) {
				t.Fatalf("%d interfaces, want %d", len(ifaces), len(wantIfaces))
			}
			for i := range wantIfaces {
				if ifaces[i] != wantIfaces[i] {
					t.Errorf("interface %d: %+v, want %+v", i, ifaces[i], wantIfaces[i])
				}
			}
		})
	}
}

func TestPcapngTimestampResolution(t *testing.T) {
	for _, tc := range []struct {
		tsresol   byte
		ticks     uint64
		sec, nsec int64
	}{
		{0, 1_700_000_000, 1_700_000_000, 0},               // seconds
		{3, 1_700_000_000_250, 1_700_000_000, 250_000_000}, // milliseconds
		{6, 1_700_000_000_000_001, 1_700_000_000, 1_000},   // microseconds
		{9, 1_700_000_000_000_000_001, 1_700_000_000, 1},   // nanoseconds
		{12, 1_234_567_890_123, 1, 234_567_890},            // picoseconds, rounded down
		{19, 1_234_567_890_123, 0, 123},                    // 10^-19 s
		{0x80 | 0, 42, 42, 0},                              // 2^0
		{0x80 | 10, 5*1024 + 512, 5, 500_000_000},          // 2^-10
		{0x80 | 32, 3 << 31, 1, 500_000_000},               // 2^-32, NTP-style
		{0x80 | 63, 1<<63 | 1<<62, 1, 500_000_000},         // 2^-63
		{0x80 | 20, 1, 0, 953},                             // 2^-20 s = 953.67 ns
	} {
		b := ngFile(binary.LittleEndian)
		b.idb(uint16(LinkTypeEthernet), 0, option{optionTSResol, []byte{tc.tsresol}})
		b.epb(0, tc.ticks, 1, 1, []byte{1})
		_, got := mustRead(t, b.bytes())
		if len(got) != 1 || !got[0].ci.Timestamp.Equal(time.Unix(tc.sec, tc.nsec)) {
			t.Errorf("tsresol %#x, ticks %d: got %v, want %d.%09d", tc.tsresol, tc.ticks, got, tc.sec, tc.nsec)
		}
	}
}

// TestTimestampConversionExact checks every valid if_tsresol against exact
// big-number arithmetic, with extreme tick counts.
func TestTimestampConversionExact(t *testing.T) {
	var resolutions []uint64
	for v := byte(0); v <= 19; v++ {
		r, err := timestampResolution([]byte{v}, 0)
		if err != nil {
			t.Fatalf("10^-%d: %v", v, err)
		}
		resolutions = append(resolutions, r)
	}
	for v := byte(0); v <= 63; v++ {
		r, err := timestampResolution([]byte{0x80 | v}, 0)
		if err != nil || r != 1<<v {
			t.Fatalf("2^-%d: %d, %v", v, r, err)
		}
		resolutions = append(resolutions, r)
	}
	billion := big.NewInt(1_000_000_000)
	for _, resolution := range resolutions {
		for _, ticks := range []uint64{0, 1, resolution - 1, resolution, 1<<64 - 1, 1_700_000_000_123_456_789, 0x8000_0000_0000_0001} {
			got := ngTimestamp(ticks, resolution, -3)
			r := new(big.Int).SetUint64(resolution)
			sec, frac := new(big.Int).DivMod(new(big.Int).SetUint64(ticks), r, new(big.Int))
			nsec := new(big.Int).Div(frac.Mul(frac, billion), r)
			want := time.Unix(sec.Int64()-3, nsec.Int64())
			if !got.Equal(want) {
				t.Fatalf("ticks %d at %d/s: got %v, want %v", ticks, resolution, got, want)
			}
		}
	}
	for _, bad := range [][]byte{{20}, {0x7f}, {0x80 | 64}, {0xff}, {}, {6, 0}} {
		if _, err := timestampResolution(bad, 0); err == nil {
			t.Errorf("if_tsresol %x accepted", bad)
		}
	}
}

func classicSample(order endian) (*fileBuilder, []wantPacket) {
	b := classicHeader(order, magicMicroseconds, 2, 4, 262144, uint32(LinkTypeEthernet))
	var want []wantPacket
	for i := range 50 {
		data := payload(14+i*37, byte(i))
		b.record(uint32(1000+i), uint32(i), uint32(len(data)), uint32(len(data)+i), data, false)
		want = append(want, packetAt(int64(1000+i), int64(i)*1000, data, len(data)+i, 0, LinkTypeEthernet))
	}
	return b, want
}

func TestReadsFromAnyReader(t *testing.T) {
	classic, classicWant := classicSample(binary.LittleEndian)
	ng, ngWant := ngSample(binary.BigEndian)
	for _, f := range []struct {
		name string
		file []byte
		want []wantPacket
	}{{"pcap", classic.bytes(), classicWant}, {"pcapng", ng.bytes(), ngWant}} {
		for _, wrap := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{
			{"one byte", iotest.OneByteReader},
			{"half", iotest.HalfReader},
			{"data with EOF", iotest.DataErrReader},
			{"no seeking", func(r io.Reader) io.Reader { return struct{ io.Reader }{r} }},
		} {
			t.Run(f.name+"/"+wrap.name, func(t *testing.T) {
				r, err := NewReader(wrap.wrap(bytes.NewReader(f.file)))
				if err != nil {
					t.Fatal(err)
				}
				got, err := readAll(r)
				if err != io.EOF {
					t.Fatalf("after %d packets: %v", len(got), err)
				}
				checkPackets(t, got, f.want)
			})
		}
	}
}

func TestReadFailureIsReported(t *testing.T) {
	b, _ := classicSample(binary.LittleEndian)
	file := b.bytes()
	boom := errors.New("device gone")
	r, err := NewReader(io.MultiReader(bytes.NewReader(file[:200]), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(r)
	var fe *FormatError
	if !errors.Is(err, boom) || errors.As(err, &fe) {
		t.Fatalf("after %d packets: got %v, want the read error itself", len(got), err)
	}
	if _, _, again := r.ReadPacket(); again != err {
		t.Errorf("second call: %v, want the same error", again)
	}
}

// TestStreamsWithoutReadingAhead feeds a pipe one packet at a time: each
// packet must come out before the next is written, as when reading the
// output of a live capture from standard input.
func TestStreamsWithoutReadingAhead(t *testing.T) {
	classic, classicWant := classicSample(binary.BigEndian)
	ng, ngWant := ngSample(binary.LittleEndian)
	for _, f := range []struct {
		name string
		b    *fileBuilder
		want []wantPacket
	}{{"pcap", classic, classicWant}, {"pcapng", ng, ngWant}} {
		t.Run(f.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pr.Close()
			ack := make(chan struct{})
			go func() { // the capture writing the stream
				defer pw.Close()
				for _, u := range f.b.units() {
					if _, err := pw.Write(f.b.buf[u.start:u.end]); err != nil {
						return
					}
					if u.packet {
						if _, ok := <-ack; !ok {
							return
						}
					}
				}
			}()
			results := make(chan error, len(f.want)+1)
			go func() {
				defer close(ack)
				r, err := NewReader(pr)
				if err != nil {
					results <- err
					return
				}
				for range f.want {
					_, _, err := r.ReadPacket()
					results <- err
					if err != nil {
						return
					}
					ack <- struct{}{}
				}
			}()
			for i := range f.want {
				select {
				case err := <-results:
					if err != nil {
						t.Fatalf("packet %d: %v", i, err)
					}
				case <-time.After(5 * time.Second):
					pr.CloseWithError(errors.New("timed out"))
					t.Fatalf("packet %d not returned before the next was written", i)
				}
			}
		})
	}
}

// TestPcapngOptionsBothOrders reads section options, interface comments
// and statistics written in either byte order.
func TestPcapngOptionsBothOrders(t *testing.T) {
	for _, bo := range byteOrders {
		t.Run(bo.name, func(t *testing.T) {
			o := bo.order
			u64 := func(v uint64) []byte { return o.AppendUint64(nil, v) }
			ticks := func(v uint64) []byte { return o.AppendUint32(o.AppendUint32(nil, uint32(v>>32)), uint32(v)) }
			b := ngFile(o, option{optionComment, []byte("one")}, option{optionSHBHardware, []byte("arm64")},
				option{optionSHBOS, []byte("Linux")}, option{optionSHBApplication, []byte("app")}, option{optionComment, []byte("two")}).
				idb(uint16(LinkTypeEthernet), 0, option{optionComment, []byte("if")}, option{optionFCSLength, []byte{4}},
					option{optionTSResol, []byte{3}})
			var body []byte
			body = o.AppendUint32(body, 0)
			body = append(body, ticks(5)...)
			body = append(body, b.options([]option{
				{optionComment, []byte("stats")}, {optionISBStartTime, ticks(1500)}, {optionISBEndTime, ticks(2_000_250)},
				{optionISBIfRecv, u64(10)}, {optionISBIfDrop, u64(1)}, {optionISBFilterAccept, u64(8)},
				{optionISBOSDrop, u64(2)}, {optionISBUsrDeliv, u64(6)}, {99, u64(7)},
			})...)
			b.block(blockTypeInterfaceStats, body)
			r, _ := mustRead(t, b.bytes())
			if want := (Section{Hardware: "arm64", OS: "Linux", Application: "app", Comment: "one\ntwo"}); r.Section() != want {
				t.Errorf("section %+v, want %+v", r.Section(), want)
			}
			if ifc := r.Interfaces()[0]; ifc.Comment != "if" || ifc.FCSLength != 4 {
				t.Errorf("interface %+v", ifc)
			}
			st, ok := r.Stats(0)
			want := InterfaceStats{Start: time.Unix(1, 500_000_000), End: time.Unix(2000, 250_000_000), Received: 10, InterfaceDropped: 1,
				FilterAccepted: 8, OSDropped: 2, Delivered: 6, Known: CounterReceived | CounterInterfaceDropped | CounterFilterAccepted |
					CounterOSDropped | CounterDelivered, Comment: "stats"}
			if !ok || !st.Start.Equal(want.Start) || !st.End.Equal(want.End) {
				t.Fatalf("statistics %+v %v, want %+v", st, ok, want)
			}
			st.Start, st.End, want.Start, want.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if st != want {
				t.Errorf("statistics %+v, want %+v", st, want)
			}
		})
	}
}

func TestLinuxPacketDirection(t *testing.T) {
	for pktType, want := range map[uint8]struct {
		d     Direction
		flags uint32
	}{0: {DirectionInbound, 1 << 2}, 1: {DirectionInbound, 3 << 2}, 2: {DirectionInbound, 2 << 2},
		3: {DirectionInbound, 4 << 2}, 4: {DirectionOutbound, 0}, 5: {DirectionUnknown, 0}} {
		if d, flags := LinuxPacketDirection(pktType); d != want.d || flags != want.flags {
			t.Errorf("packet type %d: %v %#x, want %v %#x", pktType, d, flags, want.d, want.flags)
		}
	}
}
