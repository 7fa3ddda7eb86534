package capture

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// tcpdumpRun is tcpdump capturing live in the capture namespace.
type tcpdumpRun struct {
	expr string
	file string
	cmd  *exec.Cmd
	ln   chan struct{} // closed once tcpdump says it is listening
}

// startTcpdump runs tcpdump on iface in the capture namespace, writing
// what expr matches to a file, and waits until it listens.
func startTcpdump(t *testing.T, v *testutil.Veth, tcpdump, iface, expr string) *tcpdumpRun {
	t.Helper()
	// A duplicate: the os.File closes its descriptor when collected.
	nsFd, err := unix.Dup(int(v.Capture))
	if err != nil {
		t.Fatal(err)
	}
	ns := os.NewFile(uintptr(nsFd), "netns")
	defer ns.Close()
	run := &tcpdumpRun{expr: expr, file: filepath.Join(t.TempDir(), "out.pcap"), ln: make(chan struct{})}
	run.cmd = exec.Command("nsenter", "--net=/proc/self/fd/3", tcpdump,
		"-i", iface, "--immediate-mode", "-U", "-Z", "root", "-w", run.file, expr)
	run.cmd.ExtraFiles = []*os.File{ns}
	stderr, err := run.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := run.cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	t.Cleanup(func() {
		if run.cmd.ProcessState == nil {
			run.cmd.Process.Kill()
			run.cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(run.ln)
				io.Copy(io.Discard, stderr)
				return
			}
		}
	}()
	select {
	case <-run.ln:
	case <-time.After(waitLimit):
		t.Fatalf("tcpdump %q never started listening", expr)
	}
	return run
}

// written reads the frames tcpdump has written so far; with -U it writes
// each packet whole, and a record cut short is not counted.
func (r *tcpdumpRun) written(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open(r.file)
	if err != nil {
		return nil
	}
	defer f.Close()
	rd, err := pcap.NewReader(f)
	if err != nil {
		return nil
	}
	var frames [][]byte
	for {
		data, _, err := rd.ReadPacket()
		if err != nil {
			return frames
		}
		frames = append(frames, append([]byte(nil), data...))
	}
}

// stop waits (a while) until tcpdump has written at least n frames,
// interrupts it and returns the frames it wrote.
func (r *tcpdumpRun) stop(t *testing.T, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for len(r.written(t)) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // and any it would write beyond n
	r.cmd.Process.Signal(os.Interrupt)
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("tcpdump %q: %v", r.expr, err)
	}
	return r.written(t)
}

// TestLiveMatchesTcpdump runs tcpdump beside weir on the same interface
// and frames: libpcap's live captures are the reference, VLAN tags and
// LINUX_SLL2 headers included.
func TestLiveMatchesTcpdump(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	cases := []struct{ iface, expr string }{
		{testutil.CaptureIf, ""},
		{testutil.CaptureIf, "udp"},
		{testutil.CaptureIf, "not vlan"},
		{testutil.CaptureIf, "vlan and udp port 53"},
		{testutil.CaptureIf, "ip6 or vlan 200"},
		{testutil.CaptureIf, "vlan 300 and vlan 400"},
		{testutil.CaptureIf, "tcp port 80 or arp"},
		{AnyInterface, "udp or arp"},
		{AnyInterface, "inbound and ip6"},
	}
	witness := collect(openIn(t, v, witnessConfig, ""))
	runs := make([]*tcpdumpRun, len(cases))
	ours := make([]*collector, len(cases))
	for i, c := range cases {
		runs[i] = startTcpdump(t, v, tcpdump, c.iface, c.expr)
		ours[i] = collect(openIn(t, v, Config{Interface: c.iface, Promiscuous: true}, c.expr))
	}
	// No loopback traffic: tcpdump 4.99.3 here misses some of lo's
	// packets (TestLiveLoopbackIsEthernet checks weir shows each once).
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	for i, c := range cases {
		got := ours[i].finish(t)
		want := runs[i].stop(t, len(got))
		label := c.iface + " " + c.expr
		if c.iface == AnyInterface {
			// libpcap copies the address bytes past its length as the
			// kernel left them; weir zeroes them.
			for _, w := range want {
				clear(w[12+int(w[11]) : 20])
			}
		}
		if len(want) == 0 {
			t.Errorf("%s: tcpdump captured nothing: the case proves nothing", label)
		}
		comparePackets(t, label, got, want, map[bool]pcap.LinkType{true: pcap.LinkTypeLinuxSLL2, false: pcap.LinkTypeEthernet}[c.iface == AnyInterface])
	}
}
