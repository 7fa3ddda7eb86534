package capture

import (
	"bytes"
	"errors"
	"testing"

	"github.com/weircap/weir/pcap"
)

// writeReadyRing is a ring of three blocks: plain frames, a VLAN-tagged
// one among them, a frame cut by the snap length, and timestamps with
// nanoseconds; block 2 is still the kernel's.
func writeReadyRing(t *testing.T, opt frameOptions) *ringReader {
	t.Helper()
	big := bytes.Repeat([]byte{0x42}, 300)
	first := packetsOf(3, 1700000000, 0)
	first[1].nsec = 123456789
	first = append(first, synthPacket{data: big, macLen: 14, sec: 1700000001, nsec: 999999999})
	second := packetsOf(4, 1700000002, 10)
	second[2].status, second[2].tci = statusVLANValid, 7
	r := testRing(t, 4096, opt, first, second, packetsOf(2, 1700000003, 20))
	hostOrder.PutUint32(r.block(2)[blockStatusOffset:], 0)
	return r
}

// writeEach writes r's ready packets one by one, as ReadPacket and
// WritePacket would, up to max; it returns how many and the error.
func writeEach(t *testing.T, r *ringReader, w *pcap.Writer, max int) (int, error) {
	t.Helper()
	n := 0
	for n < max {
		if err := r.fill(); err != nil {
			return n, err
		}
		if !r.hasHead {
			return n, nil
		}
		r.hasHead = false
		ci := r.head.captureInfo(pcap.LinkTypeEthernet)
		if err := w.WritePacketInfo(&ci, r.packet()); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n, nil
}

// file is what w wrote to out, flushed.
func file(t *testing.T, w *pcap.Writer, out *bytes.Buffer) []byte {
	t.Helper()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestWriteReadyWritesWhatReadPacketReads(t *testing.T) {
	cases := []struct {
		name string
		opt  frameOptions
		nano bool
		max  []int // WriteReady's max, call after call
	}{
		{"plain", frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 200, micro: true}, false, []int{100}},
		{"nanoseconds", frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 262144}, true, []int{100}},
		{"count", frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 200, micro: true}, false, []int{2, 1, 3, 100}},
		{"user filter", frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 200, micro: true,
			filter: func(data []byte, wireLen int) uint32 { return uint32(data[0]%2) * 30 }}, false, []int{100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			header := pcap.FileHeader{LinkType: pcap.LinkTypeEthernet, Snaplen: uint32(c.opt.snaplen), Nanoseconds: c.nano}
			var want, got bytes.Buffer
			ww, _ := pcap.NewWriter(&want, header)
			gw, _ := pcap.NewWriter(&got, header)
			each, ready := writeReadyRing(t, c.opt), writeReadyRing(t, c.opt)
			for _, max := range c.max {
				wantN, err := writeEach(t, each, ww, max)
				if err != nil {
					t.Fatal(err)
				}
				n, readErr, writeErr := ready.writeReady(gw, max)
				if readErr != nil || writeErr != nil || n != wantN {
					t.Fatalf("WriteReady(max %d): %d packets, %v, %v; want %d", max, n, readErr, writeErr, wantN)
				}
			}
			if !bytes.Equal(file(t, gw, &got), file(t, ww, &want)) {
				t.Fatalf("WriteReady wrote\n%x\nReadPacket and WritePacket\n%x", got.Bytes(), want.Bytes())
			}
			if ready.cur != 2 || each.cur != 2 {
				t.Fatalf("at block %d (packet by packet %d), want 2, which the kernel holds", ready.cur, each.cur)
			}
			for i := range 2 {
				if st, _ := blockStatus(ready, i); st != 0 {
					t.Fatalf("block %d not given back", i)
				}
			}
		})
	}
}

func TestWriteReadyMalformedPacket(t *testing.T) {
	opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 1000}
	r := testRing(t, 4096, opt, packetsOf(3, 1, 0), packetsOf(1, 2, 10))
	second := blockDescLen + align16(align16(frameHeadroom+16)+vlanTagLen+60)
	hostOrder.PutUint32(r.block(0)[second+frameSnapOffset:], 1<<20)
	var out bytes.Buffer
	w, _ := pcap.NewWriter(&out, pcap.FileHeader{LinkType: pcap.LinkTypeEthernet})
	n, readErr, writeErr := r.writeReady(w, 100)
	if n != 1 || !errors.Is(readErr, errBadBlock) || writeErr != nil {
		t.Fatalf("%d packets, %v, %v; want the packet before the fault, then the malformed block", n, readErr, writeErr)
	}
	if n, readErr, _ = r.writeReady(w, 100); n != 1 || readErr != nil {
		t.Fatalf("after the bad block: %d packets, %v; want the next block's one", n, readErr)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteReadyWriteError(t *testing.T) {
	opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 1000}
	// More packets than the writer's buffer holds: it writes, and fails.
	r := testRing(t, 1<<18, opt, packetsOf(1500, 1, 0))
	w, _ := pcap.NewWriter(failingWriter{}, pcap.FileHeader{LinkType: pcap.LinkTypeEthernet})
	n, readErr, writeErr := r.writeReady(w, 10000)
	if writeErr == nil || readErr != nil || n == 0 || n >= 1500 {
		t.Fatalf("%d packets, %v, %v; want some, then the write error", n, readErr, writeErr)
	}
}

// masked is a pcap file's bytes with each record's timestamp zeroed: a
// fuzzed block's nanoseconds may pass a second, which a CaptureInfo's
// time.Time carries into the seconds and a ring's raw fields do not.
func masked(file []byte) []byte {
	out := bytes.Clone(file)
	for off := 24; off+16 <= len(out); {
		caplen := int(hostOrder.Uint32(out[off+8:]))
		clear(out[off : off+8])
		off += 16 + caplen
	}
	return out
}

// FuzzWriteReady: on any block, WriteReady writes what reading the
// packets one by one writes, and stops at the same fault.
func FuzzWriteReady(f *testing.F) {
	f.Add(buildBlock(4096, []synthPacket{
		{data: make([]byte, 60), macLen: 14},
		{data: make([]byte, 60), macLen: 14, status: statusVLANValid, tci: 5},
		{data: bytes.Repeat([]byte{7}, 300), macLen: 14, sec: 5, nsec: 999_999_999},
	}), uint8(3), uint16(200))
	f.Add(buildBlock(4096, []synthPacket{{data: make([]byte, 40), macLen: 14}}), uint8(1), uint16(0))
	f.Fuzz(func(t *testing.T, block []byte, max uint8, snaplen uint16) {
		const size = 4096
		if len(block) > size {
			block = block[:size]
		}
		mem := make([]byte, size)
		copy(mem, block)
		hostOrder.PutUint32(mem[blockStatusOffset:], statusUser)
		opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: int(snaplen) + 1, micro: max&1 != 0}
		header := pcap.FileHeader{LinkType: pcap.LinkTypeEthernet, Snaplen: uint32(opt.snaplen)}
		var want, got bytes.Buffer
		ww, _ := pcap.NewWriter(&want, header)
		gw, _ := pcap.NewWriter(&got, header)
		geo := ringGeometry{BlockSize: size, BlockCount: 1}
		each := newRingReader(0, bytes.Clone(mem), geo, opt)
		ready := newRingReader(0, mem, geo, opt)
		step := int(max%8) + 1
		for range 1000 {
			wantN, wantErr := writeEach(t, each, ww, step)
			n, readErr, writeErr := ready.writeReady(gw, step)
			if n != wantN || (readErr == nil) != (wantErr == nil) || writeErr != nil {
				t.Fatalf("WriteReady: %d packets, %v, %v; one by one %d, %v", n, readErr, writeErr, wantN, wantErr)
			}
			if n == 0 && readErr == nil {
				break
			}
		}
		if g, w := masked(file(t, gw, &got)), masked(file(t, ww, &want)); !bytes.Equal(g, w) {
			t.Fatalf("WriteReady wrote\n%x\none by one\n%x", g, w)
		}
	})
}
