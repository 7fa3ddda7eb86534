package capture

import (
	"strconv"
	"testing"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

func TestLiveEBPFSocketFilterCapturesExactlyTheMatchingFrames(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	witness := collect(openIn(t, v, witnessConfig, ""))
	collectors := make([]*collector, len(liveExpressions))
	for i, expr := range liveExpressions {
		collectors[i] = collect(openIn(t, v, Config{Interface: testutil.CaptureIf, EBPF: true}, expr))
	}
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	for i, expr := range liveExpressions {
		var want [][]byte
		for _, f := range frames {
			if liveMatch(t, expr, f) {
				want = append(want, f)
			}
		}
		collectors[i].waitCount(t, len(want))
		comparePackets(t, "ebpf "+expr, collectors[i].finish(t), want, pcap.LinkTypeEthernet)
	}
}

func TestLiveEBPFSocketFilterOnAnyReadsTheKernelsMetadata(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := mixedFrames()[:9]
	witness := collect(openIn(t, v, witnessConfig, ""))
	exprs := []string{"udp", "ifindex " + strconv.Itoa(v.CaptureIndex), "ifindex 999", "inbound and tcp", "outbound"}
	classic := make([]*collector, len(exprs))
	lowered := make([]*collector, len(exprs))
	for i, expr := range exprs {
		classic[i] = collect(openIn(t, v, Config{Interface: AnyInterface}, expr))
		lowered[i] = collect(openIn(t, v, Config{Interface: AnyInterface, EBPF: true}, expr))
	}
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	for i, expr := range exprs {
		want := classic[i].finish(t)
		if expr == "udp" && len(want) == 0 {
			t.Fatal("classic any: no udp packet captured")
		}
		var wantData [][]byte
		for _, p := range want {
			wantData = append(wantData, p.data)
		}
		comparePackets(t, "any ebpf "+expr, lowered[i].finish(t), wantData, pcap.LinkTypeLinuxSLL2)
	}
}
