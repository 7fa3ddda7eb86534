package main

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/weircap/weir/pcap"
)

func BenchmarkPrintPacket(b *testing.B) {
	p := newPrinter(bufio.NewWriterSize(io.Discard, outputBufferSize), pcap.LinkTypeEthernet, false, false)
	frame := ethernetFrame(0x0800, tcpV4)
	ci := pcap.CaptureInfo{Timestamp: testTime, Length: len(frame)}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.printPacket(ci, frame); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkRun filters a capture of 10,000 mixed packets from memory.
func benchmarkRun(b *testing.B, args ...string) {
	var packets [][]byte
	for i := 0; i < 2500; i++ {
		packets = append(packets, ethernetFrame(0x0800, tcpV4), ethernetFrame(0x0800, udpV4),
			ethernetFrame(0x86dd, tcpV6), ethernetFrame(0x0806, arpPacket(1)))
	}
	capture := captureBytes(b, pcap.LinkTypeEthernet, false, packets...)
	b.SetBytes(int64(len(capture)))
	b.ReportAllocs()
	for b.Loop() {
		if code := run(b.Context(), args, bytes.NewReader(capture), io.Discard, io.Discard, hostSystem{}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

func BenchmarkRunWriteAll(b *testing.B)    { benchmarkRun(b, "-r", "-", "-w", "-") }
func BenchmarkRunWriteFilter(b *testing.B) { benchmarkRun(b, "-r", "-", "-w", "-", "tcp port 443") }
func BenchmarkRunPrint(b *testing.B)       { benchmarkRun(b, "-r", "-") }
