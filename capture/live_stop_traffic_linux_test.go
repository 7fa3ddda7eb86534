package capture

import (
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
)

// Stop while frames still arrive: every frame the kernel counted as
// received by the filter (and not dropped) is read before io.EOF, and
// none is counted after Stop, so the "packets captured" and "received
// by filter" lines agree. A frame in flight at Stop that landed after the
// last block was read, or a socket still taking frames after Stop, would
// be counted and not read.
func TestLiveStopDuringTrafficReadsAllTheKernelCounted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fanout int
	}{{"socket", 1}, {"fanout", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			stopDuringTraffic(t, Config{Interface: testutil.CaptureIf, Fanout: tc.fanout, BlockTimeout: time.Millisecond})
		})
	}
}

func stopDuringTraffic(t *testing.T, cfg Config) {
	v := testutil.NewVeth(t)
	frames := flowFrames(64)
	c := collect(openIn(t, v, cfg, "udp port 53"))
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		deadline := time.Now().Add(waitLimit)
		for c.count() < 500 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		c.src.Stop()
	}()
	// Send until a while after Stop, bounded in count.
	sent, after := 0, 0
	for sent < 200_000 && after < 20 {
		select {
		case <-stopped:
			after++
		default:
		}
		v.Inject(t, frames...)
		sent += len(frames)
	}
	got := c.finish(t)
	st, err := c.src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if after == 0 {
		t.Fatalf("%d frames sent, none after Stop", sent)
	}
	if len(got) < 500 {
		t.Fatalf("%d packets read of %d sent", len(got), sent)
	}
	// Received counts the frames dropped for want of ring space too.
	if st.Received-st.Dropped != uint64(len(got)) {
		t.Errorf("%d packets read, kernel stats %+v: want received less dropped (%d sent)", len(got), st, sent)
	}
}
