package main

import (
	"fmt"
	"os"
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

// setFrames are UDP frames from sources inside and outside a set of 10,000
// networks (10.A.B.0/24 and 198.19.C.0/24), with their set file.
func setFrames(t *testing.T) (frames [][]byte, setFile string) {
	var b strings.Builder
	b.WriteString("# 10,000 networks\n")
	for i := 0; i < 9744; i++ {
		fmt.Fprintf(&b, "10.%d.%d.0/24\n", i/256, i%256)
	}
	for i := 0; i < 256; i++ {
		fmt.Fprintf(&b, "198.19.%d.0/24\n", i)
	}
	setFile = filepath.Join(t.TempDir(), "big.txt")
	if err := os.WriteFile(setFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	sources := [][4]byte{
		{10, 0, 0, 1}, {10, 38, 15, 200}, {10, 38, 16, 1}, {198, 19, 7, 7}, {198, 18, 0, 1},
		{10, 200, 1, 1}, {198, 19, 255, 254}, {192, 0, 2, 1}, {10, 37, 255, 3},
	}
	for i, src := range sources {
		f := ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(uint16(40000+i), 53, 8+i)))
		copy(f[14+12:], src[:])
		frames = append(frames, f)
	}
	return frames, setFile
}

// TestLiveSetOf10000NetworksCapturesExactlyTheMatchingFrames: XDP, tcx
// and the eBPF socket filter look a 10,000-network set up in a kernel
// map and capture exactly the frames from inside it; classic BPF refuses
// the set with the advice to use them.
func TestLiveSetOf10000NetworksCapturesExactlyTheMatchingFrames(t *testing.T) {
	v := testutil.NewVeth(t)
	frames, setFile := setFrames(t)
	const expr = "udp and src net @big"
	set, err := filter.ParseSet("big", setFile, mustOpen(t, setFile))
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string]*filter.Set{"big": set}
	prog, err := filter.Compile(expr, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, Sets: sets, SetLookups: true})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := filter.NewVMWithSets(prog, sets)
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for _, f := range frames {
		if vm.Run(f, len(f)) != 0 {
			want = append(want, f)
		}
	}
	if len(want) != 5 {
		t.Fatalf("%d frames from inside the set, want 5", len(want))
	}
	dir := t.TempDir()
	backends := []string{"--xdp", "--tc", "--ebpf"}
	witness := startLive(t, v, "-i", testutil.CaptureIf, "-c", strconv.Itoa(len(frames)), "-w", filepath.Join(dir, "witness.pcap"))
	runs := make([]*liveRun, len(backends))
	for i, b := range backends {
		runs[i] = startLive(t, v, b, "--set", "big="+setFile, "-i", testutil.CaptureIf, "-w", filepath.Join(dir, fmt.Sprintf("%d.pcap", i)), expr)
	}
	v.Inject(t, frames...)
	witness.wait(t)
	for i, b := range backends {
		if code := runs[i].stop(t); code != 0 {
			t.Fatalf("%s: exit %d:\n%s", b, code, runs[i].stderr.String())
		}
		_, got, _ := readPackets(t, filepath.Join(dir, fmt.Sprintf("%d.pcap", i)))
		samePackets(t, b+" "+expr, got, want)
	}
	r := runWeir(t, nil, "--backend", "classic", "--set", "big="+setFile, "-y", "EN10MB", "-d", expr)
	if r.code != 1 || !strings.Contains(r.stderr, "more than the 256 that classic BPF takes") || !strings.Contains(r.stderr, "--xdp") {
		t.Errorf("classic BPF with 10,000 entries: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// reloadNow does what SIGHUP does to the running capture, waiting until
// it has registered its reload.
func reloadNow(t *testing.T) {
	t.Helper()
	for range 200 {
		if f := reloader.Load(); f != nil {
			(*f)()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the capture registered no set reload")
}

// TestLiveSetReloadWithoutDetach: SIGHUP reads the set file again and
// fills the maps in place: the same XDP program stays attached, and the
// frames captured follow the new set; a set that would need other
// lookups is refused and the old one stays. The eBPF socket filter
// (--ebpf) reloads the same way.
func TestLiveSetReloadWithoutDetach(t *testing.T) {
	for _, backend := range []string{"--xdp", "--ebpf"} {
		t.Run(backend, func(t *testing.T) { testSetReload(t, backend) })
	}
}

func testSetReload(t *testing.T, backend string) {
	v := testutil.NewVeth(t)
	dir := t.TempDir()
	setFile := filepath.Join(dir, "nets.txt")
	write := func(text string) {
		if err := os.WriteFile(setFile, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("198.19.1.0/24\n")
	from := func(src [4]byte) []byte {
		f := ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(40000, 53, 8)))
		copy(f[14+12:], src[:])
		return f
	}
	a, b := from([4]byte{198, 19, 1, 5}), from([4]byte{198, 19, 2, 5})
	out := filepath.Join(dir, "out.pcap")
	r := startLive(t, v, backend, "--set", "nets="+setFile, "-i", testutil.CaptureIf, "-w", out, "-U", "udp and src net @nets")
	id := uint32(0)
	if backend == "--xdp" {
		id = v.AttachedXDPID(t)
	}
	v.Inject(t, a, b)
	time.Sleep(50 * time.Millisecond)
	write("198.19.2.0/24\n198.19.3.0/24\n")
	reloadNow(t)
	if backend == "--xdp" && v.AttachedXDPID(t) != id {
		t.Errorf("XDP program %d after the reload, %d before: it was replaced", v.AttachedXDPID(t), id)
	}
	v.Inject(t, a, b)
	time.Sleep(50 * time.Millisecond)
	write("fd00:beef::/64\n") // IPv6 only: the program looks up IPv4
	reloadNow(t)
	v.Inject(t, a, b)
	time.Sleep(50 * time.Millisecond)
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	_, got, _ := readPackets(t, out)
	samePackets(t, "frames before and after the reloads", got, [][]byte{a, b, b})
	stderr := r.stderr.String()
	for _, want := range []string{"weir: sets reloaded: @nets: 2 entries\n", "weir: sets not reloaded: the new sets need other lookups"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestLiveWatchReloadsAChangedSetFile: with --watch, a set file written
// while weir runs is read again once it stays the same, and the capture
// follows it; --stats-interval prints the counters as it goes.
func TestLiveWatchReloadsAChangedSetFile(t *testing.T) {
	v := testutil.NewVeth(t)
	setFile, frame, out := reloadFixture(t)
	r := startLive(t, v, "--xdp", "--watch", "--stats-interval", "0.3", "--set", "nets="+setFile,
		"-i", testutil.CaptureIf, "-U", "-w", out, "udp and src net @nets")
	v.Inject(t, frame) // not in the set yet
	if err := os.WriteFile(setFile, []byte("198.19.2.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.stderr.String(), "sets reloaded") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	v.Inject(t, frame)
	time.Sleep(400 * time.Millisecond)
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	_, got, _ := readPackets(t, out)
	samePackets(t, "the frame after the set file changed", got, [][]byte{frame})
	stderr := r.stderr.String()
	for _, want := range []string{"weir: sets reloaded: @nets: 1 entry\n", " received by filter, 0 dropped by kernel\n"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	r2 := runWeir(t, nil, "--watch", "-i", testutil.CaptureIf, "udp")
	if r2.code != 1 || !strings.Contains(r2.stderr, "--watch reloads sets held in kernel maps: use it with --set or --rules, and --xdp, --tc or --ebpf") {
		t.Errorf("--watch without sets: exit %d, %s", r2.code, r2.stderr)
	}
}

// TestLiveSIGHUPReloadsSets: a real SIGHUP to weir, with its sets in
// kernel maps, reloads them and the capture goes on; SIGINT then stops
// it as usual.
func TestLiveSIGHUPReloadsSets(t *testing.T) {
	v := testutil.NewVeth(t)
	setFile, frame, out := reloadFixture(t)
	c, _ := startChild(t, v, false, "--xdp", "--set", "nets="+setFile, "-i", testutil.CaptureIf, "-U", "-w", out, "udp and src net @nets")
	v.Inject(t, frame)
	if err := os.WriteFile(setFile, []byte("198.19.2.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.signal(syscall.SIGHUP)
	c.waitStderr("sets reloaded", liveTimeout)
	v.Inject(t, frame)
	time.Sleep(100 * time.Millisecond)
	c.signal(syscall.SIGINT)
	if code := c.wait(liveTimeout); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.stderr.String())
	}
	_, got, _ := readPackets(t, out)
	samePackets(t, "the frame after SIGHUP", got, [][]byte{frame})
}

// reloadFixture is a set file holding 198.19.1.0/24, a UDP frame from
// 198.19.2.5 (outside it until it changes) and an output file's name.
func reloadFixture(t *testing.T) (setFile string, frame []byte, out string) {
	dir := t.TempDir()
	setFile = filepath.Join(dir, "nets.txt")
	if err := os.WriteFile(setFile, []byte("198.19.1.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	frame = ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(40000, 53, 8)))
	copy(frame[14+12:], []byte{198, 19, 2, 5})
	return setFile, frame, filepath.Join(dir, "out.pcap")
}
