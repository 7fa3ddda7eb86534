package pcap

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
)

// tsharkFields are what both tshark and our listing print per packet.
var tsharkFields = []string{"frame.interface_id", "frame.time_epoch", "frame.len", "frame.cap_len", "frame.md5_hash"}

// tsharkListing is Wireshark's view of a capture file: one line per
// packet with the fields above.
func tsharkListing(t *testing.T, tshark, file string) string {
	t.Helper()
	args := []string{"-o", "frame.generate_md5_hash:TRUE", "-r", file, "-T", "fields"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	return run(t, tshark, args...)
}

// ourListing prints our reading of file like tsharkListing (tshark leaves
// the interface empty for classic pcap files).
func ourListing(t *testing.T, file []byte) string {
	t.Helper()
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for {
		data, ci, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		iface := ""
		if r.Format() == "pcapng" {
			iface = fmt.Sprint(ci.InterfaceIndex)
		}
		fmt.Fprintf(&out, "%s\t%d.%09d\t%d\t%d\t%x\n", iface, ci.Timestamp.Unix(), ci.Timestamp.Nanosecond(),
			ci.Length, ci.CaptureLength, md5.Sum(data))
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// writeCapture writes packets with our Writer into dir/name.
func writeCapture(t *testing.T, dir, name string, h FileHeader, packets []wantPacket) (string, []wantPacket) {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, h)
	if err != nil {
		t.Fatal(err)
	}
	var want []wantPacket
	for _, p := range packets {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
		want = append(want, expectRead(p, w.Header()))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, want
}

// TestWiresharkReadsOurFiles: what our Writer writes, Wireshark reads as
// the same packets with the same timestamps, link type and snap length.
func TestWiresharkReadsOurFiles(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark", "tshark")
	capinfos := testutil.RequireTool(t, "capinfos", "wireshark-common")
	dir := t.TempDir()
	for _, tc := range []struct {
		header        FileHeader
		encapsulation string // capinfos's short name
	}{
		{FileHeader{LinkType: LinkTypeEthernet}, "ether"},
		{FileHeader{LinkType: LinkTypeRaw, Nanoseconds: true}, "rawip"},
		{FileHeader{LinkType: LinkTypeLinuxSLL2, Snaplen: 128}, "linux-sll2"},
	} {
		t.Run(tc.header.LinkType.Name(), func(t *testing.T) {
			t.Parallel() // tshark starts slowly
			path, want := writeCapture(t, dir, tc.header.LinkType.Name()+".pcap", tc.header, writtenPackets(40))
			var listing strings.Builder
			for _, p := range want {
				fmt.Fprintf(&listing, "\t%d.%09d\t%d\t%d\t%x\n", p.ci.Timestamp.Unix(), p.ci.Timestamp.Nanosecond(),
					p.ci.Length, p.ci.CaptureLength, md5.Sum(p.data))
			}
			if got := tsharkListing(t, tshark, path); got != listing.String() {
				t.Errorf("tshark reads:\n%s\nwant:\n%s", got, listing.String())
			}
			fileType, snaplen := "pcap", tc.header.Snaplen
			if tc.header.Nanoseconds {
				fileType = "nsecpcap"
			}
			if snaplen == 0 {
				snaplen = 262144
			}
			info := capinfosTable(t, capinfos, path)
			wantInfo := map[string]string{
				"File type":          fileType,
				"File encapsulation": tc.encapsulation,
				"Packet size limit":  fmt.Sprint(snaplen),
				"Number of packets":  fmt.Sprint(len(want)),
			}
			for k, v := range wantInfo {
				if info[k] != v {
					t.Errorf("capinfos: %s is %q, want %q", k, info[k], v)
				}
			}
		})
	}
}

// capinfosTable is capinfos's machine-readable summary, by column name.
func capinfosTable(t *testing.T, capinfos, path string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(run(t, capinfos, "-T", "-M", "-t", "-E", "-l", "-c", path), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("capinfos printed %q", lines)
	}
	names, values := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	table := map[string]string{}
	for i := range min(len(names), len(values)) {
		table[names[i]] = values[i]
	}
	return table
}

// debianPackages names the package providing each tool.
var debianPackages = map[string]string{
	"tcpdump":  "tcpdump",
	"tshark":   "tshark",
	"editcap":  "wireshark-common",
	"mergecap": "wireshark-common",
}

// toolFixture is a capture produced by a real tool from one of ours.
type toolFixture struct {
	name   string // file name under testdata/
	source string // which of our files it is made from
	tool   string
	args   func(in, out string) []string
}

var toolFixtures = []toolFixture{
	{"tcpdump-micro.pcap", "nano", "tcpdump", func(in, out string) []string { return []string{"-r", in, "-w", out} }},
	{"tcpdump-nano.pcap", "nano", "tcpdump", func(in, out string) []string {
		return []string{"--time-stamp-precision=nano", "-r", in, "-w", out}
	}},
	{"editcap-nano.pcapng", "nano", "editcap", func(in, out string) []string { return []string{"-F", "pcapng", in, out} }},
	{"editcap-micro.pcapng", "micro", "editcap", func(in, out string) []string { return []string{"-F", "pcapng", in, out} }},
	{"editcap-modified.pcap", "micro", "editcap", func(in, out string) []string { return []string{"-F", "modpcap", in, out} }},
	{"tshark.pcapng", "micro", "tshark", func(in, out string) []string { return []string{"-r", in, "-F", "pcapng", "-w", out} }},
	{"mergecap-two-interfaces.pcapng", "both", "mergecap", func(in, out string) []string {
		return append([]string{"-F", "pcapng", "-w", out}, strings.Fields(in)...)
	}},
}

// toolSources writes the files the fixtures are made from.
func toolSources(t *testing.T, dir string) map[string]string {
	packets := writtenPackets(12)
	nano, _ := writeCapture(t, dir, "nano.pcap", FileHeader{LinkType: LinkTypeEthernet, Nanoseconds: true}, packets)
	micro, _ := writeCapture(t, dir, "micro.pcap", FileHeader{LinkType: LinkTypeEthernet, Snaplen: 500}, packets)
	raw, _ := writeCapture(t, dir, "raw.pcap", FileHeader{LinkType: LinkTypeRaw, Nanoseconds: true}, writtenPackets(5))
	return map[string]string{"nano": nano, "micro": micro, "both": micro + " " + raw}
}

// TestReadsToolOutput reads files that tcpdump, tshark, editcap and
// mergecap write now, from files we wrote, and checks we see exactly what
// tshark saw in the same files when the goldens were made (the packets
// are fixed, so the listings do not depend on tool versions). -update
// rewrites the fixtures and goldens, asking tshark afresh.
func TestReadsToolOutput(t *testing.T) {
	dir := t.TempDir()
	sources := toolSources(t, dir)
	for _, fx := range toolFixtures {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			tool := testutil.RequireTool(t, fx.tool, debianPackages[fx.tool])
			out := filepath.Join(dir, fx.name)
			run(t, tool, fx.args(sources[fx.source], out)...)
			file, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", fx.name+".golden")
			if testutil.Update() {
				tshark := testutil.RequireTool(t, "tshark", "tshark")
				if err := os.WriteFile(golden, []byte(tsharkListing(t, tshark, out)), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join("testdata", fx.name), file, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := ourListing(t, file); got != string(want) {
				t.Errorf("we read:\n%s\ntshark read:\n%s", got, want)
			}
		})
	}
}

// TestToolFixtures reads the committed tool-made files (regenerated by
// -update) and compares with tshark's listing recorded next to them.
func TestToolFixtures(t *testing.T) {
	for _, fx := range toolFixtures {
		t.Run(fx.name, func(t *testing.T) {
			file, err := os.ReadFile(filepath.Join("testdata", fx.name))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", fx.name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatal("empty golden listing")
			}
			if got := ourListing(t, file); got != string(want) {
				t.Errorf("we read:\n%s\ntshark read:\n%s", got, want)
			}
		})
	}
}
