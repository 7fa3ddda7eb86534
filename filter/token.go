package filter

import "fmt"

// tokenKind is the class of a lexical token, one per terminal of libpcap's
// grammar (aliases share a kind: "ether", "link", "wlan"... are all
// tokPname with ProtoLink).
type tokenKind int

const (
	tokEOF     tokenKind = iota
	tokIllegal           // a lexical error; token.Err says why

	// Values.
	tokID   // a name, or "\name"
	tokNum  // a number or named constant
	tokHID  // dotted IPv4 host id: 2 to 4 parts
	tokHID6 // IPv6 address
	tokEID  // MAC address
	tokAID  // "$xx" ARCnet address
	tokSet  // "@name": a set of values (weir's own)

	// Operators.
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokColon
	tokPlus
	tokMinus
	tokStar
	tokSlash
	tokPercent
	tokAmp
	tokPipe
	tokCaret
	tokLsh
	tokRsh
	tokNot // "!" or "not"
	tokAnd // "and" or "&&"
	tokOr  // "or" or "||"
	tokEq  // "=" or "=="
	tokNe
	tokLt
	tokLe
	tokGt
	tokGe

	// Qualifiers.
	tokPname // a protocol name; token.Proto says which
	tokSrc
	tokDst
	tokAddrQual // addr1..addr4, ra, ta; token.Dir says which
	tokHost
	tokNet
	tokMask
	tokPort
	tokPortRange
	tokProto
	tokProtochain
	tokGateway

	// Primitives.
	tokLess
	tokGreater
	tokByte
	tokBroadcast
	tokMulticast
	tokLen
	tokInbound
	tokOutbound
	tokIfindex
	tokEncap // vlan, mpls, pppoed, pppoes, geneve
	tokType
	tokSubtype
	tokDir
	tokLLC
	tokPfIfname // on, ifname
	tokPfRset   // rset, ruleset
	tokPfRnr    // rnr, rulenum
	tokPfSrnr   // srnr, subrulenum
	tokPfReason
	tokPfAction
	tokAtmType      // lane, metac, bcc, oamf4ec, oamf4sc, sc, ilmic
	tokAtmMultiType // oam, oamf4, connectmsg, metaconnect
	tokAtmField     // vpi, vci
	tokMtp2Type     // fisu, lssu, msu, hfisu, hlssu, hmsu
	tokMtp3Field    // sio, opc, dpc, sls, hsio, hopc, hdpc, hsls
)

// token is one lexical token of an expression.
type token struct {
	Kind tokenKind
	Pos  int    // byte offset of the first byte
	Text string // the source text
	// Word is the canonical spelling of a keyword ("dir" for "direction"),
	// the name of an ID without its escaping backslash, or the name of a
	// named constant.
	Word  string
	Num   uint32 // value of a tokNum
	Proto Proto  // for tokPname
	Dir   Dir    // for tokAddrQual
	Err   string // for tokIllegal
}

// End returns the offset just past the token.
func (t token) End() int { return t.Pos + len(t.Text) }

// describe names the token for error messages: "'and'", "end of expression".
func (t token) describe() string {
	switch t.Kind {
	case tokEOF:
		return "end of expression"
	case tokNum, tokHID, tokHID6, tokEID, tokAID, tokSet:
		return fmt.Sprintf("%s '%s'", kindNames[t.Kind], t.Text)
	}
	return "'" + t.Text + "'"
}

var kindNames = map[tokenKind]string{
	tokNum:  "number",
	tokHID:  "IPv4 address",
	tokHID6: "IPv6 address",
	tokEID:  "MAC address",
	tokAID:  "ARCnet address",
	tokSet:  "set",
}

type keyword struct {
	kind  tokenKind
	word  string // canonical spelling
	proto Proto
	dir   Dir
}

// keywords maps every reserved word of libpcap 1.10's scanner to its token.
var keywords = map[string]keyword{}

func addKeywords(kind tokenKind, canonical string, spellings ...string) {
	for _, s := range spellings {
		keywords[s] = keyword{kind: kind, word: canonical}
	}
}

func init() {
	for _, s := range []string{"link", "ether", "ppp", "slip", "fddi", "tr", "wlan"} {
		keywords[s] = keyword{kind: tokPname, word: "ether", proto: ProtoLink}
	}
	pnames := map[string]Proto{
		"arp": ProtoARP, "rarp": ProtoRARP, "ip": ProtoIP, "sctp": ProtoSCTP,
		"tcp": ProtoTCP, "udp": ProtoUDP, "icmp": ProtoICMP, "igmp": ProtoIGMP,
		"igrp": ProtoIGRP, "pim": ProtoPIM, "vrrp": ProtoVRRP, "carp": ProtoCARP,
		"radio": ProtoRadio, "ip6": ProtoIPv6, "icmp6": ProtoICMPv6, "ah": ProtoAH,
		"esp": ProtoESP, "atalk": ProtoAtalk, "aarp": ProtoAARP, "decnet": ProtoDecnet,
		"lat": ProtoLAT, "sca": ProtoSCA, "moprc": ProtoMOPRC, "mopdl": ProtoMOPDL,
		"iso": ProtoISO, "esis": ProtoESIS, "es-is": ProtoESIS, "isis": ProtoISIS,
		"is-is": ProtoISIS, "l1": ProtoISISL1, "l2": ProtoISISL2, "iih": ProtoISISIIH,
		"lsp": ProtoISISLSP, "snp": ProtoISISSNP, "csnp": ProtoISISCSNP,
		"psnp": ProtoISISPSNP, "clnp": ProtoCLNP, "stp": ProtoSTP, "ipx": ProtoIPX,
		"netbeui": ProtoNetBEUI,
	}
	for s, p := range pnames {
		keywords[s] = keyword{kind: tokPname, word: p.String(), proto: p}
	}
	dirs := map[string]Dir{
		"addr1": DirAddr1, "address1": DirAddr1, "addr2": DirAddr2, "address2": DirAddr2,
		"addr3": DirAddr3, "address3": DirAddr3, "addr4": DirAddr4, "address4": DirAddr4,
		"ra": DirRA, "ta": DirTA,
	}
	for s, d := range dirs {
		keywords[s] = keyword{kind: tokAddrQual, word: d.String(), dir: d}
	}
	addKeywords(tokSrc, "src", "src")
	addKeywords(tokDst, "dst", "dst")
	addKeywords(tokHost, "host", "host")
	addKeywords(tokNet, "net", "net")
	addKeywords(tokMask, "mask", "mask")
	addKeywords(tokPort, "port", "port")
	addKeywords(tokPortRange, "portrange", "portrange")
	addKeywords(tokProto, "proto", "proto")
	addKeywords(tokProtochain, "protochain", "protochain")
	addKeywords(tokGateway, "gateway", "gateway")
	addKeywords(tokType, "type", "type")
	addKeywords(tokSubtype, "subtype", "subtype")
	addKeywords(tokDir, "dir", "dir", "direction")
	addKeywords(tokLess, "less", "less")
	addKeywords(tokGreater, "greater", "greater")
	addKeywords(tokByte, "byte", "byte")
	addKeywords(tokBroadcast, "broadcast", "broadcast")
	addKeywords(tokMulticast, "multicast", "multicast")
	addKeywords(tokAnd, "and", "and")
	addKeywords(tokOr, "or", "or")
	addKeywords(tokNot, "not", "not")
	addKeywords(tokLen, "len", "len", "length")
	addKeywords(tokInbound, "inbound", "inbound")
	addKeywords(tokOutbound, "outbound", "outbound")
	addKeywords(tokIfindex, "ifindex", "ifindex")
	for _, s := range []string{"vlan", "mpls", "pppoed", "pppoes", "geneve"} {
		addKeywords(tokEncap, s, s)
	}
	addKeywords(tokLLC, "llc", "llc")
	addKeywords(tokPfIfname, "on", "on", "ifname")
	addKeywords(tokPfRset, "rset", "rset", "ruleset")
	addKeywords(tokPfRnr, "rnr", "rnr", "rulenum")
	addKeywords(tokPfSrnr, "srnr", "srnr", "subrulenum")
	addKeywords(tokPfReason, "reason", "reason")
	addKeywords(tokPfAction, "action", "action")
	for _, s := range []string{"lane", "metac", "bcc", "oamf4ec", "oamf4sc", "sc", "ilmic"} {
		addKeywords(tokAtmType, s, s)
	}
	for _, s := range []string{"oam", "oamf4", "connectmsg", "metaconnect"} {
		addKeywords(tokAtmMultiType, s, s)
	}
	addKeywords(tokAtmField, "vpi", "vpi")
	addKeywords(tokAtmField, "vci", "vci")
	for _, s := range []string{"fisu", "msu", "hfisu", "hlssu", "hmsu"} {
		addKeywords(tokMtp2Type, s, s)
	}
	addKeywords(tokMtp2Type, "lssu", "lssu", "lsu")
	for _, s := range []string{"sio", "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls"} {
		addKeywords(tokMtp3Field, s, s)
	}
}

// namedConstants are the names libpcap's scanner turns into numbers.
var namedConstants = map[string]uint32{
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4,
	"icmp-redirect": 5, "icmp-echo": 8, "icmp-routeradvert": 9,
	"icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12,
	"icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
	"icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,

	"icmp6type": 0, "icmp6code": 1,
	"icmp6-destinationunreach": 1, "icmp6-packettoobig": 2,
	"icmp6-timeexceeded": 3, "icmp6-parameterproblem": 4,
	"icmp6-echo": 128, "icmp6-echoreply": 129,
	"icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
	"icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133,
	"icmp6-routeradvert": 134, "icmp6-neighborsolicit": 135,
	"icmp6-neighboradvert": 136, "icmp6-redirect": 137,
	"icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139,
	"icmp6-nodeinformationresponse": 140, "icmp6-ineighbordiscoverysolicit": 141,
	"icmp6-ineighbordiscoveryadvert": 142, "icmp6-multicastlistenerreportv2": 143,
	"icmp6-homeagentdiscoveryrequest": 144, "icmp6-homeagentdiscoveryreply": 145,
	"icmp6-mobileprefixsolicit": 146, "icmp6-mobileprefixadvert": 147,
	"icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
	"icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
	"icmp6-multicastrouterterm": 153,

	"tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04,
	"tcp-push": 0x08, "tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40,
	"tcp-cwr": 0x80,
}
