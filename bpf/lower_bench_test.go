package bpf

import (
	"fmt"
	"strings"
	"testing"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// benchExpressions are a short filter and a long one (200 host terms, as
// the live benchmark's).
func benchExpressions() map[string]string {
	hosts := make([]string, 200)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("host 10.%d.%d.1", i/256, i%256)
	}
	return map[string]string{"port80": "tcp port 80", "hosts200": strings.Join(hosts, " or ")}
}

func BenchmarkLower(b *testing.B) {
	for name, expr := range benchExpressions() {
		prog, err := filter.Compile(expr, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
		if err != nil {
			b.Fatal(err)
		}
		for _, tg := range targets {
			b.Run(fmt.Sprintf("%s/%v", name, tg), func(b *testing.B) {
				for b.Loop() {
					if _, err := Lower(prog, tg); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
