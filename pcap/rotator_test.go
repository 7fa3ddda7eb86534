package pcap

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// readFile reads every packet of a capture file.
func readFile(t *testing.T, path string) (*Reader, []wantPacket) {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return mustRead(t, file)
}

// rotate writes packets through a Rotator and returns the rotated names
// in order and the final file's name.
func rotate(t *testing.T, opts RotateOptions, packets []wantPacket, beforeEach func(i int)) (rotated []string, last string) {
	t.Helper()
	opts.OnRotate = func(path string) { rotated = append(rotated, path) }
	r, err := NewRotator(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range packets {
		if beforeEach != nil {
			beforeEach(i)
		}
		if err := r.WritePacket(p.ci, p.data); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	last = r.Path()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return rotated, last
}

// checkSeries reads the files in order and checks together they hold the
// packets, each once.
func checkSeries(t *testing.T, files []string, want []wantPacket) {
	t.Helper()
	var got []wantPacket
	for _, f := range files {
		_, ps := readFile(t, f)
		got = append(got, ps...)
	}
	checkPackets(t, got, want)
}

var ethernetMicro = []Interface{{LinkType: LinkTypeEthernet, Snaplen: 262144}}

func TestRotatorBySize(t *testing.T) {
	dir := t.TempDir()
	packets := writtenPackets(200)
	name := filepath.Join(dir, "out.pcap")
	const limit = 20_000
	rotated, last := rotate(t, RotateOptions{Name: name, MaxBytes: limit, Writer: WriterOptions{Interfaces: ethernetMicro}}, packets, nil)
	files := append(slices.Clone(rotated), last)
	if len(files) < 5 {
		t.Fatalf("only %d files", len(files))
	}
	for i, f := range files {
		want := name
		if i > 0 {
			want += itoa(i)
		}
		if f != want {
			t.Errorf("file %d named %s, want %s", i, f, want)
		}
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		_, ps := readFile(t, f)
		lastRecord := int64(recordHeaderLength + len(ps[len(ps)-1].data))
		if i < len(files)-1 && (info.Size() <= limit || info.Size()-lastRecord > limit) {
			t.Errorf("%s: %d bytes: should have rotated at the first packet past %d", f, info.Size(), limit)
		}
	}
	var want []wantPacket
	for _, p := range packets {
		want = append(want, expectRead(p, FileHeader{LinkType: LinkTypeEthernet, Snaplen: 262144}))
	}
	checkSeries(t, files, want)
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestRotatorRing: with a file count, names are zero-padded and reused in
// a ring; the files left are the last ones written.
func TestRotatorRing(t *testing.T) {
	dir := t.TempDir()
	packets := writtenPackets(200)
	name := filepath.Join(dir, "ring")
	rotated, last := rotate(t, RotateOptions{Name: name, MaxBytes: 8_000, MaxFiles: 11, Writer: WriterOptions{Interfaces: ethernetMicro}}, packets, nil)
	all := append(slices.Clone(rotated), last)
	if len(all) <= 11 {
		t.Fatalf("%d files: the ring did not wrap", len(all))
	}
	for i, f := range all {
		number := itoa(i % 11)
		if len(number) < 2 {
			number = "0" + number
		}
		if f != name+number {
			t.Errorf("file %d named %s, want %s", i, f, name+number)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 11 {
		t.Errorf("%d files left, want 11", len(entries))
	}
	// The ring holds the last 11 files: the newest packets, in order.
	files := all[len(all)-11:]
	var got []wantPacket
	for _, f := range files {
		_, ps := readFile(t, f)
		got = append(got, ps...)
	}
	var want []wantPacket
	for _, p := range packets[len(packets)-len(got):] {
		want = append(want, expectRead(p, FileHeader{LinkType: LinkTypeEthernet, Snaplen: 262144}))
	}
	checkPackets(t, got, want)
}

func TestRotatorByTime(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Date(2024, 3, 5, 7, 8, 9, 500_000_000, time.UTC)}
	packets := writtenPackets(10)
	name := filepath.Join(dir, "cap-%H%M%S.pcap")
	// A packet every 25 seconds: a new file every second packet, named
	// by the second it opens.
	rotated, last := rotate(t, RotateOptions{Name: name, RotateSeconds: 50, Now: clock.Now, Writer: WriterOptions{Interfaces: ethernetMicro}},
		packets, func(i int) {
			if i > 0 {
				clock.now = clock.now.Add(25 * time.Second)
			}
		})
	want := []string{"cap-070809.pcap", "cap-070859.pcap", "cap-070949.pcap", "cap-071039.pcap", "cap-071129.pcap"}
	got := append(slices.Clone(rotated), last)
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	var wantPackets []wantPacket
	for _, p := range packets {
		wantPackets = append(wantPackets, expectRead(p, FileHeader{LinkType: LinkTypeEthernet, Snaplen: 262144}))
	}
	var paths []string
	for _, f := range want {
		paths = append(paths, filepath.Join(dir, f))
	}
	checkSeries(t, paths, wantPackets)
}

// TestRotatorTimeFileLimit: -G with -W stops after that many files.
func TestRotatorTimeFileLimit(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0).UTC()}
	var rotated []string
	r, err := NewRotator(RotateOptions{Name: filepath.Join(dir, "t-%s"), RotateSeconds: 10, MaxFiles: 2, Now: clock.Now,
		Writer: WriterOptions{Interfaces: ethernetMicro}, OnRotate: func(p string) { rotated = append(rotated, filepath.Base(p)) }})
	if err != nil {
		t.Fatal(err)
	}
	p := writtenPackets(1)[0]
	for i, step := range []time.Duration{5, 5, 0} { // two packets in the first file, one in the second
		if err := r.WritePacket(p.ci, p.data); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		clock.now = clock.now.Add(step * time.Second)
	}
	clock.now = clock.now.Add(10 * time.Second)
	if err := r.WritePacket(p.ci, p.data); err != ErrFileLimit {
		t.Fatalf("after 2 files: %v, want ErrFileLimit", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"t-1700000000", "t-1700000010"}; !slices.Equal(rotated, want) {
		t.Errorf("rotated %v, want %v", rotated, want)
	}
}

// TestRotatorTimeAndSize: each time period's files are numbered from 0.
func TestRotatorTimeAndSize(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	packets := writtenPackets(40)
	rotated, last := rotate(t, RotateOptions{Name: filepath.Join(dir, "%M-"), RotateSeconds: 60, MaxBytes: 5000,
		Now: clock.Now, Writer: WriterOptions{Interfaces: ethernetMicro}}, packets, func(i int) {
		if i == 20 {
			clock.now = clock.now.Add(time.Minute)
		}
	})
	var names []string
	for _, f := range append(rotated, last) {
		names = append(names, filepath.Base(f))
	}
	if names[0] != "04-" || names[1] != "04-1" || !slices.Contains(names, "05-") || !slices.Contains(names, "05-1") {
		t.Errorf("files %v", names)
	}
}

// TestRotatorPcapngFiles: every rotated pcapng file has its interfaces and
// its statistics, compressed or not.
func TestRotatorPcapngFiles(t *testing.T) {
	for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionZstd} {
		t.Run(c.String(), func(t *testing.T) {
			dir := t.TempDir()
			opts := ngTestOptions()
			closes := 0
			stats := opts.Stats
			opts.Stats = func() []InterfaceStats { closes++; return stats() }
			packets := ngTestPackets(90)
			rotated, last := rotate(t, RotateOptions{Name: filepath.Join(dir, "x.pcapng"), MaxBytes: 20_000,
				Writer: WriterOptions{Format: FormatPcapng, Compression: c, Interfaces: opts.Interfaces, Section: opts.Section, Stats: opts.Stats}}, packets, nil)
			files := append(rotated, last)
			if len(files) < 3 || closes != len(files) {
				t.Fatalf("%d files, statistics asked %d times", len(files), closes)
			}
			var got []wantPacket
			for _, f := range files {
				r, ps := readFile(t, f)
				if r.Compression() != c || len(r.Interfaces()) != 3 || r.Section() != opts.Section {
					t.Errorf("%s: compression %v, %d interfaces, section %+v", f, r.Compression(), len(r.Interfaces()), r.Section())
				}
				for i := range 3 {
					if _, ok := r.Stats(i); !ok {
						t.Errorf("%s: no statistics for interface %d", f, i)
					}
				}
				got = append(got, ps...)
			}
			w, _ := NewNgWriter(&bytes.Buffer{}, opts)
			var want []wantPacket
			for _, p := range packets {
				want = append(want, expectNgRead(p, w.Interfaces()[p.ci.InterfaceIndex]))
			}
			checkPackets(t, got, want)
		})
	}
}

// TestRotatorMatchesTcpdump: tcpdump -C 1 and -C 1 -W 3 on the same
// packets make the same files, byte for byte.
func TestRotatorMatchesTcpdump(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	dir := t.TempDir()
	var packets []wantPacket
	for _, p := range writtenPackets(2600) { // about 2.1 MB
		p.ci.Timestamp = p.ci.Timestamp.Truncate(time.Microsecond)
		packets = append(packets, p)
	}
	source, _ := writeCapture(t, dir, "source.pcap", FileHeader{LinkType: LinkTypeEthernet}, packets)
	for _, tc := range []struct {
		name  string
		files int
	}{{"plain", 0}, {"ring", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			theirs, ours := filepath.Join(dir, tc.name, "tcpdump"), filepath.Join(dir, tc.name, "weir")
			for _, d := range []string{theirs, ours} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"-Z", "root", "-r", source, "-w", filepath.Join(theirs, "out"), "-C", "1"}
			if tc.files > 0 {
				args = append(args, "-W", itoa(tc.files))
			}
			run(t, tcpdump, args...)
			rotate(t, RotateOptions{Name: filepath.Join(ours, "out"), MaxBytes: 1_000_000, MaxFiles: tc.files,
				Writer: WriterOptions{Interfaces: ethernetMicro}}, packets, nil)
			theirFiles, _ := os.ReadDir(theirs)
			ourFiles, _ := os.ReadDir(ours)
			if len(theirFiles) < 2 || len(theirFiles) != len(ourFiles) {
				t.Fatalf("tcpdump wrote %v, weir %v", theirFiles, ourFiles)
			}
			for i := range theirFiles {
				if theirFiles[i].Name() != ourFiles[i].Name() {
					t.Fatalf("tcpdump wrote %s, weir %s", theirFiles[i].Name(), ourFiles[i].Name())
				}
				a, _ := os.ReadFile(filepath.Join(theirs, theirFiles[i].Name()))
				b, _ := os.ReadFile(filepath.Join(ours, ourFiles[i].Name()))
				if !bytes.Equal(a, b) {
					t.Errorf("%s: tcpdump's %d bytes differ from weir's %d", theirFiles[i].Name(), len(a), len(b))
				}
			}
		})
	}
}

func TestRotatorRejects(t *testing.T) {
	for _, opts := range []RotateOptions{
		{},
		{Name: "x", MaxFiles: 3},
		{Name: "x", MaxBytes: -1},
	} {
		if _, err := NewRotator(opts); err == nil {
			t.Errorf("%+v accepted", opts)
		}
	}
}

// TestRotatorAddInterface: an interface added during a capture is in the
// current file and every later one.
func TestRotatorAddInterface(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRotator(RotateOptions{Name: filepath.Join(dir, "a.pcapng"), MaxBytes: 3000,
		Writer: WriterOptions{Format: FormatPcapng, Interfaces: ethernetMicro}})
	if err != nil {
		t.Fatal(err)
	}
	packets := writtenPackets(20)
	var paths []string
	for i, p := range packets {
		if i == 5 {
			if index, err := r.AddInterface(Interface{LinkType: LinkTypeRaw, Name: "late"}); index != 1 || err != nil {
				t.Fatalf("AddInterface: %d, %v", index, err)
			}
		}
		if i >= 5 {
			p.ci.InterfaceIndex = 1
		}
		if err := r.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
		if len(paths) == 0 || paths[len(paths)-1] != r.Path() {
			paths = append(paths, r.Path())
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(paths) < 3 {
		t.Fatalf("%d files", len(paths))
	}
	for _, path := range paths {
		rd, _ := readFile(t, path)
		if len(rd.Interfaces()) != 2 || rd.Interfaces()[1].Name != "late" {
			t.Errorf("%s: interfaces %+v", path, rd.Interfaces())
		}
	}
}
