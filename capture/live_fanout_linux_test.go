package capture

import (
	"net/netip"
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// flowFrames are n UDP frames of n different flows (the fanout hash
// spreads them over the sockets), the frame's number in its payload.
func flowFrames(n int) [][]byte {
	var frames [][]byte
	for i := range n {
		src := hostA.As4()
		src[2], src[3] = byte(i>>8), byte(i)
		frames = append(frames, ether(foreignMAC, 0x0800,
			ipv4(netip.AddrFrom4(src), hostB, protoUDP, udp(uint16(1000+i), 53, 20))))
	}
	return frames
}

// Packets of a fanout group come out in timestamp order although each
// socket hands its blocks over at its own time (its retire timer, here 20
// ms, runs apart from the others'): the merge holds a packet back while
// another socket's block in the making may hold an earlier one.
func TestLiveFanoutInTimestampOrder(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := flowFrames(300)
	witness := collect(openIn(t, v, witnessConfig, ""))
	fan := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, Fanout: 4, BlockTimeout: 20 * time.Millisecond}, "udp"))
	for i := 0; i < len(frames); i += 10 {
		v.Inject(t, frames[i:i+10]...)
		time.Sleep(time.Millisecond)
	}
	witness.waitCount(t, len(frames))
	witness.finish(t)
	fan.waitCount(t, len(frames))
	got := fan.finish(t)
	for i := 1; i < len(got); i++ {
		if got[i].info.Timestamp.Before(got[i-1].info.Timestamp) {
			t.Fatalf("packet %d stamped %v, %v before packet %d", i, got[i].info.Timestamp,
				got[i-1].info.Timestamp.Sub(got[i].info.Timestamp), i-1)
		}
	}
	if len(got) != len(frames) {
		t.Fatalf("%d packets, want %d", len(got), len(frames))
	}
}

// Stopped before anything was read, a fanout group still returns every
// packet its sockets took, then io.EOF.
func TestLiveFanoutStopDrains(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := flowFrames(200)
	witness := collect(openIn(t, v, witnessConfig, ""))
	fan := openIn(t, v, Config{Interface: testutil.CaptureIf, Fanout: 3, BlockTimeout: 300 * time.Millisecond}, "udp port 53")
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	fan.Stop()
	start := time.Now()
	got := collect(fan).finish(t)
	if len(got) != len(frames) {
		t.Fatalf("%d packets after Stop, want %d", len(got), len(frames))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("draining took %v", d)
	}
	seen := map[string]bool{}
	for _, p := range got {
		seen[string(p.data)] = true
	}
	for i, f := range frames {
		if !seen[string(f)] {
			t.Fatalf("frame %d missing", i)
		}
	}
}

func TestLiveReadPacketInfoAllocatesNothing(t *testing.T) {
	for _, fanout := range []int{1, 3} {
		v := testutil.NewVeth(t)
		frames := flowFrames(400)
		src := openIn(t, v, Config{Interface: testutil.CaptureIf, BufferSize: 2 << 20, Fanout: fanout}, "")
		witness := collect(openIn(t, v, witnessConfig, ""))
		v.Inject(t, frames...)
		witness.waitCount(t, len(frames))
		witness.finish(t)
		time.Sleep(3 * testBlockTimeout) // every socket's block handed over
		var ci pcap.CaptureInfo
		if _, err := src.ReadPacketInfo(&ci); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(len(frames)-50, func() {
			if _, err := src.ReadPacketInfo(&ci); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("fanout %d: ReadPacketInfo allocates %.1f times per packet", fanout, allocs)
		}
	}
}
