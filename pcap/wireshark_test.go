package pcap

import (
	"crypto/md5"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
)

// wiresharkFields are what tshark prints per packet for the files we
// write: interface, timestamp, lengths, data, comment and direction.
var wiresharkFields = []string{"frame.interface_id", "frame.interface_name", "frame.time_epoch", "frame.len",
	"frame.cap_len", "frame.md5_hash", "frame.comment", "frame.packet_flags_direction"}

// wiresharkListing is the listing tshark should print for packets read
// back as want from a file with the given interfaces.
func wiresharkListing(want []wantPacket, interfaces []Interface, ng bool) string {
	var out strings.Builder
	for _, p := range want {
		id, name, direction := "", "", ""
		if ng {
			id, name = strconv.Itoa(p.ci.InterfaceIndex), interfaces[p.ci.InterfaceIndex].Name
			if p.ci.Flags != 0 || p.ci.Direction != DirectionUnknown {
				direction = fmt.Sprintf("0x%08x", uint32(p.ci.Direction))
			}
		}
		fmt.Fprintf(&out, "%s\t%s\t%d.%09d\t%d\t%d\t%x\t%s\t%s\n", id, name, p.ci.Timestamp.Unix(), p.ci.Timestamp.Nanosecond(),
			p.ci.Length, p.ci.CaptureLength, md5.Sum(p.data), p.ci.Comment, direction)
	}
	return out.String()
}

// writtenFile is a file a test wrote and what Wireshark should see in it.
type writtenFile struct {
	path    string
	opts    WriterOptions
	want    []wantPacket
	section Section
}

// capinfosReport parses capinfos's long report of several files: by file
// name, the file's lines ("Capture comment") and each interface's
// ("Interface #0 info" -> "Name" -> "eth0").
type capinfosFile struct {
	fields     map[string]string
	interfaces []map[string]string
}

func capinfosReport(t *testing.T, capinfos string, paths []string) map[string]*capinfosFile {
	t.Helper()
	out := run(t, capinfos, append([]string{"-M", "-I", "-k", "-c", "-t"}, paths...)...)
	files := map[string]*capinfosFile{}
	var cur *capinfosFile
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "File name:"):
			cur = &capinfosFile{fields: map[string]string{}}
			files[strings.TrimSpace(strings.TrimPrefix(line, "File name:"))] = cur
		case cur == nil || strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "Interface #"):
			cur.interfaces = append(cur.interfaces, map[string]string{})
		case strings.HasPrefix(line, " ") && len(cur.interfaces) > 0 && strings.Contains(line, " = "):
			k, v, _ := strings.Cut(strings.TrimSpace(line), " = ")
			cur.interfaces[len(cur.interfaces)-1][k] = v
		case strings.Contains(line, ":"):
			k, v, _ := strings.Cut(line, ":")
			cur.fields[k] = strings.TrimSpace(v)
		}
	}
	return files
}

// TestWiresharkReadsEveryMode writes files in every mode (pcap in
// microseconds and nanoseconds, pcapng with several interfaces, comments,
// directions and statistics, compressed, rotated) and checks Wireshark's
// tools see the same packets, timestamps, interface names, filters,
// comments and drop counts.
func TestWiresharkReadsEveryMode(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark", "tshark")
	capinfos := testutil.RequireTool(t, "capinfos", "wireshark-common")
	dir := t.TempDir()
	ng := ngTestOptions()
	ngOpts := WriterOptions{Format: FormatPcapng, Interfaces: ng.Interfaces, Section: ng.Section, Stats: ng.Stats}
	var files []writtenFile
	add := func(name string, opts WriterOptions, packets []wantPacket) {
		path := filepath.Join(dir, name)
		w, err := CreateFile(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range packets {
			if err := w.WritePacket(p.ci, p.data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		files = append(files, writtenFile{path, opts, expectWritten(opts, packets), opts.Section})
	}
	add("micro.pcap", WriterOptions{Interfaces: ethernetMicro}, classicPackets(30))
	add("nano.pcap.zst", WriterOptions{Compression: CompressionZstd, Interfaces: []Interface{{LinkType: LinkTypeRaw, TimestampResolution: 1e9, Snaplen: 500}}}, classicPackets(30))
	add("three.pcapng", ngOpts, ngTestPackets(60))
	gz := ngOpts
	gz.Compression = CompressionGzip
	add("three.pcapng.gz", gz, ngTestPackets(30))
	// A rotated set: each file on its own.
	rotatedPackets := ngTestPackets(60)
	var closed []string
	r, err := NewRotator(RotateOptions{Name: filepath.Join(dir, "set.pcapng"), MaxBytes: 15_000, Writer: ngOpts,
		OnRotate: func(p string) { closed = append(closed, p) }})
	if err != nil {
		t.Fatal(err)
	}
	var perFile [][]wantPacket
	for _, p := range rotatedPackets {
		before := r.Path()
		if err := r.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
		if r.Path() != before || perFile == nil {
			perFile = append(perFile, nil)
		}
		perFile[len(perFile)-1] = append(perFile[len(perFile)-1], p)
	}
	paths := append(closed, r.Path())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(paths) < 3 || len(paths) != len(perFile) {
		t.Fatalf("rotated into %d files (%d packet groups)", len(paths), len(perFile))
	}
	for i, path := range paths {
		files = append(files, writtenFile{path, ngOpts, expectWritten(ngOpts, perFile[i]), ngOpts.Section})
	}

	var all []string
	for _, f := range files {
		all = append(all, f.path)
	}
	report := capinfosReport(t, capinfos, all)
	for _, f := range files {
		t.Run(filepath.Base(f.path), func(t *testing.T) {
			t.Parallel() // tshark starts slowly
			isNg := f.opts.Format == FormatPcapng
			want := wiresharkListing(f.want, f.opts.Interfaces, isNg)
			args := []string{"-o", "frame.generate_md5_hash:TRUE", "-r", f.path, "-T", "fields"}
			for _, field := range wiresharkFields {
				args = append(args, "-e", field)
			}
			if got := run(t, tshark, args...); got != want {
				t.Errorf("tshark reads:\n%s\nwant:\n%s", got, want)
			}
			info := report[f.path]
			if info == nil {
				t.Fatalf("capinfos said nothing of %s", f.path)
			}
			checkCapinfos(t, info, f)
			if isNg {
				checkStatistics(t, tshark, f)
			}
		})
	}
}

// checkCapinfos compares capinfos's summary with what was written.
func checkCapinfos(t *testing.T, info *capinfosFile, f writtenFile) {
	t.Helper()
	if got := info.fields["Number of packets"]; got != strconv.Itoa(len(f.want)) {
		t.Errorf("capinfos: %s packets, want %d", got, len(f.want))
	}
	if f.opts.Format != FormatPcapng {
		return
	}
	// capinfos prints a comment on one line.
	if got, want := info.fields["Capture comment"], strings.ReplaceAll(f.section.Comment, "\n", " "); got != want {
		t.Errorf("capinfos: capture comment %q, want %q", got, want)
	}
	if len(info.interfaces) != len(f.opts.Interfaces) {
		t.Fatalf("capinfos: %d interfaces, want %d", len(info.interfaces), len(f.opts.Interfaces))
	}
	counts := make([]int, len(f.opts.Interfaces))
	for _, p := range f.want {
		counts[p.ci.InterfaceIndex]++
	}
	w, _ := NewNgWriter(nil, NgOptions{Interfaces: f.opts.Interfaces})
	for i, ifc := range w.Interfaces() {
		want := map[string]string{
			"Name":                   ifc.Name,
			"Description":            ifc.Description,
			"Filter string":          ifc.Filter,
			"Operating system":       ifc.OS,
			"Capture length":         strconv.Itoa(int(ifc.Snaplen)),
			"Time ticks per second":  strconv.FormatUint(ifc.TimestampResolution, 10),
			"Number of stat entries": "1",
			"Number of packets":      strconv.Itoa(counts[i]),
		}
		for k, v := range want {
			if got := info.interfaces[i][k]; got != v && (v != "" || got != "") {
				t.Errorf("capinfos: interface %d: %s %q, want %q", i, k, got, v)
			}
		}
	}
}

// checkStatistics reads the interface statistics blocks with Wireshark's
// dissector of the pcapng format itself, which shows every counter.
func checkStatistics(t *testing.T, tshark string, f writtenFile) {
	t.Helper()
	counters := []struct {
		field   string
		counter StatsCounters
	}{
		{"pcapng.options.option.data.interface.received", CounterReceived},
		{"pcapng.options.option.data.interface.dropped", CounterInterfaceDropped},
		{"pcapng.options.option.data.interface.accepted_by_filter", CounterFilterAccepted},
		{"pcapng.options.option.data.interface.dropped_by_os", CounterOSDropped},
		{"pcapng.options.option.data.interface.delivered_to_user", CounterDelivered},
	}
	args := []string{"-r", f.path, "-X", "read_format:MIME Files Format", "-T", "fields", "-E", "separator=|"}
	for _, c := range counters {
		args = append(args, "-e", c.field)
	}
	var want []string
	stats := f.opts.Stats()
	for _, c := range counters {
		var values []string
		for _, st := range stats {
			if st.Known&c.counter != 0 {
				values = append(values, strconv.FormatUint(*st.counter(c.counter), 10))
			}
		}
		want = append(want, strings.Join(values, ","))
	}
	if got, want := strings.TrimSpace(run(t, tshark, args...)), strings.Join(want, "|"); got != want {
		t.Errorf("statistics as Wireshark reads them (received/dropped/accepted/OS dropped/delivered): %s, want %s", got, want)
	}
}
