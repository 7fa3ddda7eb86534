package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// result is what one run of the command produced.
type result struct {
	code           int
	stdout, stderr string
}

func runWeir(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	return runWeirContext(t.Context(), stdin, args...)
}

func runWeirContext(ctx context.Context, stdin io.Reader, args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, stdin, &stdout, &stderr, hostSystem{})
	return result{code, stdout.String(), stderr.String()}
}

// readCapture reads every packet of a pcap file back.
func readCapture(t *testing.T, data []byte) (*pcap.Reader, [][]byte) {
	t.Helper()
	r, err := pcap.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not a capture file: %v", err)
	}
	var packets [][]byte
	for {
		p, _, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return r, packets
		}
		if err != nil {
			t.Fatalf("reading output: %v", err)
		}
		packets = append(packets, bytes.Clone(p))
	}
}

func startLine(name string) string {
	return "reading from file " + name + ", link-type EN10MB (Ethernet), snapshot length 262144\n"
}

func TestRunHelpAndVersion(t *testing.T) {
	r := runWeir(t, nil, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage: weir") || r.stderr != "" {
		t.Errorf("--help: %+v", r)
	}
	r = runWeir(t, nil, "-h")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage: weir") {
		t.Errorf("-h: %+v", r)
	}
	r = runWeir(t, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "weir version ") || r.stderr != "" {
		t.Errorf("--version: %+v", r)
	}
}

func TestRunOptionErrors(t *testing.T) {
	r := runWeir(t, nil, "-k")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "weir: invalid option -- 'k'\n") || !strings.Contains(r.stderr, "Usage: weir") {
		t.Errorf("unknown option: %+v", r)
	}
	r = runWeir(t, nil, "-I", "-i", "eth0", "tcp")
	if r.code != 1 || r.stderr != "weir: -I: monitor mode is not supported\n" || r.stdout != "" {
		t.Errorf("-I: %+v", r)
	}
	r = runWeir(t, nil, "-c", "0", "-r", "x")
	if r.code != 1 || r.stderr != "weir: invalid packet count 0\n" {
		t.Errorf("-c 0: %+v", r)
	}
}

func TestRunMissingInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "in.pcap")
	out := filepath.Join(t.TempDir(), "out.pcap")
	r := runWeir(t, nil, "-r", missing, "-w", out)
	if want := "weir: " + missing + ": No such file or directory\n"; r.code != 1 || r.stderr != want {
		t.Errorf("got %+v, want stderr %q", r, want)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output file created for a missing input: %v", err)
	}
}

func TestRunMissingFilterFile(t *testing.T) {
	r := runWeir(t, nil, "-F", "/nonexistent/f.txt", "-d")
	if r.code != 1 || r.stderr != "weir: can't open /nonexistent/f.txt: No such file or directory\n" {
		t.Errorf("%+v", r)
	}
}

func TestRunPrintsPacketsAndSummary(t *testing.T) {
	path := writeCapture(t, pcap.LinkTypeEthernet,
		ethernetFrame(0x0800, tcpV4), ethernetFrame(0x0806, arpPacket(1)))
	r := runWeir(t, nil, "-nr", path)
	want := clockAt(0, false) + " " + tcpText + "\n" +
		clockAt(1, false) + " ARP, Request who-has 198.18.0.2 tell 198.18.0.1, length 28\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout\n%s\nwant\n%s", r.code, r.stdout, want)
	}
	wantErr := startLine(path) + "2 packets captured\n2 packets received by filter\n"
	if r.stderr != wantErr {
		t.Errorf("stderr\n%s\nwant\n%s", r.stderr, wantErr)
	}
}

func TestRunNanosecondTimestamps(t *testing.T) {
	data := captureBytes(t, pcap.LinkTypeRaw, true, tcpV4)
	r := runWeir(t, bytes.NewReader(data), "-r", "-")
	if want := clockAt(0, true) + " " + tcpText + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q (stderr %q)", r.stdout, want, r.stderr)
	}
}

// -r - and -w - with an empty expression copy the capture unchanged.
func TestRunStdinToStdout(t *testing.T) {
	for _, nanos := range []bool{false, true} {
		in := captureBytes(t, pcap.LinkTypeLinuxSLL2, nanos,
			sll2Frame(0x0800, 1, 0, tcpV4), sll2Frame(0x86dd, 2, 4, pingV6))
		r := runWeir(t, bytes.NewReader(in), "-r", "-", "-w", "-")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if !bytes.Equal([]byte(r.stdout), in) {
			t.Errorf("nanos=%v: output differs from input:\n% x\n% x", nanos, r.stdout, in)
		}
		wantErr := "reading from file -, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144\n" +
			"2 packets captured\n2 packets received by filter\n"
		if r.stderr != wantErr {
			t.Errorf("stderr %q, want %q", r.stderr, wantErr)
		}
	}
}

// --time-stamp-precision sets the output's precision whatever the input's.
func TestRunTimestampPrecisionOption(t *testing.T) {
	packets := [][]byte{ethernetFrame(0x0800, tcpV4), ethernetFrame(0x0800, udpV4)}
	nano := captureBytes(t, pcap.LinkTypeEthernet, true, packets...)
	micro := captureBytes(t, pcap.LinkTypeEthernet, false, packets...)
	r := runWeir(t, bytes.NewReader(nano), "-r", "-", "--micro", "-w", "-")
	if r.code != 0 || r.stdout != string(micro) {
		t.Errorf("nano file with --micro: exit %d, output\n% x\nwant\n% x", r.code, r.stdout, micro)
	}
	r = runWeir(t, bytes.NewReader(micro), "-r", "-", "--time-stamp-precision=nano", "-w", "-")
	out, err := pcap.NewReader(strings.NewReader(r.stdout))
	if err != nil || !out.Nanoseconds() {
		t.Fatalf("micro file with --nano: not a nanosecond file (%v)", err)
	}
	_, ci, err := out.ReadPacket()
	if want := testTime.Truncate(time.Microsecond); err != nil || !ci.Timestamp.Equal(want) {
		t.Errorf("first timestamp %v (%v), want %v", ci.Timestamp, err, want)
	}
	r = runWeir(t, bytes.NewReader(micro), "-r", "-", "--nano", "-c1")
	if want := clockAt(0, true)[:15] + "000 "; r.code != 0 || !strings.HasPrefix(r.stdout, want) {
		t.Errorf("printed %q, want prefix %q", r.stdout, want)
	}
}

func TestRunCountLimit(t *testing.T) {
	var packets [][]byte
	for i := 0; i < 5; i++ {
		packets = append(packets, ethernetFrame(0x0800, udpV4))
	}
	path := writeCapture(t, pcap.LinkTypeEthernet, packets...)
	r := runWeir(t, nil, "-c2", "-r", path)
	if got := strings.Count(r.stdout, "\n"); r.code != 0 || got != 2 {
		t.Errorf("printed %d lines, exit %d, want 2 lines", got, r.code)
	}
	if !strings.HasSuffix(r.stderr, "2 packets captured\n2 packets received by filter\n") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = runWeir(t, nil, "--count", "-r", path)
	if r.code != 0 || r.stdout != "5 packets\n" {
		t.Errorf("--count: %+v", r)
	}
}

// A truncated record: the packets before it are written and the file is
// valid; the error names the file and the offset.
func TestRunTruncatedInput(t *testing.T) {
	frame := ethernetFrame(0x0800, tcpV4)
	full := captureBytes(t, pcap.LinkTypeEthernet, false, frame, frame, frame)
	in := writeTempFile(t, "in.pcap", string(full[:len(full)-10]))
	out := filepath.Join(t.TempDir(), "out.pcap")
	r := runWeir(t, nil, "-r", in, "-w", out)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	badOffset := 24 + 2*(16+len(frame))
	wantErr := fmt.Sprintf("weir: %s: offset %d: ", in, badOffset)
	if !strings.Contains(r.stderr, wantErr) {
		t.Errorf("stderr %q does not contain %q", r.stderr, wantErr)
	}
	if !strings.HasSuffix(r.stderr, "2 packets captured\n2 packets received by filter\n") {
		t.Errorf("stderr %q lacks the summary", r.stderr)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, packets := readCapture(t, written); len(packets) != 2 {
		t.Errorf("output holds %d packets, want 2", len(packets))
	}
}

func TestRunWriteError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	in := writeCapture(t, pcap.LinkTypeEthernet, ethernetFrame(0x0800, tcpV4))
	r := runWeir(t, nil, "-r", in, "-w", "/dev/full")
	if r.code != 1 || !strings.Contains(r.stderr, "weir: /dev/full: No space left on device\n") {
		t.Errorf("%+v", r)
	}
}

func TestRunCancelledKeepsOutputValid(t *testing.T) {
	in := writeCapture(t, pcap.LinkTypeEthernet, ethernetFrame(0x0800, tcpV4), ethernetFrame(0x0800, tcpV4))
	out := filepath.Join(t.TempDir(), "out.pcap")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := runWeirContext(ctx, nil, "-r", in, "-w", out)
	if r.code != 0 || !strings.HasSuffix(r.stderr, "0 packets captured\n0 packets received by filter\n") {
		t.Errorf("%+v", r)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if reader, packets := readCapture(t, written); len(packets) != 0 || reader.LinkType() != pcap.LinkTypeEthernet {
		t.Errorf("output: %d packets, link type %v", len(packets), reader.LinkType())
	}
}

// The tests below need the filter compiler and VM.

func TestRunFilterSelectsPackets(t *testing.T) {
	path := writeCapture(t, pcap.LinkTypeEthernet,
		ethernetFrame(0x0800, tcpV4), ethernetFrame(0x0800, udpV4), ethernetFrame(0x0806, arpPacket(1)))
	out := filepath.Join(t.TempDir(), "out.pcap")
	r := runWeir(t, nil, "-r", path, "-w", out, "udp", "or", "arp")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if want := startLine(path) + "2 packets captured\n3 packets received by filter\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, packets := readCapture(t, written); len(packets) != 2 || packets[0][23] != protoUDP {
		t.Errorf("output holds %d packets, want the UDP one and the ARP one", len(packets))
	}
}

func TestRunFilterErrorCreatesNoOutput(t *testing.T) {
	in := writeCapture(t, pcap.LinkTypeEthernet, ethernetFrame(0x0800, tcpV4))
	out := filepath.Join(t.TempDir(), "out.pcap")
	r := runWeir(t, nil, "-r", in, "-w", out, "tcp", "port")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[1], "weir: filter: ") ||
		lines[len(lines)-2] != "tcp port" || strings.TrimLeft(lines[len(lines)-1], " ") != "^" {
		t.Errorf("stderr does not show the error with a caret:\n%s", r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output file exists after a filter error: %v", err)
	}
}

func TestRunDumpFormats(t *testing.T) {
	asm := runWeir(t, nil, "-d", "-y", "EN10MB", "tcp")
	if asm.code != 0 || !strings.HasPrefix(asm.stdout, "(000) ldh      [12]\n") || asm.stderr != "" {
		t.Errorf("-d: %+v", asm)
	}
	c := runWeir(t, nil, "-dd", "-y", "EN10MB", "tcp")
	if c.code != 0 || !strings.HasPrefix(c.stdout, "{ 0x28, 0, 0, 0x0000000c },\n") {
		t.Errorf("-dd: %+v", c)
	}
	decimal := runWeir(t, nil, "-ddd", "-y", "EN10MB", "tcp")
	first, _, _ := strings.Cut(decimal.stdout, "\n")
	if want := fmt.Sprint(strings.Count(asm.stdout, "\n")); decimal.code != 0 || first != want {
		t.Errorf("-ddd: first line %q, want the instruction count %s", first, want)
	}
	noY := runWeir(t, nil, "-d", "tcp")
	if noY.stderr != "Warning: assuming Ethernet\n" || noY.stdout != asm.stdout {
		t.Errorf("-d without -y: %+v", noY)
	}
}

// With -r, the file's link type and snap length are compiled for, as tcpdump
// does; -y is then ignored.
func TestRunDumpUsesFileLinkType(t *testing.T) {
	in := writeCapture(t, pcap.LinkTypeRaw, tcpV4)
	fromFile := runWeir(t, nil, "-y", "EN10MB", "-r", in, "-d", "ip")
	fromY := runWeir(t, nil, "-y", "RAW", "-d", "ip")
	if fromFile.code != 0 || fromFile.stdout != fromY.stdout {
		t.Errorf("-r RAW file -d:\n%s\n-y RAW -d:\n%s", fromFile.stdout, fromY.stdout)
	}
	if !strings.HasPrefix(fromFile.stderr, "reading from file "+in+", link-type RAW (Raw IP)") {
		t.Errorf("stderr %q", fromFile.stderr)
	}
}

func TestRunFilterFile(t *testing.T) {
	file := writeTempFile(t, "filter.txt", "tcp # web\n and port 80 # only that\n")
	fromFile := runWeir(t, nil, "-F", file, "-y", "EN10MB", "-d")
	fromArgs := runWeir(t, nil, "-y", "EN10MB", "-d", "tcp and port 80")
	if fromFile.code != 0 || fromFile.stdout != fromArgs.stdout || fromFile.stdout == "" {
		t.Errorf("-F:\n%s%s\nargs:\n%s", fromFile.stdout, fromFile.stderr, fromArgs.stdout)
	}
	ignored := runWeir(t, nil, "-F", file, "-y", "EN10MB", "-d", "udp")
	if ignored.stdout != fromArgs.stdout || !strings.Contains(ignored.stderr, "WARNING: -F given; ignoring command-line expression \"udp\"") {
		t.Errorf("-F with arguments: %+v", ignored)
	}
}

func TestRunDumpMatchesTcpdump(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	// Unoptimized programs are libpcap's instruction for instruction; the
	// optimized ones are weir's own, so only -O is compared here.
	for _, args := range [][]string{
		{"-d", "-O", "-y", "EN10MB", "tcp port 80"},
		{"-dd", "-O", "-y", "LINUX_SLL2", "-s", "100", "udp"},
		{"-ddd", "-O", "-y", "RAW", "ip6"},
	} {
		want, err := exec.Command(tcpdump, args...).Output()
		if err != nil {
			t.Fatalf("tcpdump %q: %v", args, err)
		}
		if r := runWeir(t, nil, args...); r.stdout != string(want) {
			t.Errorf("weir %q:\n%s\ntcpdump:\n%s", args, r.stdout, want)
		}
	}
}
