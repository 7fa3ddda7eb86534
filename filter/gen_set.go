package filter

import (
	"fmt"
	"strings"
)

// MaxClassicSetEntries is the most entries a set may have where classic
// BPF runs it: each entry becomes a test in an "or" chain.
const MaxClassicSetEntries = 256

// setPrimitive compiles "qualifiers @name" as the "or" of the primitive
// with each entry of the set, every qualifier keeping its meaning.
func (g *gen) setPrimitive(p *Primitive) frag {
	name := p.Value.Text
	set := g.cfg.Sets[name]
	if set == nil {
		g.fail("unknown set @%s (define it with --set %s=FILE)", name, name)
	}
	switch p.Q.Addr {
	case AddrProto, AddrProtochain, AddrGateway:
		g.fail("a set cannot follow '%s': sets are values of host, net, port, portrange and ether host", p.Q.Addr)
	}
	if g.cfg.SetLookups {
		return g.setLookups(p, set)
	}
	if p.Q.Dir == DirSrcAndDst {
		// Both ends in the set, not one entry at both ends: as lookups.
		src, dst := *p, *p
		src.Q.Dir, dst.Q.Dir = DirSrc, DirDst
		return and(g.setPrimitive(&src), g.setPrimitive(&dst))
	}
	if n := len(set.Entries); n > MaxClassicSetEntries {
		g.fail("set @%s has %d entries, more than the %d that classic BPF takes as an 'or' chain: capture with --ebpf, --xdp or --tc, which look sets up in kernel maps", name, n, MaxClassicSetEntries)
	}
	var f frag
	used := 0
	for i := range set.Entries {
		if otherFamily(p.Q.Proto, &set.Entries[i]) {
			continue
		}
		ef := g.setEntry(p, set, &set.Entries[i])
		if used == 0 {
			f = ef
		} else {
			f = or(f, ef)
		}
		used++
	}
	if used == 0 {
		return g.genFalse() // an empty set matches nothing
	}
	return f
}

// otherFamily reports an address entry of the IP version the protocol
// qualifier excludes: "ip6 host @mixed" uses the set's IPv6 entries, "ip
// host @mixed" (or arp, rarp) its IPv4 ones, where a written address of
// the other version is an error.
func otherFamily(proto Proto, e *SetEntry) bool {
	if e.Kind != SetAddress && e.Kind != SetPrefix {
		return false
	}
	switch proto {
	case ProtoIPv6, ProtoICMPv6:
		return !e.IPv6
	case ProtoIP, ProtoARP, ProtoRARP:
		return e.IPv6
	}
	return false
}

// setEntry compiles the primitive for one entry; an error names the set,
// the entry and its line.
func (g *gen) setEntry(p *Primitive, set *Set, e *SetEntry) (f frag) {
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(compileError)
			if !ok {
				panic(r)
			}
			ce.err.Msg += fmt.Sprintf(" (set @%s, %s:%d: %s)", set.Name, set.Source, e.Line, e.String())
			panic(ce)
		}
	}()
	if msg := setEntryMismatch(p.Q, e); msg != "" {
		g.fail("%s", replaceName(msg, set.Name))
	}
	q := p.Q
	switch e.Kind {
	case SetPort:
		return g.numberValue(uint32(e.Port), q)
	case SetPortRange:
		if q.Addr == AddrPort {
			q.Addr = AddrPortRange
		}
		return g.portRange(uint32(e.Port), uint32(e.LastPort), g.transportOf(q.Proto, "portrange"), q.Dir)
	}
	ep := *p
	ep.Value = entryValue(e)
	if e.Kind == SetPrefix && q.Addr == AddrDefault {
		// "src @nets": a network entry is a network, as "src net" says;
		// libpcap refuses a written "src 10.0.0.0/8".
		ep.Q.Addr = AddrNet
	}
	return g.primitive(&ep)
}

// replaceName puts the set's name in a message of setEntryMismatch.
func replaceName(msg, name string) string { return strings.ReplaceAll(msg, "NAME", name) }

// entryValue is the entry as if written in the expression.
func entryValue(e *SetEntry) Value {
	v := Value{Prefix: -1}
	switch e.Kind {
	case SetMAC:
		v.Kind, v.Text = ValueMAC, e.String()
		return v
	case SetPrefix:
		v.Prefix = int(e.Bits)
	}
	v.Kind, v.Text = ValueHost, e.Prefix().Addr().String()
	if e.IPv6 {
		v.Kind = ValueHost6
	}
	return v
}

// setEntryMismatch says why an entry cannot be the value of a primitive
// with qualifiers q ("" when it can); NAME stands for the set's name.
func setEntryMismatch(q Qualifiers, e *SetEntry) string {
	isPort := q.Addr == AddrPort || q.Addr == AddrPortRange
	switch e.Kind {
	case SetPort, SetPortRange:
		if !isPort {
			return fmt.Sprintf("%s is %s: only 'port' and 'portrange' take ports", e.String(), e.Kind)
		}
	case SetPrefix:
		if q.Addr == AddrHost {
			return fmt.Sprintf("%s is a network: 'host' takes addresses (write 'net @NAME')", e.String())
		}
		fallthrough
	default:
		if isPort {
			return fmt.Sprintf("%s is %s: '%s' takes port numbers", e.String(), e.Kind, q.Addr)
		}
	}
	return ""
}
