package bpf

import (
	"fmt"
	"testing"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// BenchmarkKernelRun times a lowered filter in the kernel (XDP and tc
// test runs, repeated in the kernel) on a TCP SYN to port 80; ns/op is
// per packet, including the test run's own work on the packet.
func BenchmarkKernelRun(b *testing.B) {
	requireBPF(b)
	packet := []byte{
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, // Ethernet
		0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
		0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0, // TCP
	}
	for name, expr := range benchExpressions() {
		prog, err := filter.Compile(expr, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
		if err != nil {
			b.Fatal(err)
		}
		for _, tg := range []Target{TargetXDP, TargetTCX} {
			frag, err := Lower(prog, tg)
			if err != nil {
				b.Fatal(err)
			}
			loaded, err := loadFragment(tg, frag)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%v", name, tg), func(b *testing.B) {
				_, took, err := loaded.Benchmark(packet, b.N, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(took.Nanoseconds()), "ns/op")
			})
			loaded.Close()
		}
	}
}
