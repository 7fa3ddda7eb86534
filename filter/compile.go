package filter

import (
	"net/netip"

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
	// Resolver looks up host and network names; nil means the system's.
	Resolver Resolver
	// Savefile is true when filtering a capture file rather than a live
	// interface. As in libpcap, NULL and LOOP captures then accept every
	// BSD value of AF_INET6, and direction tests need link-layer fields.
	Savefile bool
	// SavefileBigEndian is the capture file's byte order, which is also
	// the byte order of DLT_NULL's address-family word.
	SavefileBigEndian bool
}

// Resolver turns names in expressions into addresses. Host names reach it
// only when the user writes one.
type Resolver interface {
	// LookupHost returns the addresses of a host, IPv4 and IPv6 in the
	// order the resolver gives them.
	LookupHost(name string) ([]netip.Addr, error)
	// LookupNetwork returns a network number from the networks database
	// (/etc/networks), as getnetbyname: "loopback" is 127.0.0.0.
	LookupNetwork(name string) (uint32, error)
}

// Compile compiles an expression for cfg's link type. An empty expression
// accepts every packet. Errors are *Error, positioned in expr.
func Compile(expr string, cfg Config) (Program, error) {
	root, err := Parse(expr)
	if err != nil {
		return nil, err
	}
	return compileTree(expr, root, cfg)
}

// compileTree generates and assembles the program for a parsed expression.
func compileTree(expr string, root Node, cfg Config) (prog Program, err error) {
	if cfg.Snaplen == 0 {
		cfg.Snaplen = DefaultSnaplen
	}
	g := newGen(expr, cfg)
	var entry *block
	var order []*block // assembly order; nil for libpcap's
	if root == nil {
		entry = retBlock(cfg.Snaplen)
	} else {
		defer func() {
			if r := recover(); r != nil {
				ce, ok := r.(compileError)
				if !ok {
					panic(r)
				}
				prog, err = nil, ce.err
			}
		}()
		entry = finish(g.node(root), cfg.Snaplen)
		if cfg.Optimize {
			if order, err = optimizeTree(entry, g.noOptimize); err != nil {
				return nil, &Error{Expr: expr, Pos: 0, Msg: err.Error()}
			}
		}
	}
	if order == nil {
		order = postOrder(entry)
	}
	prog, err = assembleOrder(order)
	if err != nil {
		return nil, &Error{Expr: expr, Pos: 0, Msg: err.Error()}
	}
	return prog, nil
}
