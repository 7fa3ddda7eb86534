package capture

import (
	"bytes"
	"errors"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

func TestLiveTunIsRawIP(t *testing.T) {
	v := testutil.NewVeth(t)
	tun := v.AddTun(t)
	packets := [][]byte{
		ipv4(hostA, hostB, protoUDP, udp(5, 53, 10)),
		ipv4(hostA, hostB, protoTCP, tcpSYN(5, 80)),
		ipv6(hostA6, hostB6, protoUDP, udp(5, 53, 10)),
	}
	all := openIn(t, v, Config{Interface: testutil.TunIf}, "")
	if all.LinkType() != pcap.LinkTypeRaw {
		t.Fatalf("tun link type %v, want RAW", all.LinkType())
	}
	allC := collect(all)
	udpC := collect(openIn(t, v, Config{Interface: testutil.TunIf}, "udp"))
	tun.Write(t, packets...)
	allC.waitCount(t, len(packets))
	comparePackets(t, "tun", allC.finish(t), packets, pcap.LinkTypeRaw)
	comparePackets(t, "tun udp", udpC.finish(t), [][]byte{packets[0], packets[2]}, pcap.LinkTypeRaw)
}

func TestLiveLoopbackIsEthernet(t *testing.T) {
	v := testutil.NewVeth(t)
	v.LoopbackUp(t)
	src := openIn(t, v, Config{Interface: "lo"}, "udp port 9999")
	if src.LinkType() != pcap.LinkTypeEthernet {
		t.Fatalf("lo link type %v, want EN10MB", src.LinkType())
	}
	c := collect(src)
	payload := []byte("loopback datagram")
	sendLoopback(t, v, payload, 3)
	c.waitCount(t, 3)
	got := c.finish(t)
	if len(got) != 3 {
		// libpcap drops the outgoing copy: each packet shows once.
		t.Fatalf("%d packets for 3 datagrams on lo", len(got))
	}
	for i, p := range got {
		if !bytes.Equal(p.data[:14], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0}) ||
			!bytes.HasSuffix(p.data, payload) || p.data[14+9] != protoUDP {
			t.Errorf("packet %d = %x, want a zero-address Ethernet frame around the datagram", i, p.data)
		}
	}
}

func TestLiveInterfaces(t *testing.T) {
	v := testutil.NewVeth(t)
	nl, err := netlink.NewHandleAt(v.Capture)
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	link, err := nl.LinkByName(testutil.CaptureIf)
	if err == nil {
		err = nl.LinkSetAlias(link, "the capture side")
	}
	if err != nil {
		t.Fatal(err)
	}
	err = testutil.Do(v.Capture, func() error {
		list, err := Interfaces()
		if err != nil {
			return err
		}
		names := map[string]Interface{}
		for _, i := range list {
			names[i.Name] = i
		}
		if c := names[testutil.CaptureIf]; !c.Up || c.Loopback || c.Index != v.CaptureIndex || c.Description != "the capture side" {
			t.Errorf("%s listed as %+v", testutil.CaptureIf, c)
		}
		if lo := names["lo"]; !lo.Loopback {
			t.Errorf("lo listed as %+v", lo)
		}
		if a, ok := names[AnyInterface]; !ok || a.Description == "" {
			t.Errorf("any listed as %+v", a)
		}
		if list[0].Name != testutil.CaptureIf {
			t.Errorf("first interface %q, want the up one", list[0].Name)
		}
		def, err := DefaultInterface()
		if err != nil {
			return err
		}
		if def != testutil.CaptureIf {
			t.Errorf("default interface %q, want %q", def, testutil.CaptureIf)
		}
		fc, err := FilterConfig("lo")
		if err != nil {
			return err
		}
		if fc.LinkType != pcap.LinkTypeEthernet || !fc.KernelVLAN {
			t.Errorf("lo filter config %+v, want Ethernet with kernel VLAN", fc)
		}
		fc, err = FilterConfig(testutil.CaptureIf)
		if err != nil {
			return err
		}
		if fc.Netmask != 0xffffff00 {
			t.Errorf("netmask %#x, want the /24 of the fixture", fc.Netmask)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLiveMissingInterface(t *testing.T) {
	v := testutil.NewVeth(t)
	err := testutil.Do(v.Capture, func() error {
		for _, name := range []string{"eth9", "a-name-far-too-long-for-linux"} {
			_, err := Open(Config{Interface: name})
			if !errors.Is(err, ErrNoSuchInterface) || err.Error() != name+": no such interface" {
				t.Errorf("Open(%q): %v", name, err)
			}
			if _, err := FilterConfig(name); !errors.Is(err, ErrNoSuchInterface) {
				t.Errorf("FilterConfig(%q): %v", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLiveInterfaceNotUp(t *testing.T) {
	v := testutil.NewVeth(t) // lo stays down in the fresh namespace
	err := testutil.Do(v.Capture, func() error {
		_, err := Open(Config{Interface: "lo"})
		if !errors.Is(err, ErrInterfaceNotUp) || err.Error() != "lo: interface is not up" {
			t.Errorf("Open on a down interface: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
