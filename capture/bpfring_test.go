package capture

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// fakeBPFRing is a ring buffer in ordinary memory, written as the kernel
// writes one, with the double mapping of the data pages imitated.
type fakeBPFRing struct {
	consumer, producer uint64
	size               int
	data               []byte
}

func newFakeBPFRing(size int) *fakeBPFRing {
	return &fakeBPFRing{size: size, data: make([]byte, 2*size)}
}

// put appends a record with flag bits (busy, discard) in its header.
func (f *fakeBPFRing) put(payload []byte, bits uint32) {
	rec := make([]byte, (ringHeaderLen+len(payload)+7)&^7)
	binary.NativeEndian.PutUint32(rec, uint32(len(payload))|bits)
	copy(rec[ringHeaderLen:], payload)
	for i, b := range rec {
		at := (int(f.producer) + i) % f.size
		f.data[at], f.data[at+f.size] = b, b
	}
	f.producer += uint64(len(rec))
}

// setBits rewrites the flag bits of the record at pos.
func (f *fakeBPFRing) setBits(pos uint64, bits uint32) {
	at := int(pos) % f.size
	n := binary.NativeEndian.Uint32(f.data[at:]) &^ (ringBusyBit | ringDiscardBit)
	binary.NativeEndian.PutUint32(f.data[at:], n|bits)
	copy(f.data[at+f.size:at+f.size+4], f.data[at:at+4])
}

func (f *fakeBPFRing) reader() *bpfRing { return newBPFRing(&f.consumer, &f.producer, f.data) }

func payload(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = seed + byte(i)
	}
	return p
}

func TestBPFRingReadsRecordsInPlaceAcrossTheWrap(t *testing.T) {
	f := newFakeBPFRing(256)
	r := f.reader()
	var want [][]byte
	for i := range 40 { // about ten times around the ring
		p := payload(20+i%37, byte(i))
		f.put(p, 0)
		want = append(want, p)
		got, err := r.next()
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("record %d: % x, %v; want % x", i, got, err, p)
		}
		if end, err := r.next(); end != nil || err != nil {
			t.Fatalf("after record %d: % x, %v", i, end, err)
		}
		if f.consumer != f.producer {
			t.Fatalf("record %d: consumer %d, producer %d once caught up", i, f.consumer, f.producer)
		}
	}
}

func TestBPFRingSkipsDiscardedAndWaitsForBusyRecords(t *testing.T) {
	f := newFakeBPFRing(1024)
	r := f.reader()
	f.put(payload(10, 1), ringDiscardBit)
	busyAt := f.producer
	f.put(payload(11, 2), ringBusyBit)
	f.put(payload(12, 3), 0)
	if got, err := r.next(); got != nil || err != nil {
		t.Fatalf("a busy record gave % x, %v", got, err)
	}
	if f.consumer != busyAt {
		t.Errorf("consumer %d, want %d: the discarded record freed, the busy one not", f.consumer, busyAt)
	}
	f.setBits(busyAt, 0)
	for _, want := range [][]byte{payload(11, 2), payload(12, 3)} {
		if got, err := r.next(); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("% x, %v; want % x", got, err, want)
		}
	}
}

func TestBPFRingStoresItsPositionOncePerBatch(t *testing.T) {
	f := newFakeBPFRing(1 << 16) // batch of 4096 bytes
	r := f.reader()
	for range 100 {
		f.put(payload(100, 0), 0) // 112 bytes each
	}
	stores, last := 0, f.consumer
	for range 100 {
		if got, err := r.next(); err != nil || len(got) != 100 {
			t.Fatalf("%d bytes, %v", len(got), err)
		}
		if f.consumer != last {
			stores, last = stores+1, f.consumer
		}
	}
	if stores != 2 { // 11200 bytes: at 4144 and 8288
		t.Errorf("%d stores of the consumer position for 100 records, want 2", stores)
	}
	if got, _ := r.next(); got != nil || f.consumer != f.producer {
		t.Errorf("caught up: consumer %d, producer %d", f.consumer, f.producer)
	}
}

func TestBPFRingRefusesARecordPastTheProducer(t *testing.T) {
	f := newFakeBPFRing(256)
	r := f.reader()
	f.put(payload(16, 0), 0)
	binary.NativeEndian.PutUint32(f.data, 200) // longer than what was produced
	if _, err := r.next(); err == nil || !strings.Contains(err.Error(), "past the producer") {
		t.Errorf("error %v", err)
	}
}

func FuzzBPFRing(f *testing.F) {
	ring := newFakeBPFRing(256)
	ring.put(payload(30, 1), 0)
	ring.put(payload(7, 2), ringDiscardBit)
	f.Add(ring.data[:256], uint64(ring.producer), uint64(0))
	f.Add(make([]byte, 256), uint64(300), uint64(10))
	f.Fuzz(func(t *testing.T, data []byte, producer, consumer uint64) {
		if len(data) < 256 {
			return
		}
		fr := newFakeBPFRing(256)
		copy(fr.data, data[:256])
		copy(fr.data[256:], data[:256])
		fr.producer, fr.consumer = producer, consumer
		r := fr.reader()
		for range 100 {
			rec, err := r.next()
			if err != nil || rec == nil {
				return
			}
			if len(rec) > 256 {
				t.Fatalf("record of %d bytes from a 256-byte ring", len(rec))
			}
		}
	})
}

func TestBPFRingHoldingBackKeepsThePositionAtTheLastRecord(t *testing.T) {
	f := newFakeBPFRing(1024)
	r := f.reader()
	r.holdBack = true
	f.put(payload(10, 1), 0)
	lastAt := f.producer
	f.put(payload(12, 2), 0)
	for i := range 2 {
		if got, err := r.next(); got == nil || err != nil {
			t.Fatalf("record %d: %v, %v", i, got, err)
		}
	}
	if got, err := r.next(); got != nil || err != nil {
		t.Fatalf("past the end: % x, %v", got, err)
	}
	// The kernel wakes a reader when a record lands where the consumer
	// position stands: held at the last record, no record can.
	if f.consumer != lastAt {
		t.Fatalf("read empty while polling: consumer at %d, want the last record's %d (producer %d)", f.consumer, lastAt, f.producer)
	}
	if !r.caughtUp() || f.consumer != f.producer {
		t.Fatalf("given back to sleep: consumer %d, producer %d", f.consumer, f.producer)
	}
	// A record that landed meanwhile keeps the reader awake.
	f.put(payload(14, 3), 0)
	if r.caughtUp() {
		t.Fatal("caught up with a record unread")
	}
	if got, err := r.next(); !bytes.Equal(got, payload(14, 3)) || err != nil {
		t.Fatalf("the record after: % x, %v", got, err)
	}
}
