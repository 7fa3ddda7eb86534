package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
)

// A filter the kernel refuses (protochain's backward jumps) runs in user
// space: weir warns, as tcpdump does, and still writes exactly the
// matching frames.
func TestLiveFilterRefusedByTheKernelRunsInUserSpace(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := liveFrames()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.pcap")
	const expr = "ip protochain 17 or ip protochain 1"
	witness := startLive(t, v, "-i", testutil.CaptureIf, "-c", strconv.Itoa(len(frames)), "-w", filepath.Join(dir, "all.pcap"))
	run := startLive(t, v, "-i", testutil.CaptureIf, "-w", out, expr)
	v.Inject(t, frames...)
	want := matching(t, expr, frames)
	if len(want) < 2 {
		t.Fatalf("%d test frames match, want several", len(want))
	}
	if code := witness.wait(t); code != 0 {
		t.Fatalf("witness exit %d:\n%s", code, witness.stderr.String())
	}
	if code := run.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, run.stderr.String())
	}
	_, got, _ := readPackets(t, out)
	samePackets(t, expr, got, want)
	stderr := run.stderr.String()
	warning := "weir: warning: " + testutil.CaptureIf + ": the kernel refused the filter of "
	if i, j := strings.Index(stderr, warning), strings.Index(stderr, listening); i < 0 || j < i ||
		!strings.Contains(stderr[i:j], "invalid argument): filtering in user space\n") {
		t.Errorf("stderr, want the warning before listening:\n%s", stderr)
	}
}
