package filter

import (
	"github.com/weircap/weir/pcap"
)

// DefaultSnaplen is what a matching program returns when the caller gives
// no snap length, as tcpdump's default.
const DefaultSnaplen = 262144

// Config controls how an expression is compiled.
type Config struct {
	LinkType pcap.LinkType
	// Snaplen is the value a matching program returns; 0 means DefaultSnaplen.
	Snaplen uint32
	// Optimize runs the optimizer (tcpdump without -O).
	Optimize bool
	// Netmask is the IPv4 netmask "ip broadcast" uses; 0 offline, as tcpdump.
	Netmask uint32
	// Resolver looks up host names; nil means the system resolver.
	Resolver Resolver
}

// Resolver turns names in expressions into addresses. Host names reach it
// only when the user writes one.
type Resolver interface {
	LookupHost(name string) (ipv4 [][4]byte, ipv6 [][16]byte, err error)
}
