package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// FuzzReader: any input is read without panicking; every packet's
// captured length is its data length and fits in the input; every failure
// is a *FormatError pointing into the input.
func FuzzReader(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input it finds, which
	// takes long on big ones.
	f.Add(classicHeader(binary.LittleEndian, magicNanoseconds, 2, 4, 0, 1).
		record(1, 2, 30, 40, payload(30, 0), false).
		record(3, 4, 0, 0, nil, false).bytes())
	modified := classicHeader(binary.BigEndian, magicModified, 2, 4, 100, uint32(LinkTypeEthernet)).
		record(1, 2, 20, 20, payload(20, 0), true)
	f.Add(modified.bytes())
	for _, bo := range byteOrders {
		ng, _ := ngSample(bo.order)
		f.Add(ng.bytes())
	}
	sections := ngFile(binary.LittleEndian).idb(1, 0).epb(0, 1, 4, 4, payload(4, 0)).
		section(binary.BigEndian).idb(101, 64, option{optionTSResol, []byte{0x80 | 20}}).spb(10, payload(10, 0))
	f.Add(sections.bytes())
	f.Add(benchmarkFile(true, 3))
	ng, _, _ := writeNg(f, ngTestOptions(), ngTestPackets(4))
	f.Add(ng)
	for _, c := range []Compression{CompressionGzip, CompressionZstd} {
		var out bytes.Buffer
		w, _ := NewPacketWriter(&out, WriterOptions{Compression: c, Interfaces: ethernetMicro})
		_ = w.WritePacket(CaptureInfo{Length: 9}, payload(9, 0))
		_ = w.Close()
		f.Add(out.Bytes())
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		// A compressed file's offsets and packets are those of the
		// decompressed stream, which may be longer than the file.
		size := int64(len(file))
		if compressionOf(file) != CompressionNone {
			size = 1 << 30
		}
		checkError := func(err error) {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			if fe.Offset < 0 || fe.Offset > size {
				t.Fatalf("error offset %d outside a %d-byte file", fe.Offset, size)
			}
		}
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			checkError(err)
			return
		}
		// Every record takes at least 12 bytes.
		for range min(size, 1<<20)/12 + 1 {
			data, ci, err := r.ReadPacket()
			if err == io.EOF {
				return
			}
			if err != nil {
				checkError(err)
				return
			}
			if ci.CaptureLength != len(data) || int64(len(data)) > size {
				t.Fatalf("captured length %d, data %d bytes, file %d bytes", ci.CaptureLength, len(data), len(file))
			}
		}
		t.Fatalf("more packets than a %d-byte file can hold", len(file))
	})
}
