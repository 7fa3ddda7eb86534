package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/weircap/weir/pcap"
)

// The committed captures must be what the generator writes today.
func TestCommittedCapturesAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir, 0, ""); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", "..", "testdata", "captures")
	names := []string{"README.md"}
	for _, c := range captures {
		names = append(names, c.file)
	}
	for _, name := range names {
		fresh, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		old, err := os.ReadFile(filepath.Join(committed, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, old) {
			t.Errorf("testdata/captures/%s is stale: go run ./internal/cmd/gencaptures -out testdata/captures", name)
		}
	}
}

func TestCatalogChecksumsVerify(t *testing.T) {
	for _, f := range catalog() {
		p := f.payload
		if f.etherType != etherTypeIPv4 {
			continue
		}
		hdrLen := int(p[0]&0xf) * 4
		if checksum(p[:hdrLen]) != 0 {
			t.Errorf("%s: bad IPv4 header checksum", f.desc)
		}
		fragment := binary.BigEndian.Uint16(p[6:])&0x3fff != 0
		if fragment || (p[9] != protoTCP && p[9] != protoUDP) {
			continue
		}
		src := [4]byte(p[12:16])
		dst := [4]byte(p[16:20])
		seg := p[hdrLen:]
		sum := sumBytes(src[:]) + sumBytes(dst[:]) + uint32(p[9]) + uint32(len(seg)) + sumBytes(seg)
		if fold(sum) != 0 {
			t.Errorf("%s: bad transport checksum", f.desc)
		}
	}
}

func TestWrapLinkHeaders(t *testing.T) {
	frames := catalog()
	var v4, v6, arpFrame frame
	for _, f := range frames {
		switch {
		case f.etherType == etherTypeIPv4 && v4.payload == nil && !f.tagged:
			v4 = f
		case f.etherType == etherTypeIPv6 && v6.payload == nil && !f.tagged:
			v6 = f
		case f.etherType == etherTypeARP && arpFrame.payload == nil:
			arpFrame = f
		}
	}
	for _, tc := range []struct {
		lt     pcap.LinkType
		f      frame
		index  int
		header []byte // nil: only the header length is checked
		hdrLen int
		ok     bool
	}{
		{pcap.LinkTypeEthernet, v4, 0, nil, 14, true},
		{pcap.LinkTypeLinuxSLL, v4, 0, nil, 16, true},
		{pcap.LinkTypeLinuxSLL2, v4, 0, nil, 20, true},
		{pcap.LinkTypeRaw, v4, 0, []byte{}, 0, true},
		{pcap.LinkTypeNull, v4, 0, []byte{2, 0, 0, 0}, 4, true},
		{pcap.LinkTypeLoop, v4, 0, []byte{0, 0, 0, 2}, 4, true},
		{pcap.LinkTypeNull, v6, 1, []byte{28, 0, 0, 0}, 4, true},
		{pcap.LinkTypeLoop, v6, 2, []byte{0, 0, 0, 30}, 4, true},
		{pcap.LinkTypeIPv4, v6, 0, nil, 0, false},
		{pcap.LinkTypeIPv6, v4, 0, nil, 0, false},
		{pcap.LinkTypeRaw, arpFrame, 0, nil, 0, false},
		{pcap.LinkTypeLinuxSLL, arpFrame, 0, nil, 16, true},
	} {
		data, wireLen, ok := wrap(tc.lt, tc.f, tc.index)
		if ok != tc.ok {
			t.Errorf("%s %s: ok = %v", tc.lt, tc.f.desc, ok)
			continue
		}
		if !ok {
			continue
		}
		if tc.header != nil && !bytes.Equal(data[:tc.hdrLen], tc.header) {
			t.Errorf("%s %s: header % x, want % x", tc.lt, tc.f.desc, data[:tc.hdrLen], tc.header)
		}
		if !bytes.Equal(data[tc.hdrLen:tc.hdrLen+len(tc.f.payload)], tc.f.payload) || wireLen < len(data) {
			t.Errorf("%s %s: payload not at offset %d (len %d, wire %d)", tc.lt, tc.f.desc, tc.hdrLen, len(data), wireLen)
		}
	}
}

func TestTruncatedFramesAreCut(t *testing.T) {
	for _, f := range truncated() {
		data, wireLen, _ := wrap(pcap.LinkTypeLinuxSLL2, f, 0)
		if len(data) != 20+f.captured || wireLen != 20+len(f.payload) {
			t.Errorf("%s: caplen %d, len %d", f.desc, len(data), wireLen)
		}
	}
}

func TestBigIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	if err := errors.Join(writeBig(a, 2000), writeBig(b, 2000)); err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Fatal("two runs of -big wrote different files")
	}
	// Walk the records: every frame is 60-1514 bytes and IPv4 headers verify.
	n := 0
	for off := 24; off < len(da); n++ {
		caplen := int(binary.LittleEndian.Uint32(da[off+8:]))
		frame := da[off+16 : off+16+caplen]
		if caplen < 60 || caplen > 1514 {
			t.Fatalf("packet %d: %d bytes", n+1, caplen)
		}
		if binary.BigEndian.Uint16(frame[12:]) == etherTypeIPv4 && checksum(frame[14:34]) != 0 {
			t.Fatalf("packet %d: bad IPv4 header checksum", n+1)
		}
		off += 16 + caplen
	}
	if n != 2000 {
		t.Errorf("%d packets, want 2000", n)
	}
}
