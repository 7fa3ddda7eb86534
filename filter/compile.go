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
	// Resolver looks up host, network and Ethernet host names; nil means
	// the system's.
	Resolver Resolver
	// Savefile is true when filtering a capture file rather than a live
	// interface. As in libpcap, NULL and LOOP captures then accept every
	// BSD value of AF_INET6, and direction tests need link-layer fields.
	Savefile bool
	// SavefileBigEndian is the capture file's byte order, which is also
	// the byte order of DLT_NULL's address-family word.
	SavefileBigEndian bool
	// KernelVLAN targets a live AF_PACKET socket on Ethernet, where the
	// kernel takes the outer VLAN tag out of the packet into metadata:
	// "vlan" then tests the metadata first (libpcap's
	// BPF_SPECIAL_VLAN_HANDLING), so live and offline give the same answer
	// for the same frame on the wire.
	KernelVLAN bool
	// Sets are the sets an expression may name with "@name". Classic BPF
	// has no lookup: each use is expanded into an "or" of the primitive
	// with every entry, up to MaxClassicSetEntries entries.
	Sets map[string]*Set
	// SetLookups compiles each use of a set as lookups of the fields it
	// tests (Lookup instructions), whatever the set's size, for the eBPF
	// backends and weir's VM; the kernel's classic BPF cannot run them.
	SetLookups bool
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
	// LookupEther returns the 6-byte Ethernet address of a host from the
	// ethers database (/etc/ethers), as ether_hostton.
	LookupEther(name string) ([]byte, error)
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
func compileTree(expr string, root Node, cfg Config) (Program, error) {
	if cfg.Snaplen == 0 {
		cfg.Snaplen = DefaultSnaplen
	}
	entry, noOptimize, err := buildGraph(expr, root, cfg)
	if err != nil {
		return nil, err
	}
	var order []*block // assembly order; nil for libpcap's
	if cfg.Optimize {
		if order, err = optimizeTree(entry, noOptimize); err != nil {
			return nil, &Error{Expr: expr, Pos: 0, Msg: err.Error()}
		}
	}
	if order == nil {
		order = postOrder(entry)
	}
	prog, err := assembleOrder(order)
	if err != nil {
		return nil, &Error{Expr: expr, Pos: 0, Msg: err.Error()}
	}
	// Every program is checked before anyone runs it: a failure here is a
	// compiler bug, reported rather than run.
	if err := validate(prog, userlandRules); err != nil {
		return nil, &Error{Expr: expr, Pos: 0, Msg: "internal error, invalid program: " + err.Error()}
	}
	return prog, nil
}

// buildGraph runs the generator on a parsed expression (nil: accept
// everything). noOptimize reports code that libpcap leaves unoptimized
// (jumps inside blocks), which weir leaves alone too.
func buildGraph(expr string, root Node, cfg Config) (entry *block, noOptimize bool, err error) {
	if root == nil {
		return retBlock(cfg.Snaplen), false, nil
	}
	g := newGen(expr, cfg)
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(compileError)
			if !ok {
				panic(r)
			}
			entry, noOptimize, err = nil, false, ce.err
		}
	}()
	f := g.insertVarOffsets(g.node(root))
	return finish(f, cfg.Snaplen), g.noOptimize, nil
}
