package pcap

import (
	"bytes"
	"testing"
)

// TestPacketWriterBufferSize: packets wait until BufferSize bytes are
// gathered (64 KiB by default), then reach the file as whole records.
func TestPacketWriterBufferSize(t *testing.T) {
	ng := ngTestOptions()
	for _, format := range []Format{FormatPcap, FormatPcapng} {
		for _, size := range []int{0, 1 << 20} {
			opts := WriterOptions{Format: format, Interfaces: []Interface{{LinkType: LinkTypeRaw}}, BufferSize: size}
			packets := classicPackets(300)
			if format == FormatPcapng {
				opts.Interfaces, opts.Section = ng.Interfaces, ng.Section
				packets = ngTestPackets(300)
			}
			total := 0
			for _, p := range packets {
				total += len(p.data)
			}
			if total < 2*writerBufferSize || total > 1<<20 {
				t.Fatalf("%d bytes of packets: the test wants more than two default buffers, less than 1 MiB", total)
			}
			var rec recordingWriter
			w, err := NewPacketWriter(&rec, opts)
			if err != nil {
				t.Fatal(err)
			}
			headerWrites := len(rec.writes)
			for _, p := range packets {
				if err := w.WritePacket(p.ci, p.data); err != nil {
					t.Fatal(err)
				}
			}
			written := len(rec.writes) - headerWrites
			switch {
			case size == 0 && written == 0:
				t.Errorf("%v, default buffer: %d bytes of packets still wait", format, total)
			case size != 0 && written != 0:
				t.Errorf("%v, buffer of %d: %d writes before the buffer filled", format, size, written)
			}
			for _, chunk := range rec.writes[headerWrites:] {
				if format == FormatPcap && len(chunk) > max(size, writerBufferSize) {
					t.Errorf("%v: a write of %d bytes, more than the buffer", format, len(chunk))
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, got := mustRead(t, bytes.Join(rec.writes, nil))
			checkPackets(t, got, expectWritten(opts, packets))
		}
	}
}

// TestWritePacketInfoWritesTheSameFile: the pointer form writes what
// WritePacket writes, through NewPacketWriter and on a Writer.
func TestWritePacketInfoWritesTheSameFile(t *testing.T) {
	type infoWriter interface {
		PacketWriter
		WritePacketInfo(ci *CaptureInfo, data []byte) error
	}
	opts := WriterOptions{Interfaces: []Interface{{LinkType: LinkTypeEthernet, Snaplen: 1000, TimestampResolution: 1e9}}}
	packets := writtenPackets(200) // some longer than the snap length
	var byValue, byPointer bytes.Buffer
	for _, out := range []*bytes.Buffer{&byValue, &byPointer} {
		pw, err := NewPacketWriter(out, opts)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := pw.(infoWriter)
		if !ok {
			t.Fatal("NewPacketWriter's writer has no WritePacketInfo")
		}
		for _, p := range packets {
			if out == &byValue {
				err = w.WritePacket(p.ci, p.data)
			} else {
				err = w.WritePacketInfo(&p.ci, p.data)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(byValue.Bytes(), byPointer.Bytes()) {
		t.Fatal("WritePacketInfo wrote another file than WritePacket")
	}
	_, got := mustRead(t, byPointer.Bytes())
	checkPackets(t, got, expectWritten(opts, packets))
}
