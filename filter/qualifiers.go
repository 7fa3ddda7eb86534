package filter

// Proto is the protocol qualifier of a primitive ("tcp" in "tcp port 80"),
// libpcap's Q_ proto values.
type Proto int

// Protocol qualifiers, as pcap-filter(7) spells them.
const (
	ProtoDefault Proto = iota
	ProtoLink          // "ether", "link" and their aliases (fddi, tr, wlan, ppp, slip)
	ProtoIP
	ProtoARP
	ProtoRARP
	ProtoSCTP
	ProtoTCP
	ProtoUDP
	ProtoICMP
	ProtoIGMP
	ProtoIGRP
	ProtoAtalk
	ProtoDecnet
	ProtoLAT
	ProtoSCA
	ProtoMOPRC
	ProtoMOPDL
	ProtoIPv6
	ProtoICMPv6
	ProtoAH
	ProtoESP
	ProtoPIM
	ProtoVRRP
	ProtoAARP
	ProtoISO
	ProtoESIS
	ProtoISIS
	ProtoCLNP
	ProtoSTP
	ProtoIPX
	ProtoNetBEUI
	ProtoISISL1
	ProtoISISL2
	ProtoISISIIH
	ProtoISISLSP
	ProtoISISSNP
	ProtoISISCSNP
	ProtoISISPSNP
	ProtoRadio
	ProtoCARP
)

var protoNames = [...]string{
	ProtoDefault:  "",
	ProtoLink:     "ether",
	ProtoIP:       "ip",
	ProtoARP:      "arp",
	ProtoRARP:     "rarp",
	ProtoSCTP:     "sctp",
	ProtoTCP:      "tcp",
	ProtoUDP:      "udp",
	ProtoICMP:     "icmp",
	ProtoIGMP:     "igmp",
	ProtoIGRP:     "igrp",
	ProtoAtalk:    "atalk",
	ProtoDecnet:   "decnet",
	ProtoLAT:      "lat",
	ProtoSCA:      "sca",
	ProtoMOPRC:    "moprc",
	ProtoMOPDL:    "mopdl",
	ProtoIPv6:     "ip6",
	ProtoICMPv6:   "icmp6",
	ProtoAH:       "ah",
	ProtoESP:      "esp",
	ProtoPIM:      "pim",
	ProtoVRRP:     "vrrp",
	ProtoAARP:     "aarp",
	ProtoISO:      "iso",
	ProtoESIS:     "esis",
	ProtoISIS:     "isis",
	ProtoCLNP:     "clnp",
	ProtoSTP:      "stp",
	ProtoIPX:      "ipx",
	ProtoNetBEUI:  "netbeui",
	ProtoISISL1:   "l1",
	ProtoISISL2:   "l2",
	ProtoISISIIH:  "iih",
	ProtoISISLSP:  "lsp",
	ProtoISISSNP:  "snp",
	ProtoISISCSNP: "csnp",
	ProtoISISPSNP: "psnp",
	ProtoRadio:    "radio",
	ProtoCARP:     "carp",
}

func (p Proto) String() string {
	if int(p) < len(protoNames) {
		return protoNames[p]
	}
	return "proto?"
}

// Dir is the direction qualifier ("src", "dst", "src or dst"...).
type Dir int

// Direction qualifiers.
const (
	DirDefault Dir = iota
	DirSrc
	DirDst
	DirSrcOrDst
	DirSrcAndDst
	DirAddr1 // 802.11 address fields
	DirAddr2
	DirAddr3
	DirAddr4
	DirRA
	DirTA
)

var dirNames = [...]string{
	DirDefault:   "",
	DirSrc:       "src",
	DirDst:       "dst",
	DirSrcOrDst:  "src or dst",
	DirSrcAndDst: "src and dst",
	DirAddr1:     "addr1",
	DirAddr2:     "addr2",
	DirAddr3:     "addr3",
	DirAddr4:     "addr4",
	DirRA:        "ra",
	DirTA:        "ta",
}

func (d Dir) String() string {
	if int(d) < len(dirNames) {
		return dirNames[d]
	}
	return "dir?"
}

// Addr is the address-kind qualifier ("host", "net", "port"...).
type Addr int

// Address-kind qualifiers.
const (
	AddrDefault Addr = iota
	AddrHost
	AddrNet
	AddrPort
	AddrPortRange
	AddrGateway
	AddrProto
	AddrProtochain
)

var addrNames = [...]string{
	AddrDefault:    "",
	AddrHost:       "host",
	AddrNet:        "net",
	AddrPort:       "port",
	AddrPortRange:  "portrange",
	AddrGateway:    "gateway",
	AddrProto:      "proto",
	AddrProtochain: "protochain",
}

func (a Addr) String() string {
	if int(a) < len(addrNames) {
		return addrNames[a]
	}
	return "addr?"
}

// Qualifiers is the (proto, dir, addr) triple that gives a primitive's
// value its meaning; later values without qualifiers inherit it
// ("host a or b" means "host a or host b").
type Qualifiers struct {
	Proto Proto
	Dir   Dir
	Addr  Addr
}
