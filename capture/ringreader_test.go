package capture

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

// testRing lays blocks of blockSize bytes out as one ring's memory, each
// handed over to user space, and returns a reader of it.
func testRing(t testing.TB, blockSize int, opt frameOptions, blocks ...[]synthPacket) *ringReader {
	t.Helper()
	var mem []byte
	for _, pkts := range blocks {
		mem = append(mem, buildBlock(blockSize, pkts)...)
	}
	geo := ringGeometry{BlockSize: blockSize, BlockCount: len(blocks)}
	return newRingReader(0, mem, geo, opt)
}

// BenchmarkRingRead is the user-space cost per packet of reading a ring
// of 64-byte frames: walking, rebuilding, giving blocks back.
func BenchmarkRingRead(b *testing.B) {
	b.Run("2MiB", func(b *testing.B) { benchmarkRingRead(b, 8) })
	b.Run("64MiB", func(b *testing.B) { benchmarkRingRead(b, 256) })
}

func benchmarkRingRead(b *testing.B, blocks int) {
	var pkts []synthPacket
	frame := bytes.Repeat([]byte{1}, 64)
	for range 1600 {
		pkts = append(pkts, synthPacket{data: frame, macLen: 14, sec: 1, nsec: 2})
	}
	ring := make([][]synthPacket, blocks)
	for i := range ring {
		ring[i] = pkts
	}
	r := testRing(b, 256<<10, frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 262144, micro: true}, ring...)
	b.ReportAllocs()
	n := 0
	var sum int
	for b.Loop() {
		if err := r.fill(); err != nil {
			b.Fatal(err)
		}
		if !r.hasHead {
			for i := range blocks {
				hostOrder.PutUint32(r.block(i)[blockStatusOffset:], statusUser)
				hostOrder.PutUint32(r.block(i)[blockNumPacketsOffset:], uint32(len(pkts)))
			}
			continue
		}
		r.hasHead = false
		sum += len(r.packet()) + r.head.captureInfo(pcap.LinkTypeEthernet).Length
		n++
	}
	if n == 0 || sum == 0 {
		b.Fatal("no packet read")
	}
}

// packetsOf is one block of n 60-byte frames stamped sec.i, each frame's
// first byte its number.
func packetsOf(n int, sec uint32, first byte) []synthPacket {
	var pkts []synthPacket
	for i := range n {
		data := make([]byte, 60)
		data[0] = first + byte(i)
		pkts = append(pkts, synthPacket{data: data, macLen: 14, sec: sec, nsec: uint32(i)})
	}
	return pkts
}

// next fills r and takes its head, returning the frame's first byte, or
// -1 when no packet is ready.
func next(t *testing.T, r *ringReader) int {
	t.Helper()
	if err := r.fill(); err != nil {
		t.Fatal(err)
	}
	if !r.hasHead {
		return -1
	}
	r.hasHead = false
	return int(r.packet()[0])
}

func blockStatus(r *ringReader, i int) (status, count uint32) {
	b := r.block(i)
	return hostOrder.Uint32(b[blockStatusOffset:]), hostOrder.Uint32(b[blockNumPacketsOffset:])
}

func TestRingReaderGivesBlocksBackOnceRead(t *testing.T) {
	opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 1000}
	r := testRing(t, 4096, opt, packetsOf(2, 1, 0), packetsOf(1, 2, 10), packetsOf(2, 3, 20))
	// Block 2 is still the kernel's.
	hostOrder.PutUint32(r.block(2)[blockStatusOffset:], 0)
	for _, want := range []int{0, 1} {
		if got := next(t, r); got != want {
			t.Fatalf("packet %d, want %d", got, want)
		}
	}
	if st, _ := blockStatus(r, 0); st != statusUser {
		t.Fatal("block 0 given back while its last packet may still be in use")
	}
	if got := next(t, r); got != 10 {
		t.Fatalf("packet %d, want 10", got)
	}
	if st, n := blockStatus(r, 0); st != 0 || n != 0 {
		t.Fatalf("block 0 after reading on: status %d, %d packets; want both 0", st, n)
	}
	if got := next(t, r); got != -1 {
		t.Fatalf("packet %d from a block the kernel holds", got)
	}
	if st, _ := blockStatus(r, 1); st != 0 || r.cur != 2 {
		t.Fatalf("block 1 status %d, reader at block %d; want given back and at 2", st, r.cur)
	}
	// The kernel hands block 2 over; the ring wraps to block 0 after it.
	hostOrder.PutUint32(r.block(2)[blockStatusOffset:], statusUser)
	for _, want := range []int{20, 21, -1} {
		if got := next(t, r); got != want {
			t.Fatalf("packet %d, want %d", got, want)
		}
	}
	if r.cur != 0 {
		t.Fatalf("reader at block %d after the last, want 0", r.cur)
	}
}

func TestRingReaderMalformedBlock(t *testing.T) {
	opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 1000}
	r := testRing(t, 4096, opt, packetsOf(2, 1, 0), packetsOf(1, 2, 10))
	// The second packet of block 0 claims more bytes than the block has.
	second := blockDescLen + align16(align16(frameHeadroom+16)+vlanTagLen+60)
	hostOrder.PutUint32(r.block(0)[second+frameSnapOffset:], 1<<20)
	if got := next(t, r); got != 0 {
		t.Fatalf("packet %d, want 0", got)
	}
	err := r.fill()
	if !errors.Is(err, errBadBlock) || !strings.Contains(err.Error(), "block 0 of ring 0") {
		t.Fatalf("fill: %v, want the malformed block named", err)
	}
	if got := next(t, r); got != 10 {
		t.Fatalf("after the bad block: packet %d, want 10", got)
	}
}

func TestRingReaderSocketErrorAfterReadyBlocks(t *testing.T) {
	opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 1000}
	r := testRing(t, 4096, opt, packetsOf(1, 1, 0), packetsOf(1, 2, 10))
	hostOrder.PutUint32(r.block(1)[blockStatusOffset:], 0)
	down := errors.New("down")
	r.err = down
	if got := next(t, r); got != 0 {
		t.Fatalf("packet %d, want the ready one first", got)
	}
	if err := r.fill(); err != down || !r.ended {
		t.Fatalf("fill: %v, ended %v; want the socket's error and the end", err, r.ended)
	}
}

func TestRingReaderFinalReadsTheOpenBlockInPlace(t *testing.T) {
	opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 1000}
	r := testRing(t, 4096, opt, packetsOf(1, 1, 0), packetsOf(2, 2, 10), packetsOf(0, 3, 20))
	// Block 1 is the one the kernel fills: two packets, not handed over.
	hostOrder.PutUint32(r.block(1)[blockStatusOffset:], 0)
	hostOrder.PutUint32(r.block(2)[blockStatusOffset:], 0)
	if got, again := next(t, r), next(t, r); got != 0 || again != -1 {
		t.Fatalf("packets %d, %d; want 0, then none before the capture ends", got, again)
	}
	r.final = true
	for _, want := range []int{10, 11, -1, -1} {
		if got := next(t, r); got != want {
			t.Fatalf("packet %d, want %d", got, want)
		}
	}
	if !r.ended || r.cur != 1 {
		t.Fatalf("ended %v at block %d; want the end at block 1", r.ended, r.cur)
	}
	if st, n := blockStatus(r, 1); st != 0 || n != 2 {
		t.Fatalf("open block left with status %d, %d packets; want it untouched, the kernel's", st, n)
	}
	// The kernel's timer hands the block over later: it is not read twice.
	hostOrder.PutUint32(r.block(1)[blockStatusOffset:], statusUser)
	if got := next(t, r); got != -1 {
		t.Fatalf("packet %d read again after the end", got)
	}
}

func TestRingReaderFinalWithNothingPending(t *testing.T) {
	opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 1000}
	r := testRing(t, 4096, opt, packetsOf(1, 1, 0), packetsOf(0, 2, 10))
	hostOrder.PutUint32(r.block(1)[blockStatusOffset:], 0)
	r.final = true
	if got, again := next(t, r), next(t, r); got != 0 || again != -1 {
		t.Fatalf("packets %d, %d; want 0, then none", got, again)
	}
	if r.ended || r.inPlace {
		t.Fatal("an empty block the kernel holds was read in place")
	}
}

// mergeRing is a ring for the merge tests: a block of packets stamped at
// the given seconds handed over, then a block the kernel fills, opened at
// opened with pending packets in it (none when pending is 0).
func mergeRing(t *testing.T, index int, secs []uint32, opened uint32, pending uint32) *ringReader {
	t.Helper()
	var pkts []synthPacket
	for _, s := range secs {
		pkts = append(pkts, synthPacket{data: make([]byte, 60), macLen: 14, sec: s})
	}
	r := testRing(t, 4096, frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 1000}, pkts, nil, nil, nil)
	r.index = index
	for i := 1; i < 4; i++ {
		hostOrder.PutUint32(r.block(i)[blockStatusOffset:], 0)
	}
	if len(secs) == 0 {
		hostOrder.PutUint32(r.block(0)[blockStatusOffset:], 0)
		hostOrder.PutUint32(r.block(0)[blockNumPacketsOffset:], pending)
		hostOrder.PutUint32(r.block(0)[blockOpenedSecOffset:], opened)
	} else {
		hostOrder.PutUint32(r.block(1)[blockNumPacketsOffset:], pending)
		hostOrder.PutUint32(r.block(1)[blockOpenedSecOffset:], opened)
	}
	return r
}

// merged runs the merge to the end as ReadPacket would, without waiting:
// the timestamps (seconds) in order, and the rings waited for at the end.
func merged(t *testing.T, rings ...*ringReader) (secs []uint32, waited []int) {
	t.Helper()
	var wait []*ringReader
	for {
		for _, r := range rings {
			if !r.hasHead && !r.ended {
				if err := r.fill(); err != nil {
					t.Fatal(err)
				}
			}
		}
		var best *ringReader
		best, wait = choose(rings, wait)
		if len(wait) > 0 || best == nil {
			for _, r := range wait {
				waited = append(waited, r.index)
			}
			return secs, waited
		}
		best.hasHead = false
		secs = append(secs, best.head.sec)
	}
}

func TestMergeOrdersByTimestamp(t *testing.T) {
	secs, waited := merged(t, mergeRing(t, 0, []uint32{1, 4, 6}, 0, 0), mergeRing(t, 1, []uint32{2, 3, 7}, 0, 0), mergeRing(t, 2, []uint32{5}, 0, 0))
	if want := []uint32{1, 2, 3, 4, 5, 6, 7}; !slices.Equal(secs, want) {
		t.Fatalf("order %v, want %v", secs, want)
	}
	if !slices.Equal(waited, []int{0, 1, 2}) {
		t.Fatalf("waited for rings %v at the end, want all", waited)
	}
}

func TestMergeWaitsForABlockInTheMaking(t *testing.T) {
	// Ring 1's kernel block, opened at 3 with packets, may hold packets
	// stamped from 3 on: packets up to 2 go out, the one at 5 waits.
	secs, waited := merged(t, mergeRing(t, 0, []uint32{1, 2, 5}, 0, 0), mergeRing(t, 1, nil, 3, 2))
	if !slices.Equal(secs, []uint32{1, 2}) || !slices.Equal(waited, []int{1}) {
		t.Fatalf("sent %v then waited for %v; want [1 2] then ring 1", secs, waited)
	}
	// An empty block in the making, or one opened after the packet,
	// holds nothing earlier.
	for _, other := range []*ringReader{mergeRing(t, 1, nil, 3, 0), mergeRing(t, 1, nil, 6, 1)} {
		secs, _ = merged(t, mergeRing(t, 0, []uint32{1, 2, 5}, 0, 0), other)
		if !slices.Equal(secs, []uint32{1, 2, 5}) {
			t.Fatalf("sent %v, want all three", secs)
		}
	}
}

func TestMergeStopsWaitingWhenARingFills(t *testing.T) {
	r0 := mergeRing(t, 0, []uint32{5}, 0, 0)
	// Half of ring 0's blocks are ready: waiting longer risks its next packets.
	hostOrder.PutUint32(r0.block(2)[blockStatusOffset:], statusUser)
	secs, _ := merged(t, r0, mergeRing(t, 1, nil, 3, 2))
	if len(secs) == 0 || secs[0] != 5 {
		t.Fatalf("sent %v, want the packet at 5 despite the block in the making", secs)
	}
}
