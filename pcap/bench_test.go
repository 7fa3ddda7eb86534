package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// benchmarkFile is a capture of n 200-byte Ethernet packets, classic pcap
// as our Writer makes it or pcapng with nanosecond timestamps as
// Wireshark writes it.
func benchmarkFile(ng bool, n int) []byte {
	data := payload(200, 7)
	start := time.Unix(1_700_000_000, 0)
	if !ng {
		var out bytes.Buffer
		w, _ := NewWriter(&out, FileHeader{LinkType: LinkTypeEthernet})
		for i := range n {
			ci := CaptureInfo{Timestamp: start.Add(time.Duration(i) * time.Microsecond), Length: 200}
			_ = w.WritePacket(ci, data)
		}
		_ = w.Flush()
		return out.Bytes()
	}
	b := ngFile(binary.LittleEndian).idb(uint16(LinkTypeEthernet), 262144, option{optionTSResol, []byte{9}})
	for i := range n {
		b.epb(0, uint64(start.UnixNano())+uint64(i)*1000, 200, 200, data)
	}
	return b.bytes()
}

// BenchmarkReadPacket measures reading ~200-byte packets from memory; one
// op is one packet, so ns/op is ns/packet.
func BenchmarkReadPacket(b *testing.B) {
	for _, f := range []struct {
		name string
		ng   bool
	}{{"pcap", false}, {"pcapng", true}} {
		b.Run(f.name, func(b *testing.B) {
			file := benchmarkFile(f.ng, 100_000)
			src := bytes.NewReader(file)
			r, err := NewReader(src)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(file) / 100_000))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_, _, err := r.ReadPacket()
				if errors.Is(err, io.EOF) {
					src.Reset(file)
					if r, err = NewReader(src); err == nil {
						_, _, err = r.ReadPacket()
					}
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
