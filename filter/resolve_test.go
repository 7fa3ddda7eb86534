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
	}
	return nil, errNoSuchName
}

func (offlineResolver) LookupNetwork(name string) (uint32, error) {
	if name == "loopback" {
		return 0x7f000000, nil
	}
	return 0, errNoSuchName
}
