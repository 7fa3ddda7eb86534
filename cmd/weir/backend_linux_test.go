package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// xdpMatching is what an expression keeps of frames at XDP: the frame as
// sent, VLAN tags in it, as offline.
func xdpMatching(t *testing.T, expr string, frames [][]byte) [][]byte {
	t.Helper()
	prog, err := filter.Compile(expr, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
	if err != nil {
		t.Fatalf("compile %q: %v", expr, err)
	}
	var keep [][]byte
	for _, f := range frames {
		if filter.Run(prog, f, len(f)) != 0 {
			keep = append(keep, f)
		}
	}
	return keep
}

// tcx captures side by side, with the AF_PACKET semantics of VLAN tags.
func TestLiveTCFileHoldsExactlyTheMatchingFrames(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := liveFrames()
	dir := t.TempDir()
	witness := startLive(t, v, "-i", testutil.CaptureIf, "-c", strconv.Itoa(len(frames)), "-w", filepath.Join(dir, "witness.pcap"))
	runs := make([]*liveRun, len(liveTable))
	for i, expr := range liveTable {
		runs[i] = startLive(t, v, "--tc", "-i", testutil.CaptureIf, "-w", filepath.Join(dir, fmt.Sprintf("%d.pcap", i)), expr)
	}
	v.Inject(t, frames...)
	if code := witness.wait(t); code != 0 {
		t.Fatalf("witness exit %d:\n%s", code, witness.stderr.String())
	}
	for i, expr := range liveTable {
		if code := runs[i].stop(t); code != 0 {
			t.Errorf("%q: exit %d:\n%s", expr, code, runs[i].stderr.String())
			continue
		}
		want := matching(t, expr, frames)
		_, got, _ := readPackets(t, filepath.Join(dir, fmt.Sprintf("%d.pcap", i)))
		samePackets(t, fmt.Sprintf("--tc %q", expr), got, want)
		if stderr := runs[i].stderr.String(); !strings.Contains(stderr,
			fmt.Sprintf("%d packet%s captured\n%[1]d packet%[2]s received by filter\n0 packets dropped by kernel\n", len(want), plural(len(want)))) {
			t.Errorf("--tc %q: stderr\n%s", expr, stderr)
		}
	}
}

// An interface holds one XDP program: expressions one after the other,
// each run ended by -c or, for those keeping nothing, by a signal once a
// witness saw every frame.
func TestLiveXDPFileHoldsExactlyTheMatchingFrames(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := liveFrames()
	dir := t.TempDir()
	for i, expr := range []string{"", "udp port 53", "vlan 10", "vlan and udp port 53", "not udp", "greater 200", "ether broadcast"} {
		for _, mode := range []string{"native", "generic"} {
			want := xdpMatching(t, expr, frames)
			out := filepath.Join(dir, fmt.Sprintf("%d-%s.pcap", i, mode))
			witness := startLive(t, v, "-i", testutil.CaptureIf, "-c", strconv.Itoa(len(frames)), "-w", filepath.Join(dir, "witness.pcap"))
			r := startLive(t, v, "--xdp", "--xdp-mode", mode, "-i", testutil.CaptureIf, "-w", out, expr)
			v.Inject(t, frames...)
			witness.wait(t)
			if code := r.stop(t); code != 0 {
				t.Fatalf("--xdp %q: exit %d:\n%s", expr, code, r.stderr.String())
			}
			_, got, _ := readPackets(t, out)
			samePackets(t, fmt.Sprintf("--xdp-mode %s %q", mode, expr), got, want)
		}
	}
}

// --tc sees both directions and records them in the pcapng packet flags.
func TestLiveTCWritesDirectionsToPcapng(t *testing.T) {
	v := testutil.NewVeth(t)
	in := ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(1000, 1001, 8)))
	out := ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(2000, 2001, 8)))
	file := filepath.Join(t.TempDir(), "dir.pcapng")
	r := startLive(t, v, "--tc", "-i", testutil.CaptureIf, "-c", "2", "-w", file, "udp")
	v.Inject(t, in)
	v.InjectOut(t, out)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	tsharkReads(t, file)
	_, got, infos := readPackets(t, file)
	samePackets(t, "--tc", got, [][]byte{in, out})
	if len(infos) == 2 && (infos[0].Direction != pcap.DirectionInbound || infos[1].Direction != pcap.DirectionOutbound) {
		t.Errorf("directions %v, %v; want in, out", infos[0].Direction, infos[1].Direction)
	}
}

// eventually polls cond for a while: the kernel frees a dead process's
// links as its descriptors close.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// The programs are attached through BPF links: they go when weir exits,
// on a signal or killed.
func TestLiveEBPFProgramsGoWhenWeirEnds(t *testing.T) {
	v := testutil.NewVeth(t)
	attached := map[string]func() bool{
		"--xdp": func() bool { return v.AttachedXDPID(t) != 0 },
		"--tc":  func() bool { return v.TCXPrograms(t) == 2 },
	}
	for _, flag := range []string{"--xdp", "--tc"} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
			c, _ := startChild(t, v, false, flag, "-i", testutil.CaptureIf, "-w", filepath.Join(t.TempDir(), "x.pcap"), "udp")
			if !attached[flag]() {
				t.Fatalf("%s: no program attached while capturing", flag)
			}
			c.signal(sig)
			code := c.wait(liveTimeout)
			if sig == syscall.SIGINT && code != 0 {
				t.Errorf("%s: exit %d after SIGINT:\n%s", flag, code, c.stderr.String())
			}
			if !eventually(func() bool { return !attached[flag]() && v.AttachedXDPID(t) == 0 && v.TCXPrograms(t) == 0 }) {
				t.Errorf("%s: program still attached after %v", flag, sig)
			}
		}
	}
}

// Another XDP program on the interface: --xdp fails naming it; auto falls
// back to AF_PACKET with an eBPF filter, saying why.
func TestLiveXDPBusyInterface(t *testing.T) {
	v := testutil.NewVeth(t)
	v.AttachOtherXDP(t)
	var code int
	var stderr syncBuffer
	testutil.Do(v.Capture, func() error {
		code = run(t.Context(), []string{"--xdp", "-i", testutil.CaptureIf, "-w", filepath.Join(t.TempDir(), "x.pcap")}, nil, &syncBuffer{}, &stderr, hostSystem{})
		return nil
	})
	if code != 1 || !strings.Contains(stderr.String(), "another XDP program is attached") || !strings.Contains(stderr.String(), "name other_xdp") {
		t.Errorf("--xdp on a busy interface: exit %d:\n%s", code, stderr.String())
	}

	frames := liveFrames()[:3]
	out := filepath.Join(t.TempDir(), "auto.pcap")
	r := startLive(t, v, "--backend", "auto", "-Q", "in", "-i", testutil.CaptureIf, "-c", "3", "-w", out)
	if !strings.Contains(r.stderr.String(), "warning: XDP capture unavailable: "+testutil.CaptureIf+": another XDP program is attached") ||
		!strings.Contains(r.stderr.String(), "trying AF_PACKET with an eBPF filter") {
		t.Errorf("auto: stderr\n%s", r.stderr.String())
	}
	v.Inject(t, frames...)
	if code := r.wait(t); code != 0 {
		t.Fatalf("auto: exit %d:\n%s", code, r.stderr.String())
	}
	_, got, _ := readPackets(t, out)
	samePackets(t, "auto", got, frames)
}

// --ebpf attaches the filter as an eBPF socket filter: the same captures
// as the classic one.
func TestLiveEBPFSocketFilter(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := liveFrames()
	dir := t.TempDir()
	exprs := []string{"udp port 53", "vlan 10", "not udp", "tcp port 80 or udp port 5353"}
	witness := startLive(t, v, "-i", testutil.CaptureIf, "-c", strconv.Itoa(len(frames)), "-w", filepath.Join(dir, "witness.pcap"))
	runs := make([]*liveRun, len(exprs))
	for i, expr := range exprs {
		runs[i] = startLive(t, v, "--ebpf", "-i", testutil.CaptureIf, "-w", filepath.Join(dir, fmt.Sprintf("%d.pcap", i)), expr)
	}
	v.Inject(t, frames...)
	witness.wait(t)
	for i, expr := range exprs {
		if code := runs[i].stop(t); code != 0 {
			t.Fatalf("--ebpf %q: exit %d:\n%s", expr, code, runs[i].stderr.String())
		}
		_, got, _ := readPackets(t, filepath.Join(dir, fmt.Sprintf("%d.pcap", i)))
		samePackets(t, fmt.Sprintf("--ebpf %q", expr), got, matching(t, expr, frames))
	}
}
