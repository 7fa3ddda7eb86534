package capture

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// openHookIn opens an eBPF capture in the fixture's capture namespace,
// compiling expr for the hook's view; Close runs at cleanup.
func openHookIn(t *testing.T, v *testutil.Veth, cfg HookConfig, expr string) *HookSource {
	t.Helper()
	src, err := tryOpenHookIn(v, cfg, expr)
	if err != nil {
		t.Fatalf("open %s on %s %q: %v", cfg.Hook, cfg.Interface, expr, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func tryOpenHookIn(v *testutil.Veth, cfg HookConfig, expr string) (*HookSource, error) {
	if cfg.Interface == "" {
		cfg.Interface = testutil.CaptureIf
	}
	if cfg.BufferSize == 0 {
		cfg.BufferSize = 1 << 20
	}
	var src *HookSource
	err := testutil.Do(v.Capture, func() error {
		if expr != "" {
			fc, err := HookFilterConfig(cfg.Interface, cfg.Hook)
			if err != nil {
				return err
			}
			fc.Snaplen = cfg.Snaplen
			if cfg.Filter, err = filter.Compile(expr, fc); err != nil {
				return err
			}
		}
		var err error
		src, err = OpenHook(cfg)
		return err
	})
	return src, err
}

var hookModes = []struct {
	name string
	cfg  HookConfig
}{
	{"xdp native", HookConfig{Hook: HookXDP, XDPMode: XDPModeNative}},
	{"xdp generic", HookConfig{Hook: HookXDP, XDPMode: XDPModeGeneric}},
	{"tcx", HookConfig{Hook: HookTCX}},
}

func TestHookCapturesEveryFrameExactly(t *testing.T) {
	for _, mode := range hookModes {
		t.Run(mode.name, func(t *testing.T) {
			v := testutil.NewVeth(t)
			frames := mixedFrames()
			c := collect(openHookIn(t, v, mode.cfg, ""))
			v.Inject(t, frames...)
			c.waitCount(t, len(frames))
			got := c.finish(t)
			comparePackets(t, mode.name, got, frames, pcap.LinkTypeEthernet)
			for i, p := range got {
				if p.info.Direction != pcap.DirectionInbound {
					t.Errorf("packet %d direction %v, want in", i, p.info.Direction)
				}
			}
			st, err := c.src.Stats()
			if err != nil || st.Received != uint64(len(frames)) || st.Dropped != 0 {
				t.Errorf("stats %+v, %v; want %d received, none dropped", st, err, len(frames))
			}
		})
	}
}

func TestTCXSeesBothDirections(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	in, out := frames[:5], frames[5:]
	both := collect(openHookIn(t, v, HookConfig{Hook: HookTCX}, ""))
	onlyOut := collect(openHookIn(t, v, HookConfig{Hook: HookTCX, Config: Config{Direction: DirectionOut}}, ""))
	v.Inject(t, in...)
	both.waitCount(t, len(in))
	v.InjectOut(t, out...)
	both.waitCount(t, len(frames))
	onlyOut.waitCount(t, len(out))
	got := both.finish(t)
	comparePackets(t, "tcx in and out", got, frames, pcap.LinkTypeEthernet)
	for i, p := range got {
		want := pcap.DirectionInbound
		if i >= len(in) {
			want = pcap.DirectionOutbound
		}
		if p.info.Direction != want {
			t.Errorf("packet %d direction %v, want %v", i, p.info.Direction, want)
		}
	}
	comparePackets(t, "tcx out", onlyOut.finish(t), out, pcap.LinkTypeEthernet)
}

func TestHookTimestampsAgreeWithAFPacket(t *testing.T) {
	for _, mode := range hookModes {
		t.Run(mode.name, func(t *testing.T) {
			v := testutil.NewVeth(t)
			frames := mixedFrames()
			witness := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, Nanoseconds: true}, ""))
			cfg := mode.cfg
			cfg.Nanoseconds = true
			src := openHookIn(t, v, cfg, "")
			for _, f := range frames {
				v.Inject(t, f)
				time.Sleep(200 * time.Microsecond) // distinct times, so an offset cannot hide
			}
			witness.waitCount(t, len(frames))
			// Read once all are in: a reader waiting for a record is woken
			// by an interrupt the kernel raises right after XDP submits it,
			// which delays the AF_PACKET stamp by microseconds.
			c := collect(src)
			c.waitCount(t, len(frames))
			want, got := witness.finish(t), c.finish(t)
			if len(got) != len(want) {
				t.Fatalf("%d packets, AF_PACKET %d", len(got), len(want))
			}
			// The first record wakes the reader up (an interrupt between the
			// two stamps): it is not compared.
			var diffs []time.Duration
			for i := 1; i < len(got); i++ {
				d := got[i].info.Timestamp.Sub(want[i].info.Timestamp).Abs()
				diffs = append(diffs, d)
				if d > 50*time.Microsecond {
					t.Errorf("packet %d: %s at %v, AF_PACKET at %v (%v apart)", i, mode.name,
						got[i].info.Timestamp.Format(time.StampNano), want[i].info.Timestamp.Format(time.StampNano), d)
				}
			}
			// A clock offset would move every difference; a busy machine
			// (other tests running) delays some stamps by microseconds.
			// So the lower quartile says whether the clocks agree.
			slices.Sort(diffs)
			if quartile := diffs[len(diffs)/4]; quartile > 3*time.Microsecond {
				t.Errorf("%s timestamps %v from AF_PACKET's (lower quartile), want within 3µs; all: %v", mode.name, quartile, diffs)
			}
			t.Logf("%s: differences from AF_PACKET %v", mode.name, diffs)
		})
	}
}

func TestHookStopDrainsTheRing(t *testing.T) {
	v := testutil.NewVeth(t)
	src := openHookIn(t, v, HookConfig{Hook: HookXDP}, "")
	frames := mixedFrames()
	v.Inject(t, frames...)
	// Nothing read yet: the frames wait in the ring.
	deadline := time.Now().Add(waitLimit)
	for {
		st, err := src.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Received == uint64(len(frames)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d packets counted, want %d", st.Received, len(frames))
		}
		time.Sleep(time.Millisecond)
	}
	src.Stop()
	v.Inject(t, frames...) // after Stop: not captured
	c := collect(src)
	comparePackets(t, "after Stop", c.finish(t), frames, pcap.LinkTypeEthernet)
}

func TestHookProgramsGoWithClose(t *testing.T) {
	v := testutil.NewVeth(t)
	xdp := openHookIn(t, v, HookConfig{Hook: HookXDP}, "")
	tcx := openHookIn(t, v, HookConfig{Hook: HookTCX}, "")
	if id := v.AttachedXDPID(t); id == 0 {
		t.Fatal("no XDP program on the interface while capturing")
	}
	if n := v.TCXPrograms(t); n != 2 {
		t.Fatalf("%d tcx programs while capturing, want 2", n)
	}
	xdp.Close()
	tcx.Close()
	if id := v.AttachedXDPID(t); id != 0 {
		t.Errorf("XDP program %d still attached after Close", id)
	}
	if n := v.TCXPrograms(t); n != 0 {
		t.Errorf("%d tcx programs after Close", n)
	}
}

func TestXDPRefusesAnInterfaceWithAnotherProgram(t *testing.T) {
	v := testutil.NewVeth(t)
	id := v.AttachOtherXDP(t)
	_, err := tryOpenHookIn(v, HookConfig{Hook: HookXDP, XDPMode: XDPModeGeneric}, "")
	if !errors.Is(err, ErrXDPBusy) {
		t.Fatalf("error %v, want ErrXDPBusy", err)
	}
	for _, want := range []string{testutil.CaptureIf, "another XDP program", "name other_xdp", "id " + strconv.Itoa(int(id))} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// hookExpressions are the live tests' expressions and a few the kernel's
// metadata cannot answer at XDP but the packet can.
var hookExpressions = append(slices.Clone(liveExpressions),
	"ip[8] = 64 or ip6[7] = 64", "ether[12:2] = 0x8100", "len >= 100 and len < 200",
	"icmp[icmptype] = icmp-echo", "ip proto \\udp and udp[2:2] = 53")

func TestTCXFiltersCaptureExactlyTheMatchingFrames(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	collectors := make([]*collector, len(hookExpressions))
	for i, expr := range hookExpressions {
		collectors[i] = collect(openHookIn(t, v, HookConfig{Hook: HookTCX}, expr))
	}
	v.Inject(t, frames...)
	for i, expr := range hookExpressions {
		// tcx sees the packet as AF_PACKET does, its outer VLAN tag
		// taken out into metadata.
		var want [][]byte
		for _, f := range frames {
			if liveMatch(t, expr, f) {
				want = append(want, f)
			}
		}
		collectors[i].waitCount(t, len(want))
		comparePackets(t, "tcx "+expr, collectors[i].finish(t), want, pcap.LinkTypeEthernet)
	}
}

func TestXDPFiltersCaptureExactlyTheMatchingFrames(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	// An interface holds one XDP program: one expression after the other,
	// with a witness telling when every frame went by.
	witness := collect(openIn(t, v, witnessConfig, ""))
	for i, expr := range hookExpressions {
		src := openHookIn(t, v, HookConfig{Hook: HookXDP}, expr)
		c := collect(src)
		v.Inject(t, frames...)
		witness.waitCount(t, (i+1)*len(frames))
		// XDP sees the frame as sent.
		var want [][]byte
		for _, f := range frames {
			if offlineMatch(t, expr, pcap.LinkTypeEthernet, f) {
				want = append(want, f)
			}
		}
		c.waitCount(t, len(want))
		comparePackets(t, "xdp "+expr, c.finish(t), want, pcap.LinkTypeEthernet)
		src.Close()
	}
	witness.finish(t)
}

func TestXDPRefusesKernelMetadata(t *testing.T) {
	v := testutil.NewVeth(t)
	_, err := tryOpenHookIn(v, HookConfig{Hook: HookXDP}, "inbound")
	if err == nil || !strings.Contains(err.Error(), "not available at XDP") {
		t.Fatalf("inbound at XDP: error %v", err)
	}
	if id := v.AttachedXDPID(t); id != 0 {
		t.Errorf("XDP program %d left attached after the error", id)
	}
}

func TestHookCountsDropsWhenTheRingIsFull(t *testing.T) {
	v := testutil.NewVeth(t)
	// A ring of 16 KiB holds ten records of a 1500-byte snap length.
	src := openHookIn(t, v, HookConfig{Hook: HookXDP, Config: Config{Snaplen: 1500, BufferSize: 16 << 10}}, "")
	frame := mixedFrames()[8] // 1000 bytes of UDP payload
	const sent = 40
	for range sent {
		v.Inject(t, frame)
	}
	var st Stats
	deadline := time.Now().Add(waitLimit)
	for st.Received < sent && time.Now().Before(deadline) {
		var err error
		if st, err = src.Stats(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	c := collect(src)
	got := c.finish(t)
	if st.Received != sent || st.Dropped == 0 || st.Dropped+uint64(len(got)) != sent {
		t.Errorf("stats %+v and %d packets read, of %d sent", st, len(got), sent)
	}
	for i, p := range got {
		if !bytes.Equal(p.data, frame) {
			t.Fatalf("packet %d differs", i)
		}
	}
}

// An idle capture stops polling: once a poll found nothing it gives the
// ring back and sleeps until the programs wake it, which the first
// record into the emptied ring does. If that wake-up were lost, the
// second frame would never be read.
func TestHookIdleReaderIsWokenByTheNextRecord(t *testing.T) {
	for _, mode := range []struct {
		name string
		cfg  HookConfig
	}{hookModes[0], hookModes[2]} {
		t.Run(mode.name, func(t *testing.T) {
			v := testutil.NewVeth(t)
			frames := mixedFrames()
			src := openHookIn(t, v, mode.cfg, "")
			if src.poll <= 0 {
				t.Fatalf("poll interval %v: the reader is woken per packet, not batched", src.poll)
			}
			c := collect(src)
			v.Inject(t, frames[0])
			c.waitCount(t, 1)
			consumer, producer := src.ring.consumer, src.ring.producer
			if atomic.LoadUint64(consumer) == atomic.LoadUint64(producer) {
				t.Error("the reader gave the ring back while polling: each record would wake it")
			}
			deadline := time.Now().Add(src.poll*2 + waitLimit)
			for atomic.LoadUint64(consumer) != atomic.LoadUint64(producer) {
				if time.Now().After(deadline) {
					t.Fatalf("the reader still holds the ring back (consumer %d, producer %d) after %v idle",
						atomic.LoadUint64(consumer), atomic.LoadUint64(producer), src.poll*2+waitLimit)
				}
				time.Sleep(10 * time.Millisecond)
			}
			v.Inject(t, frames[1])
			c.waitCount(t, 2)
			comparePackets(t, mode.name, c.finish(t), frames[:2], pcap.LinkTypeEthernet)
		})
	}
}
