package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// TestCopyKeepsEverything copies a pcapng file of two sections, in both
// byte orders, with comments, flags and three interfaces of two link types
// and resolutions, into one section: every packet, its metadata and its
// interface survive.
func TestCopyKeepsEverything(t *testing.T) {
	p1, p2, p3, p4 := payload(10, 1), payload(20, 2), payload(30, 3), payload(40, 4)
	flags := func(o endian, v uint32) option { return option{optionEPBFlags, o.AppendUint32(nil, v)} }
	in := ngFile(binary.LittleEndian, option{optionSHBApplication, []byte("first")}).
		idb(uint16(LinkTypeEthernet), 0, option{optionName, []byte("eth0")}, option{optionFilter, append([]byte{0}, "tcp"...)}).
		epb(0, 1_000_001, 10, 10, p1, option{optionComment, []byte("one")}, flags(binary.LittleEndian, 1)).
		section(binary.BigEndian).
		idb(uint16(LinkTypeRaw), 0, option{optionName, []byte("tun0")}, option{optionTSResol, []byte{9}}).
		idb(uint16(LinkTypeEthernet), 64, option{optionName, []byte("eth1")}).
		epb(1, 2_000_000, 20, 20, p2, flags(binary.BigEndian, 2|3<<2)).
		epb(0, 3_000_000_123, 30, 30, p3, option{optionComment, []byte("three")}).
		epb(1, 4_000_000, 40, 40, p4)
	r, err := NewReader(bytes.NewReader(in.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := NewPacketWriter(&out, WriterOptions{Format: FormatPcapng, Interfaces: r.Interfaces(), Section: r.Section()})
	if err != nil {
		t.Fatal(err)
	}
	m := NewInterfaceMap(w.(InterfaceAdder), r)
	var want []wantPacket
	for {
		data, ci, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Map(r, &ci); err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
		want = append(want, wantPacket{bytes.Clone(data), ci})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	copied, got := mustRead(t, out.Bytes())
	checkPackets(t, got, want)
	var names []string
	for _, ifc := range copied.Interfaces() {
		names = append(names, ifc.Name)
	}
	if len(names) != 3 || names[0] != "eth0" || names[1] != "eth1" || names[2] != "tun0" || copied.Interfaces()[0].Filter != "tcp" {
		t.Errorf("interfaces of the copy: %+v", copied.Interfaces())
	}
	if want[1].ci.Comment != "" || want[2].ci.Comment != "three" || want[1].ci.Direction != DirectionOutbound || want[1].ci.Flags != 3<<2 {
		t.Errorf("metadata read: %+v", want)
	}
	if copied.Section().Application != "first" {
		t.Errorf("section %+v", copied.Section())
	}
}

// TestInterfaceMapToPcap: a pcap copy takes more interfaces of its link
// type, and refuses others.
func TestInterfaceMapToPcap(t *testing.T) {
	w, err := NewPacketWriter(io.Discard, WriterOptions{Interfaces: ethernetMicro})
	if err != nil {
		t.Fatal(err)
	}
	adder := w.(InterfaceAdder)
	if i, err := adder.AddInterface(Interface{LinkType: LinkTypeEthernet}); i != 0 || err != nil {
		t.Errorf("another Ethernet interface: %d, %v", i, err)
	}
	if _, err := adder.AddInterface(Interface{LinkType: LinkTypeRaw}); err == nil {
		t.Error("a raw IP interface accepted in an Ethernet pcap file")
	}
}
