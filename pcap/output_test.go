package pcap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/weircap/weir/internal/testutil"
)

func TestFormatAndCompressionFromName(t *testing.T) {
	for _, tc := range []struct {
		name        string
		format      Format
		compression Compression
	}{
		{"x.pcap", FormatPcap, CompressionNone},
		{"x", FormatPcap, CompressionNone},
		{"x.pcapng", FormatPcapng, CompressionNone},
		{"dir.pcapng/x.cap", FormatPcap, CompressionNone},
		{"x.pcapng.gz", FormatPcapng, CompressionGzip},
		{"x.pcap.zst", FormatPcap, CompressionZstd},
		{"x.pcapng.zst", FormatPcapng, CompressionZstd},
		{"x.gz", FormatPcap, CompressionGzip},
	} {
		if f, c := FormatFromName(tc.name), CompressionFromName(tc.name); f != tc.format || c != tc.compression {
			t.Errorf("%s: %v %v, want %v %v", tc.name, f, c, tc.format, tc.compression)
		}
	}
	for _, name := range []string{"pcap", "pcapng"} {
		if f, err := ParseFormat(name); err != nil || f.String() != name {
			t.Errorf("ParseFormat(%q) = %v, %v", name, f, err)
		}
	}
	if _, err := ParseFormat("ng"); err == nil {
		t.Error("ParseFormat accepted ng")
	}
}

// writeWith writes packets with a PacketWriter into memory and returns
// the file and what reading it gives.
func writeWith(t *testing.T, opts WriterOptions, packets []wantPacket) ([]byte, []wantPacket) {
	t.Helper()
	var out bytes.Buffer
	w, err := NewPacketWriter(&out, opts)
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
	if err := w.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	return out.Bytes(), expectWritten(opts, packets)
}

// expectWritten is what reading packets written with opts gives.
func expectWritten(opts WriterOptions, packets []wantPacket) []wantPacket {
	var want []wantPacket
	if opts.Format == FormatPcapng {
		w, _ := NewNgWriter(io.Discard, NgOptions{Interfaces: opts.Interfaces})
		for _, p := range packets {
			want = append(want, expectNgRead(p, w.Interfaces()[p.ci.InterfaceIndex]))
		}
		return want
	}
	ifc := opts.Interfaces[0]
	h := FileHeader{LinkType: ifc.LinkType, Snaplen: ifc.Snaplen, Nanoseconds: ifc.TimestampResolution == 1e9}
	if h.Snaplen == 0 {
		h.Snaplen = 262144
	}
	for _, p := range packets {
		want = append(want, expectRead(p, h))
	}
	return want
}

// classicPackets are test packets for a single-interface file.
func classicPackets(n int) []wantPacket { return writtenPackets(n) }

func TestPacketWriterRoundTrip(t *testing.T) {
	ng := ngTestOptions()
	for _, format := range []Format{FormatPcap, FormatPcapng} {
		for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionZstd} {
			t.Run(format.String()+"/"+c.String(), func(t *testing.T) {
				opts := WriterOptions{Format: format, Compression: c, Interfaces: []Interface{{LinkType: LinkTypeRaw, TimestampResolution: 1e9}}}
				packets := classicPackets(100)
				if format == FormatPcapng {
					opts.Interfaces, opts.Section, opts.Stats = ng.Interfaces, ng.Section, ng.Stats
					packets = ngTestPackets(100)
				}
				file, want := writeWith(t, opts, packets)
				switch c {
				case CompressionGzip:
					if !bytes.HasPrefix(file, gzipMagic) {
						t.Fatalf("file starts %x, not gzip", file[:4])
					}
				case CompressionZstd:
					if !bytes.HasPrefix(file, zstdMagic) {
						t.Fatalf("file starts %x, not zstd", file[:4])
					}
				}
				r, got := mustRead(t, file)
				checkPackets(t, got, want)
				if r.Compression() != c || r.Format() != format.String() {
					t.Errorf("read as %v %v", r.Compression(), r.Format())
				}
			})
		}
	}
}

// TestPacketWriterWritesHeaderAtOnce: a reader of a pipe sees the file
// header before any packet, and with FlushEachPacket every packet at
// once, compressed or not.
func TestPacketWriterWritesHeaderAtOnce(t *testing.T) {
	for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionZstd} {
		for _, format := range []Format{FormatPcap, FormatPcapng} {
			var out bytes.Buffer
			w, err := NewPacketWriter(&out, WriterOptions{Format: format, Compression: c, Interfaces: ethernetMicro, FlushEachPacket: true})
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatalf("%v %v: header not readable before any packet: %v", format, c, err)
			}
			if r.LinkType() != LinkTypeEthernet {
				t.Errorf("%v %v: link type %v", format, c, r.LinkType())
			}
			for i, p := range writtenPackets(3) {
				if err := w.WritePacket(p.ci, p.data); err != nil {
					t.Fatal(err)
				}
				r, err := NewReader(bytes.NewReader(out.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				got, _ := readAll(r) // a compressed stream is unfinished: it ends in an error
				if len(got) != i+1 {
					t.Fatalf("%v %v: %d packets readable after writing %d", format, c, len(got), i+1)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestPacketWriterRejectsMixedLinkTypesInPcap(t *testing.T) {
	two := []Interface{{LinkType: LinkTypeEthernet}, {LinkType: LinkTypeRaw}}
	if _, err := NewPacketWriter(io.Discard, WriterOptions{Interfaces: two}); err == nil {
		t.Error("pcap with two link types accepted")
	}
	if _, err := NewPacketWriter(io.Discard, WriterOptions{Format: FormatPcapng, Interfaces: two}); err != nil {
		t.Errorf("pcapng with two link types: %v", err)
	}
	if _, err := NewPacketWriter(io.Discard, WriterOptions{}); err == nil {
		t.Error("no interfaces accepted")
	}
}

func TestCreateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pcapng.gz")
	opts := WriterOptions{Format: FormatFromName(path), Compression: CompressionFromName(path), Interfaces: ethernetMicro}
	w, err := CreateFile(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	packets := classicPackets(20)
	for _, p := range packets {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, got := readFile(t, path)
	checkPackets(t, got, expectWritten(opts, packets))
	if r.Format() != "pcapng" || r.Compression() != CompressionGzip {
		t.Errorf("read as %s %v", r.Format(), r.Compression())
	}
	if _, err := CreateFile(filepath.Join(path, "under-a-file"), opts); err == nil {
		t.Error("creating under a file succeeded")
	}
}

// TestReadsToolCompressedFiles reads captures compressed by gzip and zstd
// themselves, including a gzip file of two members.
func TestReadsToolCompressedFiles(t *testing.T) {
	dir := t.TempDir()
	path, want := writeCapture(t, dir, "x.pcap", FileHeader{LinkType: LinkTypeEthernet, Nanoseconds: true}, writtenPackets(50))
	plain, _ := os.ReadFile(path)
	for _, tc := range []struct{ tool, pkg, ext string }{{"gzip", "gzip", ".gz"}, {"zstd", "zstd", ".zst"}} {
		t.Run(tc.tool, func(t *testing.T) {
			tool := testutil.RequireTool(t, tc.tool, tc.pkg)
			cmd := exec.Command(tool, "-c", path)
			compressed, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			r, got := mustRead(t, compressed)
			checkPackets(t, got, want)
			if r.Compression() != CompressionFromName("x"+tc.ext) {
				t.Errorf("compression %v", r.Compression())
			}
		})
	}
	// Two gzip members, as "cat a.gz b.gz" makes: one stream.
	var members bytes.Buffer
	for _, part := range [][]byte{plain[:1000], plain[1000:]} {
		gz := gzip.NewWriter(&members)
		gz.Write(part)
		gz.Close()
	}
	_, got := mustRead(t, members.Bytes())
	checkPackets(t, got, want)
}

// TestDamagedCompressedFiles: damage in compressed data is a *FormatError
// after the packets before it; a failing read under the decompressor
// stays a read failure.
func TestDamagedCompressedFiles(t *testing.T) {
	packets := classicPackets(200)
	for _, c := range []Compression{CompressionGzip, CompressionZstd} {
		t.Run(c.String(), func(t *testing.T) {
			// Flushed packets are whole compressed blocks: a cut file
			// gives the packets before the cut, then a positioned error.
			file, want := writeWith(t, WriterOptions{Compression: c, Interfaces: ethernetMicro, FlushEachPacket: true}, packets)
			cut := file[:len(file)*2/3]
			r, err := NewReader(bytes.NewReader(cut))
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(r)
			var fe *FormatError
			if !errors.As(err, &fe) || len(got) == 0 || len(got) >= len(want) {
				t.Fatalf("cut file: %d packets then %v", len(got), err)
			}
			checkPackets(t, got, want[:len(got)])
			// Flipped bits in the middle of the data.
			bad := bytes.Clone(file)
			for i := len(bad) / 2; i < len(bad)/2+16; i++ {
				bad[i] ^= 0x5a
			}
			if r, err = NewReader(bytes.NewReader(bad)); err == nil {
				_, err = readAll(r)
			}
			if !errors.As(err, &fe) {
				t.Errorf("corrupt file: %v, want a *FormatError", err)
			}
			// A failing read is not damage.
			failing := io.MultiReader(bytes.NewReader(file[:len(file)/2]), iotest.ErrReader(errors.New("disk gone")))
			if r, err = NewReader(failing); err == nil {
				_, err = readAll(r)
			}
			if errors.As(err, &fe) || err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk gone")) {
				t.Errorf("failing read: %v, want the read error", err)
			}
		})
	}
	// A file that only starts like gzip.
	_, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}))
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Errorf("bad gzip header: %v, want a *FormatError", err)
	}
}
