package capture

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// BenchmarkHookReadPacket is the reader's cost per record: the XDP
// program fills the ring through BPF_PROG_TEST_RUN (not timed), the
// source reads it back.
func BenchmarkHookReadPacket(b *testing.B) {
	testutil.RequireRoot(b, "CAP_BPF")
	frag, err := lowerFilter(nil, bpf.HookXDP, maxSnaplen)
	if err != nil {
		b.Fatal(err)
	}
	objs, err := bpf.LoadCapture([]bpf.CaptureSpec{{Hook: bpf.HookXDP, Snaplen: maxSnaplen, Filter: frag}}, 8<<20, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := &HookSource{name: "bench", snaplen: maxSnaplen, objs: objs, promisc: -1, buf: make([]byte, maxSnaplen+vlanTagLen)}
	if err := s.mapRing(int(objs.Ring.MaxEntries())); err != nil {
		b.Fatal(err)
	}
	if s.waiter, err = newWaiter([]int{objs.Ring.FD()}); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	frame := mixedFrames()[0]
	const batch = 20000
	var ci pcap.CaptureInfo
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		b.StopTimer()
		if _, err := objs.Programs[bpf.HookXDP].Run(&ebpf.RunOptions{Data: frame, Repeat: uint32(n)}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for range n {
			if _, err := s.ReadPacketInfo(&ci); err != nil {
				b.Fatal(err)
			}
		}
	}
}
