package capture

import (
	"bytes"
	"errors"
	"testing"
)

// linkMessage is one RTM_NEWLINK message as the kernel writes it.
func linkMessage(index, flags uint32, attrs ...[]byte) []byte {
	body := make([]byte, ifinfomsgLen)
	hostOrder.PutUint32(body[4:], index)
	hostOrder.PutUint32(body[8:], flags)
	for _, a := range attrs {
		body = append(body, a...)
	}
	return netlinkMessage(rtmNewLink, body)
}

func netlinkMessage(typ uint16, body []byte) []byte {
	m := make([]byte, nlmsgHeaderLen, nlmsgHeaderLen+len(body)+3)
	hostOrder.PutUint32(m, uint32(nlmsgHeaderLen+len(body)))
	hostOrder.PutUint16(m[4:], typ)
	m = append(m, body...)
	return append(m, make([]byte, align4(len(m))-len(m))...)
}

// linkAttr is a struct rtattr holding value, padded to 4 bytes.
func linkAttr(typ uint16, value string) []byte {
	a := make([]byte, rtattrLen, rtattrLen+len(value)+4)
	hostOrder.PutUint16(a, uint16(rtattrLen+len(value)))
	hostOrder.PutUint16(a[2:], typ)
	a = append(a, value...)
	return append(a, make([]byte, align4(len(a))-len(a))...)
}

func linkDump() []byte {
	var dump []byte
	dump = append(dump, linkMessage(1, iffUp|iffRunning|iffLoopback, linkAttr(iflaIfname, "lo\x00"), linkAttr(4, "\x00\x00\x01\x00"))...)
	var prog [4]byte
	hostOrder.PutUint32(prog[:], 42)
	xdp := string(linkAttr(iflaXDPAttach, "\x02")) + string(linkAttr(iflaXDPProgID, string(prog[:])))
	dump = append(dump, linkMessage(7, iffUp, linkAttr(iflaIfalias, "uplink\x00"), linkAttr(iflaIfname, "eth0\x00"), linkAttr(iflaXDP|0x8000, xdp))...)
	dump = append(dump, linkMessage(9, 0, linkAttr(iflaIfname|0x8000, "dummy0\x00"))...) // NLA_F_NESTED set
	return append(dump, netlinkMessage(nlmsgDone, make([]byte, 4))...)
}

func TestParseLinks(t *testing.T) {
	list, err := parseLinks(linkDump())
	if err != nil {
		t.Fatal(err)
	}
	want := []Interface{
		{Index: 1, Name: "lo", Up: true, Running: true, Loopback: true},
		{Index: 7, Name: "eth0", Description: "uplink", Up: true, XDPProgram: 42, XDPMode: 2},
		{Index: 9, Name: "dummy0"},
	}
	if len(list) != len(want) {
		t.Fatalf("%d interfaces, want %d: %+v", len(list), len(want), list)
	}
	for i := range want {
		if list[i] != want[i] {
			t.Errorf("interface %d: %+v, want %+v", i, list[i], want[i])
		}
	}
}

func TestParseLinksMalformed(t *testing.T) {
	good := linkDump()
	first := len(linkMessage(1, iffUp|iffRunning|iffLoopback, linkAttr(iflaIfname, "lo\x00"), linkAttr(4, "\x00\x00\x01\x00")))
	cases := map[string]func(b []byte){
		"message longer than the dump":  func(b []byte) { hostOrder.PutUint32(b, uint32(len(b)+1)) },
		"message shorter than a header": func(b []byte) { hostOrder.PutUint32(b, 8) },
		"no room for ifinfomsg":         func(b []byte) { hostOrder.PutUint32(b[first:], nlmsgHeaderLen+8) },
		"attribute past its message":    func(b []byte) { hostOrder.PutUint16(b[nlmsgHeaderLen+ifinfomsgLen:], 200) },
		"attribute shorter than itself": func(b []byte) { hostOrder.PutUint16(b[nlmsgHeaderLen+ifinfomsgLen:], 2) },
		"index out of range":            func(b []byte) { hostOrder.PutUint32(b[nlmsgHeaderLen+4:], 1<<31) },
		"no name":                       func(b []byte) { hostOrder.PutUint16(b[nlmsgHeaderLen+ifinfomsgLen+2:], 99) },
	}
	for name, damage := range cases {
		b := bytes.Clone(good)
		damage(b)
		if _, err := parseLinks(b); !errors.Is(err, errBadLinkDump) {
			t.Errorf("%s: %v, want errBadLinkDump", name, err)
		}
	}
}

func FuzzParseLinks(f *testing.F) {
	f.Add(linkDump())
	f.Add(linkMessage(2, iffUp, linkAttr(iflaIfname, "x")))
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := parseLinks(b)
		if err == nil {
			for _, ifc := range list {
				if ifc.Name == "" || ifc.Index < 0 {
					t.Fatalf("parsed %+v", ifc)
				}
			}
		}
	})
}
