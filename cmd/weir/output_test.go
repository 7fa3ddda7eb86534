package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// readFile reads every packet and its metadata from a capture file.
func readFile(t *testing.T, path string) (*pcap.Reader, [][]byte, []pcap.CaptureInfo) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var packets [][]byte
	var infos []pcap.CaptureInfo
	for {
		p, ci, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return r, packets, infos
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		packets = append(packets, bytes.Clone(p))
		infos = append(infos, ci)
	}
}

func samePackets(t *testing.T, label string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d packets in the file, want %d", label, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s: packet %d\n got %x\nwant %x", label, i, got[i], want[i])
		}
	}
}

func mixedPackets() [][]byte {
	return [][]byte{
		ethernetFrame(0x0800, tcpV4),
		ethernetFrame(0x0800, udpV4),
		ethernetFrame(0x0806, arpPacket(1)),
	}
}

func TestRunWritesPcapngForItsName(t *testing.T) {
	in := writeCapture(t, pcap.LinkTypeEthernet, mixedPackets()...)
	out := filepath.Join(t.TempDir(), "out.pcapng")
	r := runWeir(t, nil, "-r", in, "-w", out, "udp or arp")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rd, got, infos := readFile(t, out)
	if rd.Format() != "pcapng" {
		t.Fatalf("format %s, want pcapng", rd.Format())
	}
	samePackets(t, "copy", got, mixedPackets()[1:])
	for i, ci := range infos {
		if want := testTime.Add(time.Duration(i+1) * time.Second).Truncate(time.Microsecond); !ci.Timestamp.Equal(want) {
			t.Errorf("packet %d at %v, want %v", i, ci.Timestamp, want)
		}
	}
	ifaces := rd.Interfaces()
	if len(ifaces) != 1 || ifaces[0].LinkType != pcap.LinkTypeEthernet || ifaces[0].Filter != "udp or arp" ||
		ifaces[0].TimestampResolution != 1e6 {
		t.Errorf("interfaces %+v, want one Ethernet interface in microseconds with filter %q", ifaces, "udp or arp")
	}
	if app := rd.Section().Application; !strings.HasPrefix(app, "weir ") || rd.Section().OS == "" {
		t.Errorf("section %+v, want weir's application and the OS", rd.Section())
	}
}

func TestRunFormatOption(t *testing.T) {
	in := writeCapture(t, pcap.LinkTypeEthernet, mixedPackets()...)
	dir := t.TempDir()
	for _, tt := range []struct{ name, format, want string }{
		{"out.cap", "pcapng", "pcapng"},
		{"out.pcapng", "pcap", "pcap"},
		{"out.cap", "", "pcap"},
		{"out.pcapng.gz", "", "pcapng"},
	} {
		out := filepath.Join(dir, tt.format+tt.name)
		args := []string{"-r", in, "-w", out}
		if tt.format != "" {
			args = append(args, "--format", tt.format)
		}
		if r := runWeir(t, nil, args...); r.code != 0 {
			t.Fatalf("%q: exit %d: %s", args, r.code, r.stderr)
		}
		rd, got, _ := readFile(t, out)
		if rd.Format() != tt.want || len(got) != 3 {
			t.Errorf("%q: %s with %d packets, want %s with 3", args, rd.Format(), len(got), tt.want)
		}
	}
}

// Names ending in .gz and .zst are written compressed; the reader takes
// them back by their magic.
func TestRunCompressedOutput(t *testing.T) {
	in := writeCapture(t, pcap.LinkTypeEthernet, mixedPackets()...)
	dir := t.TempDir()
	for name, magic := range map[string][]byte{
		"out.pcap.gz": {0x1f, 0x8b}, "out.pcapng.zst": {0x28, 0xb5, 0x2f, 0xfd},
	} {
		out := filepath.Join(dir, name)
		if r := runWeir(t, nil, "-r", in, "-w", out, "tcp"); r.code != 0 {
			t.Fatalf("%s: exit %d: %s", name, r.code, r.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil || !bytes.HasPrefix(data, magic) {
			t.Fatalf("%s starts %x (%v), want %x", name, data[:min(len(data), 4)], err, magic)
		}
		copyOut := filepath.Join(dir, "back-"+name+".pcap")
		if r := runWeir(t, nil, "-r", out, "-w", copyOut); r.code != 0 {
			t.Fatalf("reading %s back: exit %d: %s", name, r.code, r.stderr)
		}
		_, got, _ := readFile(t, copyOut)
		samePackets(t, name, got, mixedPackets()[:1])
	}
}

// mixedLinkTypesFile is a pcapng file with an Ethernet and a raw IP
// interface, packets on both with comments and directions.
func mixedLinkTypesFile(t *testing.T) (path string, packets [][]byte, infos []pcap.CaptureInfo) {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewNgWriter(&buf, pcap.NgOptions{
		Section: pcap.Section{Application: "test", Comment: "two link types"},
		Interfaces: []pcap.Interface{
			{LinkType: pcap.LinkTypeEthernet, Name: "eth0", Snaplen: 65535, TimestampResolution: 1e9},
			{LinkType: pcap.LinkTypeRaw, Name: "tun0", Snaplen: 65535, TimestampResolution: 1e6, Filter: "ip"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	packets = [][]byte{ethernetFrame(0x0800, udpV4), tcpV4, udpV4, ethernetFrame(0x0800, tcpV4)}
	for i, p := range packets {
		ci := pcap.CaptureInfo{Timestamp: testTime.Add(time.Duration(i) * time.Second), CaptureLength: len(p), Length: len(p),
			InterfaceIndex: []int{0, 1, 1, 0}[i], Direction: pcap.Direction(1 + i%2), Comment: fmt.Sprintf("packet %d", i)}
		if err := w.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
		infos = append(infos, ci)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return writeTempFile(t, "mixed.pcapng", buf.String()), packets, infos
}

// A filter is compiled for each link type of the file; a pcapng copy keeps
// the interfaces, comments and directions.
func TestRunFiltersEachLinkTypeAndKeepsMetadata(t *testing.T) {
	in, packets, infos := mixedLinkTypesFile(t)
	out := filepath.Join(t.TempDir(), "udp.pcapng")
	r := runWeir(t, nil, "-r", in, "-w", out, "udp")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.HasSuffix(r.stderr, "2 packets captured\n4 packets received by filter\n") {
		t.Errorf("stderr %q", r.stderr)
	}
	rd, got, gotInfos := readFile(t, out)
	samePackets(t, "udp on both link types", got, [][]byte{packets[0], packets[2]})
	for i, want := range []pcap.CaptureInfo{infos[0], infos[2]} {
		ci := gotInfos[i]
		if ci.InterfaceIndex != want.InterfaceIndex || ci.Direction != want.Direction || ci.Comment != want.Comment ||
			!ci.Timestamp.Equal(want.Timestamp.Truncate(time.Duration(1e9/[]int{1e9, 1e6}[want.InterfaceIndex]))) {
			t.Errorf("packet %d: %+v, want interface, direction, comment and time of %+v", i, ci, want)
		}
	}
	ifaces := rd.Interfaces()
	if len(ifaces) != 2 || ifaces[0].Name != "eth0" || ifaces[1].Name != "tun0" || ifaces[1].LinkType != pcap.LinkTypeRaw ||
		ifaces[0].Filter != "udp" || ifaces[1].Filter != "(ip) and (udp)" || ifaces[0].TimestampResolution != 1e9 {
		t.Errorf("interfaces %+v", ifaces)
	}
	if rd.Section().Comment != "two link types" {
		t.Errorf("section %+v, want the input's", rd.Section())
	}

	// Printing decodes each packet by its own link type.
	r = runWeir(t, nil, "-nr", in, "udp")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	afterClock := func(line string) string { _, rest, _ := strings.Cut(line, " "); return rest }
	if r.code != 0 || len(lines) != 2 || afterClock(lines[0]) != afterClock(lines[1]) || !strings.Contains(lines[0], " UDP") {
		t.Errorf("printed %q (%s), want the same UDP line for both link types", r.stdout, r.stderr)
	}

	// Counting needs no file: the same per-link-type programs.
	if r := runWeir(t, nil, "-r", in, "--count", "tcp"); r.code != 0 || r.stdout != "2 packets\n" {
		t.Errorf("--count tcp: %+v", r)
	}
}

// A pcap file has one link type: copying packets of two into one is an
// error that says what to do, and the file keeps what came before.
func TestRunMixedLinkTypesToPcapFails(t *testing.T) {
	in, _, _ := mixedLinkTypesFile(t)
	out := filepath.Join(t.TempDir(), "out.pcap")
	r := runWeir(t, nil, "-r", in, "-w", out)
	if r.code != 1 || !strings.Contains(r.stderr, "write pcapng") {
		t.Errorf("exit %d, stderr %q: want an error suggesting pcapng", r.code, r.stderr)
	}
}

// An expression that has no meaning on a link type met in the middle of
// the file is reported with its position.
func TestRunFilterFailsOnALaterLinkType(t *testing.T) {
	in, _, _ := mixedLinkTypesFile(t)
	r := runWeir(t, nil, "-r", in, "--count", "ether host 02:00:00:00:00:01")
	if r.code != 1 || !strings.Contains(r.stderr, "packet 2: link-type RAW") || !strings.Contains(r.stderr, "\n           ^\n") {
		t.Errorf("exit %d, stderr %q: want the RAW link type named and a caret", r.code, r.stderr)
	}
}

// manyPackets are n Ethernet frames of 100 bytes, numbered in their UDP
// ports.
func manyPackets(n int) [][]byte {
	packets := make([][]byte, n)
	for i := range packets {
		packets[i] = ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(uint16(1000+i), 53, 58)))
	}
	return packets
}

// rotatedFiles lists the files of a rotated set in the order they were
// written: name, name1, name2... (or name0, name1... for a ring).
func rotatedFiles(t *testing.T, dir, base string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), base) {
			names = append(names, e.Name())
		}
	}
	// By number: "" (the first of a sequence) before 0, 1, 2...
	number := func(name string) int {
		digits := strings.TrimSuffix(strings.TrimPrefix(name, base), ".gz")
		n, err := strconv.Atoi(digits)
		if err != nil {
			return -1
		}
		return n
	}
	slices.SortFunc(names, func(a, b string) int { return number(a) - number(b) })
	return names
}

// -C splits the copy into files no larger than the limit plus one packet,
// each a whole capture file, together holding every packet once.
func TestRunRotatesBySize(t *testing.T) {
	packets := manyPackets(300)
	in := writeCapture(t, pcap.LinkTypeEthernet, packets...)
	for _, format := range []string{"pcap", "pcapng"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			r := runWeir(t, nil, "-r", in, "-w", filepath.Join(dir, "out"), "--format", format, "-C", "8k")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			names := rotatedFiles(t, dir, "out")
			if len(names) < 4 || names[0] != "out" || names[1] != "out1" {
				t.Fatalf("files %q, want out, out1, out2...", names)
			}
			var all [][]byte
			for _, name := range names {
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil || fi.Size() > 8192+200 {
					t.Errorf("%s: %d bytes, want at most the limit and one packet", name, fi.Size())
				}
				rd, got, _ := readFile(t, filepath.Join(dir, name))
				if rd.Format() != format {
					t.Errorf("%s is %s", name, rd.Format())
				}
				all = append(all, got...)
			}
			samePackets(t, "the rotated set", all, packets)
		})
	}
}

// -W makes a ring of files: the oldest are overwritten, the newest kept.
func TestRunRotationRing(t *testing.T) {
	packets := manyPackets(300)
	in := writeCapture(t, pcap.LinkTypeEthernet, packets...)
	dir := t.TempDir()
	if r := runWeir(t, nil, "-r", in, "-w", filepath.Join(dir, "ring"), "-C", "8k", "-W", "3"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	names := rotatedFiles(t, dir, "ring")
	if !slices.Equal(names, []string{"ring0", "ring1", "ring2"}) {
		t.Fatalf("files %q, want ring0 ring1 ring2", names)
	}
	// Every file holds a run of consecutive packets, and the last packet
	// is in one of them.
	last := false
	for _, name := range names {
		_, got, _ := readFile(t, filepath.Join(dir, name))
		if len(got) == 0 {
			t.Fatalf("%s is empty", name)
		}
		first := slices.IndexFunc(packets, func(p []byte) bool { return bytes.Equal(p, got[0]) })
		if first < 0 {
			t.Fatalf("%s holds a packet never sent", name)
		}
		samePackets(t, name, got, packets[first:first+len(got)])
		last = last || first+len(got) == len(packets)
	}
	if !last {
		t.Error("no file ends with the last packet")
	}
}

// -z runs a command on each file a rotation closes, with its name; the
// last file is left alone, as tcpdump does.
func TestRunPostRotateCommand(t *testing.T) {
	gzip := testutil.RequireTool(t, "gzip", "gzip")
	packets := manyPackets(200)
	in := writeCapture(t, pcap.LinkTypeEthernet, packets...)
	dir := t.TempDir()
	r := runWeir(t, nil, "-r", in, "-w", filepath.Join(dir, "z.pcap"), "-C", "8k", "-z", gzip)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	names := rotatedFiles(t, dir, "z.pcap")
	last := fmt.Sprintf("z.pcap%d", len(names)-1)
	if len(names) < 3 || names[0] != "z.pcap.gz" || names[1] != "z.pcap1.gz" || names[len(names)-1] != last {
		t.Fatalf("files %q, want every one but the last gzipped", names)
	}
	var all [][]byte
	for _, name := range names {
		_, got, _ := readFile(t, filepath.Join(dir, name))
		all = append(all, got...)
	}
	samePackets(t, "the gzipped set", all, packets)
}

// Wireshark reads what the command writes: a pcapng copy with the filter,
// comments and directions, and compressed files.
func TestRunWiresharkReadsCopies(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark", "tshark")
	in, _, infos := mixedLinkTypesFile(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "copy.pcapng.gz")
	if r := runWeir(t, nil, "-r", in, "-w", out, "udp"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	fields := []string{"frame.interface_name", "frame.comment", "frame.packet_flags_direction", "frame.time_epoch"}
	args := []string{"-r", out, "-T", "fields", "-E", "separator=|"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	got, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, got)
	}
	var want strings.Builder
	for _, ci := range []pcap.CaptureInfo{infos[0], infos[2]} {
		fmt.Fprintf(&want, "%s|%s|0x%08x|%d.%09d\n", []string{"eth0", "tun0"}[ci.InterfaceIndex], ci.Comment, int(ci.Direction),
			ci.Timestamp.Unix(), ci.Timestamp.Nanosecond()/[]int{1, 1000}[ci.InterfaceIndex]*[]int{1, 1000}[ci.InterfaceIndex])
	}
	if string(got) != want.String() {
		t.Errorf("tshark reads\n%s\nwant\n%s", got, want.String())
	}
	filters, err := exec.Command(tshark, "-r", out, "-X", "read_format:MIME Files Format", "-T", "fields",
		"-e", "pcapng.options.option.data.interface.filter.string").Output()
	if err != nil || strings.TrimSpace(string(filters)) != "udp,(ip) and (udp)" {
		t.Errorf("interface filters as Wireshark reads them: %q (%v)", filters, err)
	}
}
