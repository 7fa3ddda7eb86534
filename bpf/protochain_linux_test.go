package bpf

import (
	"testing"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// TestProtochainLoopInKernel: "protochain 6" walks a chain of IPv6
// extension headers in a bounded loop, one backward jump per header. Up
// to MaxBackwardJumps headers the kernel agrees with filter.Run; one more
// and the budget is spent: verdict 0 where filter.Run (whose bound is far
// higher) still matches.
func TestProtochainLoopInKernel(t *testing.T) {
	requireBPF(t)
	for _, optimize := range []bool{false, true} {
		prog, err := filter.Compile("protochain 6", filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: optimize, Savefile: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range []Target{TargetSocketFilter, TargetXDP, TargetTCX} {
			frag, err := Lower(prog, tg)
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := loadFragment(tg, frag)
			if err != nil {
				t.Fatalf("%v, optimized %v: %v", tg, optimize, err)
			}
			r, err := newKernelRunner(tg)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.use(loaded); err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{0, 1, 2, 5, MaxBackwardJumps - 1, MaxBackwardJumps, MaxBackwardJumps + 1, 40} {
				packet := ipv6Chain(n)
				run := filter.Run(prog, packet, len(packet))
				if run == 0 {
					t.Fatalf("%d headers: filter.Run does not match the chain", n)
				}
				want := run
				if n > MaxBackwardJumps {
					want = 0
				}
				ok, what, err := r.matches(loaded, packet, want)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					t.Errorf("%v, optimized %v, %d extension headers: the kernel %s, want verdict %d", tg, optimize, n, what, want)
				}
			}
			// A different final protocol must not match at any length.
			packet := ipv6Chain(3)
			packet[len(packet)-20-8] = 17 // the last header's next header: UDP
			if ok, what, err := r.matches(loaded, packet, 0); err != nil || !ok {
				t.Errorf("%v, optimized %v: UDP after 3 headers: the kernel %s (%v), want no match", tg, optimize, what, err)
			}
			loaded.Close()
			r.Close()
		}
	}
}
