package filter

import (
	"errors"
	"net/netip"
)

// offlineResolver knows a few names and never asks the network, so tests
// and fuzzing stay on this machine.
type offlineResolver struct{}

var errNoSuchName = errors.New("no such name")

func (offlineResolver) LookupHost(name string) ([]netip.Addr, error) {
	switch name {
	case "localhost":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
	case "v4only":
		return []netip.Addr{netip.MustParseAddr("198.18.0.1")}, nil
	case "v6only":
		return []netip.Addr{netip.MustParseAddr("fd00:beef::1")}, nil
	case "gw":
		return []netip.Addr{netip.MustParseAddr("198.18.0.254"), netip.MustParseAddr("fd00:beef::fe")}, nil
	case "gw2":
		return []netip.Addr{netip.MustParseAddr("198.18.0.254"), netip.MustParseAddr("198.19.0.254")}, nil
	}
	return nil, errNoSuchName
}

func (offlineResolver) LookupNetwork(name string) (uint32, error) {
	if name == "loopback" {
		return 0x7f000000, nil
	}
	return 0, errNoSuchName
}

func (offlineResolver) LookupEther(name string) ([]byte, error) {
	switch name {
	case "gw", "gw2", "ethonly", "v6only":
		return []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}, nil
	}
	return nil, errNoSuchName
}
