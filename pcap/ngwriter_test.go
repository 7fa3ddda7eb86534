package pcap

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

var ngTestStart = time.Unix(1_700_000_000, 123_456_789)

// ngTestOptions describes a file with three interfaces of different link
// types, snap lengths and timestamp resolutions, and their statistics.
func ngTestOptions() NgOptions {
	return NgOptions{
		Section: Section{Hardware: "x86_64", OS: "Linux 6.1", Application: "weir test", Comment: "a capture\nof two lines"},
		Interfaces: []Interface{
			{LinkType: LinkTypeEthernet, Name: "eth0", Description: "uplink", Filter: "tcp port 80 and not host 192.0.2.1",
				OS: "Linux 6.1", Snaplen: 262144, Comment: "the first"},
			{LinkType: LinkTypeRaw, Name: "tun0", Filter: "udp", TimestampResolution: 1_000_000, Snaplen: 100, FCSLength: 4},
			{LinkType: LinkTypeLinuxSLL2, Name: "any", TimestampResolution: 1 << 20, TimestampOffset: 1_000_000_000},
		},
		Stats: func() []InterfaceStats {
			return []InterfaceStats{
				CaptureStats(ngTestStart, ngTestStart.Add(time.Second), 1000, 17, 983),
				{Received: 5, Known: CounterReceived, Comment: "counted"},
				CaptureStats(ngTestStart, ngTestStart.Add(3*time.Second), 0, 0, 0),
			}
		},
	}
}

// ngTestPackets spreads packets of many sizes over the three interfaces,
// with every direction, some with comments and other flag bits.
func ngTestPackets(n int) []wantPacket {
	ps := writtenPackets(n)
	for i := range ps {
		ci := &ps[i].ci
		ci.InterfaceIndex = i % 3
		ci.Direction = Direction(i % 3)
		if i%4 == 1 {
			ci.Comment = "packet " + string(rune('a'+i%26)) + " comment"
		}
		if i%5 == 2 {
			ci.Flags = 2 << 2 // reception type (bits 2-4): multicast
		}
	}
	return ps
}

// expectNgRead is what reading back a packet NgWriter wrote gives.
func expectNgRead(p wantPacket, ifc Interface) wantPacket {
	data := p.data
	if ifc.Snaplen != 0 && uint32(len(data)) > ifc.Snaplen {
		data = data[:ifc.Snaplen]
	}
	ticks := timestampTicks(p.ci.Timestamp, ifc.TimestampResolution, ifc.TimestampOffset)
	ts := ngTimestamp(ticks, ifc.TimestampResolution, ifc.TimestampOffset)
	want := packetAt(ts.Unix(), int64(ts.Nanosecond()), data, max(p.ci.Length, len(data)), p.ci.InterfaceIndex, ifc.LinkType)
	want.ci.Direction, want.ci.Flags, want.ci.Comment = p.ci.Direction, p.ci.Flags, p.ci.Comment
	return want
}

// writeNg writes packets with an NgWriter and returns the file and what
// reading it must give.
func writeNg(t testing.TB, opts NgOptions, packets []wantPacket) ([]byte, []wantPacket, *NgWriter) {
	t.Helper()
	var out bytes.Buffer
	w, err := NewNgWriter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	var want []wantPacket
	for _, p := range packets {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
		want = append(want, expectNgRead(p, w.Interfaces()[p.ci.InterfaceIndex]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), want, w
}

func TestNgWriterRoundTrip(t *testing.T) {
	opts := ngTestOptions()
	file, want, w := writeNg(t, opts, ngTestPackets(300))
	r, got := mustRead(t, file)
	checkPackets(t, got, want)
	if r.Section() != opts.Section || r.SectionIndex() != 0 {
		t.Errorf("section %+v (%d), want %+v", r.Section(), r.SectionIndex(), opts.Section)
	}
	wantIfaces := w.Interfaces()
	if len(r.Interfaces()) != len(wantIfaces) {
		t.Fatalf("%d interfaces, want %d", len(r.Interfaces()), len(wantIfaces))
	}
	for i, ifc := range r.Interfaces() {
		want := wantIfaces[i]
		if want.FCSLength == 0 {
			want.FCSLength = -1 // not written: the reader does not know
		}
		if ifc != want {
			t.Errorf("interface %d: %+v, want %+v", i, ifc, want)
		}
	}
	for i, st := range opts.Stats() {
		got, ok := r.Stats(i)
		if !ok {
			t.Errorf("interface %d: no statistics read", i)
			continue
		}
		ifc := wantIfaces[i]
		for _, tm := range []*time.Time{&st.Start, &st.End} {
			if !tm.IsZero() {
				*tm = ngTimestamp(timestampTicks(*tm, ifc.TimestampResolution, ifc.TimestampOffset), ifc.TimestampResolution, ifc.TimestampOffset)
			}
		}
		if !got.Start.Equal(st.Start) || !got.End.Equal(st.End) {
			t.Errorf("interface %d: statistics from %v to %v, want %v to %v", i, got.Start, got.End, st.Start, st.End)
		}
		got.Start, got.End, st.Start, st.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got != st {
			t.Errorf("interface %d: statistics %+v, want %+v", i, got, st)
		}
	}
	if _, ok := r.Stats(3); ok {
		t.Error("statistics for an interface that does not exist")
	}
}

// TestNgWriterAddsInterfaces: an interface added after packets were
// written is usable at once.
func TestNgWriterAddsInterfaces(t *testing.T) {
	var out bytes.Buffer
	w, err := NewNgWriter(&out, NgOptions{Interfaces: []Interface{{LinkType: LinkTypeEthernet}}})
	if err != nil {
		t.Fatal(err)
	}
	ps := writtenPackets(3)
	if err := w.WritePacket(ps[0].ci, ps[0].data); err != nil {
		t.Fatal(err)
	}
	ps[1].ci.InterfaceIndex = 1
	if err := w.WritePacket(ps[1].ci, ps[1].data); err == nil {
		t.Fatal("packet for an interface not yet described was written")
	}
	index, err := w.AddInterface(Interface{LinkType: LinkTypeRaw, Name: "later"})
	if err != nil || index != 1 {
		t.Fatalf("AddInterface: %d, %v", index, err)
	}
	if err := w.WritePacket(ps[1].ci, ps[1].data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, got := mustRead(t, out.Bytes())
	checkPackets(t, got, []wantPacket{expectNgRead(ps[0], w.Interfaces()[0]), expectNgRead(ps[1], w.Interfaces()[1])})
	if len(r.Interfaces()) != 2 || r.Interfaces()[1].Name != "later" {
		t.Errorf("interfaces %+v", r.Interfaces())
	}
}

func TestNgWriterRejects(t *testing.T) {
	for _, ifc := range []Interface{
		{LinkType: LinkTypeEthernet, TimestampResolution: 3},
		{LinkType: 0x10000},
	} {
		if _, err := NewNgWriter(io.Discard, NgOptions{Interfaces: []Interface{ifc}}); err == nil {
			t.Errorf("interface %+v accepted", ifc)
		}
	}
	w, _ := NewNgWriter(io.Discard, NgOptions{Interfaces: []Interface{{LinkType: LinkTypeEthernet}}})
	if err := w.WriteStats(1, InterfaceStats{}); err == nil {
		t.Error("statistics for interface 1 of 1 accepted")
	}
	if err := w.WritePacket(CaptureInfo{InterfaceIndex: -1}, nil); err == nil {
		t.Error("packet for interface -1 accepted")
	}
}

func TestNgWriterCoarsensFinerThanNanoseconds(t *testing.T) {
	for _, resolution := range []uint64{1e12, 1 << 40} {
		w, err := NewNgWriter(io.Discard, NgOptions{Interfaces: []Interface{{LinkType: LinkTypeEthernet, TimestampResolution: resolution}}})
		if err != nil || w.Interfaces()[0].TimestampResolution != 1e9 {
			t.Errorf("resolution %d: %v, written as %d", resolution, err, w.Interfaces()[0].TimestampResolution)
		}
	}
}

func TestTimestampResolutionEncoding(t *testing.T) {
	for _, tc := range []struct {
		resolution uint64
		tsresol    byte
		ok         bool
	}{
		{1, 0, true}, {1000, 3, true}, {1_000_000, 6, true}, {1_000_000_000, 9, true},
		{1 << 10, 0x8a, true}, {2, 0x81, true}, {1e19, 19, true}, {6, 0, false}, {1000 + 1, 0, false},
	} {
		got, ok := encodeTimestampResolution(tc.resolution)
		if ok != tc.ok || ok && got != tc.tsresol {
			t.Errorf("resolution %d: %#x %v, want %#x %v", tc.resolution, got, ok, tc.tsresol, tc.ok)
		}
		if ok {
			back, err := timestampResolution([]byte{got}, 0)
			if err != nil || back != tc.resolution {
				t.Errorf("resolution %d reads back as %d, %v", tc.resolution, back, err)
			}
		}
	}
}

func TestNgWriterFullDisk(t *testing.T) {
	packets := ngTestPackets(300) // about 170 kB: several buffers' worth
	for _, capacity := range []int{0, 10, 100, 5000, writerBufferSize - 1, writerBufferSize, writerBufferSize + 7, 100_000, 150_001} {
		for _, truncatable := range []bool{false, true} {
			var disk io.Writer
			var contents func() []byte
			if truncatable {
				d := &truncatableDisk{fullDisk{capacity: capacity}}
				disk, contents = d, func() []byte { return d.data }
			} else {
				d := &fullDisk{capacity: capacity}
				disk, contents = d, func() []byte { return d.data }
			}
			w, err := NewNgWriter(disk, ngTestOptions())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range packets {
				if err = w.WritePacket(p.ci, p.data); err != nil {
					break
				}
			}
			if err == nil {
				err = w.Close()
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("capacity %d: got %v, want ENOSPC reported", capacity, err)
			}
			if again := w.WritePacket(packets[0].ci, packets[0].data); again != err {
				t.Errorf("capacity %d: write after the failure: %v, want the same error", capacity, again)
			}
			if again := w.Close(); again != err {
				t.Errorf("capacity %d: close after the failure: %v, want the same error", capacity, again)
			}
			file := contents()
			if len(file) == 0 {
				continue
			}
			r, err := NewReader(bytes.NewReader(file))
			if err != nil {
				if truncatable {
					t.Errorf("capacity %d: truncated file: %v", capacity, err)
				}
				continue
			}
			got, err := readAll(r)
			var fe *FormatError
			switch {
			case truncatable && err != io.EOF:
				t.Errorf("capacity %d: truncated file ends with %v, want io.EOF", capacity, err)
			case !truncatable && err != io.EOF && (!errors.As(err, &fe) || fe.Offset < int64(len(file))-writerBufferSize):
				t.Errorf("capacity %d: %v: damage before the last write", capacity, err)
			}
			for i := range got {
				checkPackets(t, got[i:i+1], []wantPacket{expectNgRead(packets[i], r.Interfaces()[packets[i].ci.InterfaceIndex])})
			}
		}
	}
}

// TestNgWriterKeepsBlocksWhole writes packets bigger than the buffer and
// checks every write to the underlying writer ends at a block boundary.
func TestNgWriterKeepsBlocksWhole(t *testing.T) {
	var rec recordingWriter
	w, _ := NewNgWriter(&rec, NgOptions{Interfaces: []Interface{{LinkType: LinkTypeEthernet, Snaplen: 200_000}}})
	sizes := []int{100, writerBufferSize + 100, 10, writerBufferSize - 40, 3000, 150_000}
	for i, n := range sizes {
		if err := w.WritePacket(CaptureInfo{Timestamp: time.Unix(int64(i), 0), Comment: "c"}, payload(n, byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var file []byte
	for _, chunk := range rec.writes {
		file = append(file, chunk...)
		mustRead(t, file)
	}
	if _, got := mustRead(t, file); len(got) != len(sizes) {
		t.Errorf("read %d packets, want %d", len(got), len(sizes))
	}
}

func TestNgWriterDoesNotAllocate(t *testing.T) {
	w, _ := NewNgWriter(io.Discard, NgOptions{Interfaces: []Interface{{LinkType: LinkTypeEthernet}, {LinkType: LinkTypeRaw, TimestampResolution: 1 << 16}}})
	data := payload(200, 0)
	for _, ci := range []CaptureInfo{
		{Timestamp: time.Unix(1, 0), Length: 200},
		{Timestamp: time.Unix(1, 5), Length: 300, InterfaceIndex: 1, Direction: DirectionOutbound, Comment: "rule 7"},
	} {
		if allocs := testing.AllocsPerRun(10_000, func() { _ = w.WritePacket(ci, data) }); allocs != 0 {
			t.Errorf("%+v: %v allocations per packet", ci, allocs)
		}
	}
}

// BenchmarkNgWrite measures writing 200-byte packets; one op is one
// packet.
func BenchmarkNgWrite(b *testing.B) {
	for _, tc := range []struct {
		name string
		ci   CaptureInfo
	}{
		{"plain", CaptureInfo{Length: 200}},
		{"flags+comment", CaptureInfo{Length: 200, Direction: DirectionInbound, Comment: "rule web"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w, _ := NewNgWriter(io.Discard, NgOptions{Interfaces: []Interface{{LinkType: LinkTypeEthernet}}})
			data := payload(200, 0)
			ci := tc.ci
			ci.Timestamp = ngTestStart
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := w.WritePacket(ci, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
