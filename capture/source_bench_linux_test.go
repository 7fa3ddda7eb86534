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

// benchmarkWriteReady is the cost per packet of WriteReady.
func benchmarkWriteReady(b *testing.B) {
	var pkts []synthPacket
	frame := bytes.Repeat([]byte{1}, 64)
	for range 1600 {
		pkts = append(pkts, synthPacket{data: frame, macLen: 14, sec: 1, nsec: 2})
	}
	const blocks = 8
	ring := make([][]synthPacket, blocks)
	for i := range ring {
		ring[i] = pkts
	}
	r := testRing(b, 256<<10, frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 262144, micro: true}, ring...)
	s := &Source{readers: []*ringReader{r}, linkType: pcap.LinkTypeEthernet}
	w, err := pcap.NewWriter(io.Discard, pcap.FileHeader{LinkType: pcap.LinkTypeEthernet})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		// The kernel fills the blocks again once they are read.
		for i := range blocks {
			if i != r.cur || !r.reading {
				hostOrder.PutUint32(r.block(i)[blockStatusOffset:], statusUser)
				hostOrder.PutUint32(r.block(i)[blockNumPacketsOffset:], uint32(len(pkts)))
			}
		}
		n, rerr, werr := s.WriteReady(w, 1<<30)
		if rerr != nil || werr != nil || n == 0 {
			b.Fatal(n, rerr, werr)
		}
		total += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/packet")
}

func benchmarkReadPacket(b *testing.B, write, info bool) {
	var pkts []synthPacket
	frame := bytes.Repeat([]byte{1}, 64)
	for range 1600 {
		pkts = append(pkts, synthPacket{data: frame, macLen: 14, sec: 1, nsec: 2})
	}
	const blocks = 8
	ring := make([][]synthPacket, blocks)
	for i := range ring {
		ring[i] = pkts
	}
	r := testRing(b, 256<<10, frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 262144, micro: true}, ring...)
	s := &Source{readers: []*ringReader{r}, linkType: pcap.LinkTypeEthernet}
	w, err := pcap.NewWriter(io.Discard, pcap.FileHeader{LinkType: pcap.LinkTypeEthernet})
	if err != nil {
		b.Fatal(err)
	}
	last := 0
	var ci pcap.CaptureInfo
	b.ReportAllocs()
	for b.Loop() {
		// The kernel fills the other blocks again while one is read.
		if r.cur != last {
			for i := range blocks {
				if i != r.cur {
					hostOrder.PutUint32(r.block(i)[blockStatusOffset:], statusUser)
					hostOrder.PutUint32(r.block(i)[blockNumPacketsOffset:], uint32(len(pkts)))
				}
			}
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
