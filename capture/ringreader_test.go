package capture

import (
	"bytes"
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
