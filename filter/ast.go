package filter

// The AST is a closed set of node types: boolean nodes (Node) built from
// primitives and relations, and arithmetic nodes (Arith) inside relations.
// Positions are byte offsets into the expression text.

// Node is a boolean filter expression.
type Node interface {
	Pos() int // offset of the node's first byte
	End() int // offset just past the node's last byte
	String() string
	node()
}

// Arith is an arithmetic expression inside a relation ("ip[0] & 0xf").
type Arith interface {
	Pos() int
	End() int
	String() string
	arith()
}

// Span is the source range of a node.
type Span struct{ From, To int }

// Pos returns the offset of the first byte.
func (s Span) Pos() int { return s.From }

// End returns the offset just past the last byte.
func (s Span) End() int { return s.To }

// And is "X and Y" (also "&&").
type And struct {
	Span
	X, Y Node
}

// Or is "X or Y" (also "||").
type Or struct {
	Span
	X, Y Node
}

// Not is "not X" (also "!").
type Not struct {
	Span
	X Node
}

// ValueKind tells how a primitive's value was written, which decides its
// meaning as in libpcap's scanner tokens.
type ValueKind int

// Value kinds.
const (
	ValueName   ValueKind = iota // ID: a name, or "\name" escaped keyword
	ValueNumber                  // NUM: decimal, 0x hex or 0 octal
	ValueHost                    // HID: dotted IPv4 form, 2 to 4 parts ("10.1", "10.0.0.1")
	ValueHost6                   // HID6: an IPv6 address
	ValueMAC                     // EID: a MAC address
	ValueArcnet                  // AID: "$xx" ARCnet address
	ValueSet                     // "@name": every value of a named Set (weir's own)
)

// Value is a primitive's operand as written.
type Value struct {
	Kind    ValueKind
	Text    string // as written, without the escaping backslash of a name
	Escaped bool   // a name written "\name"
	Number  uint32 // for ValueNumber
	// Prefix is the length after "/" ("10.0.0.0/8", "fd00::/64"), or -1.
	Prefix int
	// Mask is the dotted mask after "mask" ("net 10.0.0.0 mask 255.0.0.0"),
	// or "".
	Mask string
}

// Primitive is a qualified value: "src host 10.0.0.1", "tcp port 80",
// "ip proto 6", "ether proto \arp", or an inherited bare value ("b" in
// "host a or b"), whose Qualifiers were copied from the one before.
type Primitive struct {
	Span
	Q         Qualifiers
	Value     Value
	ValuePos  int  // offset of the value
	Inherited bool // Q was inherited, not written
}

// ProtoAbbrev is a protocol name on its own: "tcp", "ip6", "arp", "l1".
type ProtoAbbrev struct {
	Span
	Proto Proto
}

// Broadcast is "[proto] broadcast": ether, ip or (default) link broadcast.
type Broadcast struct {
	Span
	Proto Proto
}

// Multicast is "[proto] multicast".
type Multicast struct {
	Span
	Proto Proto
}

// Length is "less N" (Greater false) or "greater N" (Greater true).
type Length struct {
	Span
	Greater bool
	N       uint32
}

// ByteOp is "byte N op V": op one of '=', '<', '>', '&', '|'.
type ByteOp struct {
	Span
	Index uint32
	Op    byte
	Value uint32
}

// RelOp is a relational operator.
type RelOp int

// Relational operators.
const (
	RelEq RelOp = iota // "=" or "=="
	RelNe              // "!="
	RelLt              // "<"
	RelLe              // "<="
	RelGt              // ">"
	RelGe              // ">="
)

var relOpNames = [...]string{RelEq: "=", RelNe: "!=", RelLt: "<", RelLe: "<=", RelGt: ">", RelGe: ">="}

func (r RelOp) String() string { return relOpNames[r] }

// Compare is "X relop Y" between arithmetic expressions.
type Compare struct {
	Span
	Op   RelOp
	X, Y Arith
}

// Direction is "inbound" (Out false) or "outbound" (Out true).
type Direction struct {
	Span
	Out bool
}

// Ifindex is "ifindex N".
type Ifindex struct {
	Span
	N uint32
}

// Encap is an encapsulation keyword with an optional number: "vlan [N]",
// "mpls [N]", "pppoes [N]", "geneve [N]", or "pppoed". What follows it
// applies to the inner packet.
type Encap struct {
	Span
	Keyword string // "vlan", "mpls", "pppoed", "pppoes", "geneve"
	HasN    bool
	N       uint32
}

// Keyword is a primitive weir parses but whose meaning belongs to link
// types or features compiled elsewhere: "llc [i|s|u|name]", "type mgt",
// "subtype beacon", "dir tods", pflog's "on/rnr/reason/rset/srnr/action",
// and the ATM and SS7 words. Words holds the keywords and arguments in
// order: keywords in one canonical spelling ("dir" for "direction", "on"
// for "ifname", "rnr" for "rulenum", "lssu" for "lsu"), numbers in
// decimal, comparison operators as RelOp prints them, names as written
// (without an escaping backslash unless it keeps them names: "\123").
// A protocol before "type", "subtype" or "dir" is dropped, as libpcap
// ignores it. Number is the first numeric argument, if any.
type Keyword struct {
	Span
	Words     []string
	HasNumber bool
	Number    uint32
}

func (*And) node()         {}
func (*Or) node()          {}
func (*Not) node()         {}
func (*Primitive) node()   {}
func (*ProtoAbbrev) node() {}
func (*Broadcast) node()   {}
func (*Multicast) node()   {}
func (*Length) node()      {}
func (*ByteOp) node()      {}
func (*Compare) node()     {}
func (*Direction) node()   {}
func (*Ifindex) node()     {}
func (*Encap) node()       {}
func (*Keyword) node()     {}

// Num is a constant ("13", "0x1fff", or a named constant such as
// "tcpflags", "tcp-syn", "icmp-echo", kept in Name).
type Num struct {
	Span
	V    uint32
	Name string // the named constant as written, or ""
}

// PacketLen is "len": the packet's length on the wire.
type PacketLen struct{ Span }

// Load is packet access "proto[index]" or "proto[index:size]".
type Load struct {
	Span
	Proto Proto
	Index Arith
	Size  int // 1, 2 or 4 bytes
	// SizeGiven is true when ":size" was written.
	SizeGiven bool
}

// ArithOp is a binary arithmetic operator.
type ArithOp int

// Arithmetic operators.
const (
	OpAdd ArithOp = iota
	OpSub
	OpMul
	OpDiv
	OpMod
	OpAnd
	OpOr
	OpXor
	OpLsh
	OpRsh
)

var arithOpNames = [...]string{OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpMod: "%",
	OpAnd: "&", OpOr: "|", OpXor: "^", OpLsh: "<<", OpRsh: ">>"}

func (o ArithOp) String() string { return arithOpNames[o] }

// Binary is "X op Y".
type Binary struct {
	Span
	Op   ArithOp
	X, Y Arith
}

// Neg is unary minus "-X".
type Neg struct {
	Span
	X Arith
}

func (*Num) arith()       {}
func (*PacketLen) arith() {}
func (*Load) arith()      {}
func (*Binary) arith()    {}
func (*Neg) arith()       {}
