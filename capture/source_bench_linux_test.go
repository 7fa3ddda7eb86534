package capture

import (
	"bytes"
	"io"
	"testing"

	"github.com/weircap/weir/pcap"
)

// BenchmarkReadPacket is the user-space cost per packet of reading one
// ring of 64-byte frames, alone and with each packet written to a
// pcap.Writer, as "weir -w" does; with ReadPacket, and with
// ReadPacketInfo, which spares the copies of the CaptureInfo.
func BenchmarkReadPacket(b *testing.B) {
	b.Run("read", func(b *testing.B) { benchmarkReadPacket(b, false, false) })
	b.Run("write", func(b *testing.B) { benchmarkReadPacket(b, true, false) })
	b.Run("info/read", func(b *testing.B) { benchmarkReadPacket(b, false, true) })
	b.Run("info/write", func(b *testing.B) { benchmarkReadPacket(b, true, true) })
	b.Run("ready/write", benchmarkWriteReady)
}

// benchPackets and benchBlocks shape benchSource's ring.
const (
	benchPackets = 1600
	benchBlocks  = 8
)

// benchSource is a Source over a ring of benchBlocks blocks of
// benchPackets 64-byte frames each, and a pcap.Writer to nowhere.
func benchSource(b *testing.B) (*ringReader, *Source, *pcap.Writer) {
	var pkts []synthPacket
	frame := bytes.Repeat([]byte{1}, 64)
	for range benchPackets {
		pkts = append(pkts, synthPacket{data: frame, macLen: 14, sec: 1, nsec: 2})
	}
	ring := make([][]synthPacket, benchBlocks)
	for i := range ring {
		ring[i] = pkts
	}
	r := testRing(b, 256<<10, frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 262144, micro: true}, ring...)
	s := &Source{readers: []*ringReader{r}, linkType: pcap.LinkTypeEthernet}
	w, err := pcap.NewWriter(io.Discard, pcap.FileHeader{LinkType: pcap.LinkTypeEthernet})
	if err != nil {
		b.Fatal(err)
	}
	return r, s, w
}

// refill hands every block but the one being read back to user space
// full, as the kernel would.
func refill(r *ringReader) {
	for i := range benchBlocks {
		if i != r.cur || !r.reading {
			hostOrder.PutUint32(r.block(i)[blockStatusOffset:], statusUser)
			hostOrder.PutUint32(r.block(i)[blockNumPacketsOffset:], benchPackets)
		}
	}
}

// benchmarkWriteReady is the cost per packet of WriteReady.
func benchmarkWriteReady(b *testing.B) {
	r, s, w := benchSource(b)
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		refill(r)
		n, rerr, werr := s.WriteReady(w, 1<<30)
		if rerr != nil || werr != nil || n == 0 {
			b.Fatal(n, rerr, werr)
		}
		total += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/packet")
}

func benchmarkReadPacket(b *testing.B, write, info bool) {
	r, s, w := benchSource(b)
	last := 0
	var ci pcap.CaptureInfo
	b.ReportAllocs()
	for b.Loop() {
		// The kernel fills the other blocks again while one is read.
		if r.cur != last {
			refill(r)
			last = r.cur
		}
		var data []byte
		var err error
		if info {
			data, err = s.ReadPacketInfo(&ci)
		} else {
			data, ci, err = s.ReadPacket()
		}
		if err != nil {
			b.Fatal(err)
		}
		if write {
			if err := w.WritePacket(ci, data); err != nil {
				b.Fatal(err)
			}
		}
	}
}
