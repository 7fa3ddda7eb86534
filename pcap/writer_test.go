package pcap

import (
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// writtenPackets are packets of many sizes and timestamps, some with
// nanoseconds a microsecond file must drop.
func writtenPackets(n int) []wantPacket {
	var ps []wantPacket
	start := time.Unix(1_700_000_000, 123_456_789)
	for i := range n {
		data := payload(1+(i*97)%1600, byte(i))
		ps = append(ps, wantPacket{data: data, ci: CaptureInfo{
			Timestamp: start.Add(time.Duration(i) * 1_000_001 * time.Nanosecond),
			Length:    len(data) + i%3,
		}})
	}
	return ps
}

// expectRead is what reading back a written packet gives.
func expectRead(p wantPacket, h FileHeader) wantPacket {
	data := p.data
	if uint32(len(data)) > h.Snaplen {
		data = data[:h.Snaplen]
	}
	ts := p.ci.Timestamp
	if !h.Nanoseconds {
		ts = ts.Truncate(time.Microsecond)
	}
	return packetAt(ts.Unix(), int64(ts.Nanosecond()), data, max(p.ci.Length, len(data)), 0, h.LinkType)
}

func TestWriterRoundTrip(t *testing.T) {
	for _, h := range []FileHeader{
		{LinkType: LinkTypeEthernet},
		{LinkType: LinkTypeRaw, Nanoseconds: true},
		{LinkType: LinkTypeLinuxSLL2, Snaplen: 96},
		{LinkType: LinkTypeNull, Snaplen: 1000, Nanoseconds: true},
	} {
		t.Run(h.LinkType.Name(), func(t *testing.T) {
			var out bytes.Buffer
			w, err := NewWriter(&out, h)
			if err != nil {
				t.Fatal(err)
			}
			packets := writtenPackets(200)
			var want []wantPacket
			for _, p := range packets {
				if err := w.WritePacket(p.ci, p.data); err != nil {
					t.Fatal(err)
				}
				want = append(want, expectRead(p, w.Header()))
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r, got := mustRead(t, out.Bytes())
			checkPackets(t, got, want)
			wantSnaplen := h.Snaplen
			if wantSnaplen == 0 {
				wantSnaplen = 262144
			}
			if r.LinkType() != h.LinkType || r.Snaplen() != wantSnaplen || r.Nanoseconds() != h.Nanoseconds {
				t.Errorf("header read back: %v %d %v", r.LinkType(), r.Snaplen(), r.Nanoseconds())
			}
		})
	}
}

// fullDisk takes capacity bytes and then fails like a full file system:
// a short write and ENOSPC.
type fullDisk struct {
	data     []byte
	capacity int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	room := d.capacity - len(d.data)
	if len(p) <= room {
		d.data = append(d.data, p...)
		return len(p), nil
	}
	d.data = append(d.data, p[:max(room, 0)]...)
	return max(room, 0), syscall.ENOSPC
}

// truncatableDisk is a full disk that, like a file, can be cut back.
type truncatableDisk struct{ fullDisk }

func (d *truncatableDisk) Truncate(size int64) error {
	d.data = d.data[:size]
	return nil
}

func TestWriterFullDisk(t *testing.T) {
	packets := writtenPackets(300) // about 240 kB: several buffers' worth
	h := FileHeader{LinkType: LinkTypeEthernet, Nanoseconds: true}
	for _, capacity := range []int{0, 10, 24, 30, 5000, writerBufferSize - 1, writerBufferSize, writerBufferSize + 7, 100_000, 200_001} {
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
			w, _ := NewWriter(disk, h)
			h := w.Header()
			var err error
			for _, p := range packets {
				if err = w.WritePacket(p.ci, p.data); err != nil {
					break
				}
			}
			if err == nil {
				err = w.Flush()
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("capacity %d: got %v, want ENOSPC reported", capacity, err)
			}
			if again := w.WritePacket(packets[0].ci, packets[0].data); again != err {
				t.Errorf("capacity %d: write after the failure: %v, want the same error", capacity, again)
			}
			if again := w.Flush(); again != err {
				t.Errorf("capacity %d: flush after the failure: %v, want the same error", capacity, again)
			}
			file := contents()
			if len(file) < fileHeaderLength {
				if truncatable && len(file) != 0 {
					t.Errorf("capacity %d: %d bytes of a torn file header left", capacity, len(file))
				}
				continue
			}
			r, err := NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatalf("capacity %d: %v", capacity, err)
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
				checkPackets(t, got[i:i+1], []wantPacket{expectRead(packets[i], h)})
			}
		}
	}
}

func TestWriterReportsDeviceFull(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer f.Close()
	w, _ := NewWriter(f, FileHeader{LinkType: LinkTypeEthernet})
	if err := w.WritePacket(CaptureInfo{Timestamp: time.Unix(1, 0)}, payload(100, 0)); err != nil {
		t.Fatalf("buffered write failed early: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Flush to /dev/full: %v, want ENOSPC", err)
	}
}

// TestWriterKeepsRecordsWhole writes records bigger than the buffer and
// checks every write to the underlying writer ends at a record boundary.
func TestWriterKeepsRecordsWhole(t *testing.T) {
	var rec recordingWriter
	w, _ := NewWriter(&rec, FileHeader{LinkType: LinkTypeEthernet, Snaplen: 200_000})
	sizes := []int{100, writerBufferSize + 100, 10, writerBufferSize - 40, 3000, 150_000}
	for i, n := range sizes {
		if err := w.WritePacket(CaptureInfo{Timestamp: time.Unix(int64(i), 0)}, payload(n, byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var file []byte
	for _, chunk := range rec.writes {
		file = append(file, chunk...)
		if _, got := mustRead(t, file); len(got) > len(sizes) {
			t.Fatalf("read %d packets", len(got))
		}
	}
	if _, got := mustRead(t, file); len(got) != len(sizes) {
		t.Errorf("read %d packets, want %d", len(got), len(sizes))
	}
}

type recordingWriter struct{ writes [][]byte }

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

func TestWriterDoesNotAllocate(t *testing.T) {
	w, _ := NewWriter(io.Discard, FileHeader{LinkType: LinkTypeEthernet})
	data := payload(200, 0)
	ci := CaptureInfo{Timestamp: time.Unix(1, 0), Length: 200}
	if allocs := testing.AllocsPerRun(10_000, func() { _ = w.WritePacket(ci, data) }); allocs != 0 {
		t.Errorf("%v allocations per packet", allocs)
	}
}

// TestWriteRecord: a record written from a ring's seconds and nanoseconds
// reads back with that time (to the microsecond in a microsecond file),
// its data cut to the snap length and its original length kept.
func TestWriteRecord(t *testing.T) {
	for _, nano := range []bool{false, true} {
		h := FileHeader{LinkType: LinkTypeEthernet, Snaplen: 100, Nanoseconds: nano}
		var out bytes.Buffer
		w, _ := NewWriter(&out, h)
		sizes := []int{60, 100, 101, 1500}
		for i, size := range sizes {
			sec, nsec := uint32(1_700_000_000+i), uint32(123_456_789*(i+1)%1_000_000_000)
			if err := w.WriteRecord(sec, nsec, payload(size, byte(i)), size+i*10); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		for i, size := range sizes {
			data, ci, err := r.ReadPacket()
			if err != nil {
				t.Fatalf("nanoseconds %v, record %d: %v", nano, i, err)
			}
			want := time.Unix(int64(1_700_000_000+i), int64(123_456_789*(i+1)%1_000_000_000))
			if !nano {
				want = want.Truncate(time.Microsecond)
			}
			if !ci.Timestamp.Equal(want) || !bytes.Equal(data, payload(size, byte(i))[:min(size, 100)]) || ci.Length != size+i*10 {
				t.Errorf("nanoseconds %v, record %d: %v, %d bytes of %d; want %v, %d of %d",
					nano, i, ci.Timestamp, len(data), ci.Length, want, min(size, 100), size+i*10)
			}
		}
	}
}
