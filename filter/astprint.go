package filter

import (
	"strconv"
	"strings"
)

// The String methods print the canonical form of the AST: fully
// parenthesised, every qualifier explicit, so that parsing the output
// gives a tree that prints the same.

func (n *And) String() string { return "(" + n.X.String() + " and " + n.Y.String() + ")" }
func (n *Or) String() string  { return "(" + n.X.String() + " or " + n.Y.String() + ")" }
func (n *Not) String() string { return "not " + n.X.String() }

func (n *Primitive) String() string {
	var b strings.Builder
	for _, q := range []string{n.Q.Proto.String(), n.Q.Dir.String(), n.Q.Addr.String()} {
		if q != "" {
			b.WriteString(q)
			b.WriteByte(' ')
		}
	}
	b.WriteString(n.Value.String())
	return b.String()
}

// String prints the value as it is written in an expression.
func (v Value) String() string {
	s := v.Text
	if v.Kind == ValueSet {
		return "@" + s
	}
	if v.Escaped {
		s = `\` + s
	}
	if v.Prefix >= 0 {
		s += "/" + strconv.Itoa(v.Prefix)
	}
	if v.Mask != "" {
		s += " mask " + v.Mask
	}
	return s
}

func (n *ProtoAbbrev) String() string { return n.Proto.String() }

func (n *Broadcast) String() string { return withProto(n.Proto, "broadcast") }
func (n *Multicast) String() string { return withProto(n.Proto, "multicast") }

func withProto(p Proto, s string) string {
	if p == ProtoDefault {
		return s
	}
	return p.String() + " " + s
}

func (n *Length) String() string {
	if n.Greater {
		return "greater " + utoa(n.N)
	}
	return "less " + utoa(n.N)
}

func (n *ByteOp) String() string {
	return "byte " + utoa(n.Index) + " " + string(n.Op) + " " + utoa(n.Value)
}

func (n *Compare) String() string {
	return "(" + n.X.String() + " " + n.Op.String() + " " + n.Y.String() + ")"
}

func (n *Direction) String() string {
	if n.Out {
		return "outbound"
	}
	return "inbound"
}

func (n *Ifindex) String() string { return "ifindex " + utoa(n.N) }

func (n *Encap) String() string {
	if n.HasN {
		return n.Keyword + " " + utoa(n.N)
	}
	return n.Keyword
}

func (n *Keyword) String() string { return strings.Join(n.Words, " ") }

func (n *Num) String() string {
	if n.Name != "" {
		return n.Name
	}
	return utoa(n.V)
}

func (n *PacketLen) String() string { return "len" }

func (n *Load) String() string {
	return n.Proto.String() + "[" + n.Index.String() + ":" + strconv.Itoa(n.Size) + "]"
}

func (n *Binary) String() string {
	x := n.X.String()
	if _, neg := n.X.(*Neg); neg && (n.Op == OpXor || n.Op == OpMod) {
		// "-a ^ b" reads as -(a ^ b): '^' and '%' take the operand before them.
		x = "(" + x + ")"
	}
	return "(" + x + " " + n.Op.String() + " " + n.Y.String() + ")"
}

func (n *Neg) String() string { return "-" + n.X.String() }

func utoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
