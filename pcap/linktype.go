package pcap

import (
	"fmt"
	"strings"
)

// LinkType is a LINKTYPE_ value as registered at tcpdump.org; it tells how
// to read the first bytes of every packet.
type LinkType uint32

// Link types weir knows by name.
const (
	LinkTypeNull            LinkType = 0   // BSD loopback, host byte order family
	LinkTypeEthernet        LinkType = 1   // EN10MB
	LinkTypePPP             LinkType = 9   // PPP
	LinkTypeRaw             LinkType = 101 // raw IPv4 or IPv6
	LinkTypeCHDLC           LinkType = 104 // Cisco HDLC
	LinkTypeIEEE802_11      LinkType = 105 // 802.11 without radio header
	LinkTypeLoop            LinkType = 108 // OpenBSD loopback, network byte order family
	LinkTypeLinuxSLL        LinkType = 113 // Linux cooked capture v1
	LinkTypePrismHeader     LinkType = 119 // 802.11 with Prism (or AVS) radio header
	LinkTypeIEEE802_11Radio LinkType = 127 // 802.11 with radiotap header
	LinkTypeIEEE802_11AVS   LinkType = 163 // 802.11 with AVS radio header
	LinkTypePPI             LinkType = 192 // Per-Packet Information header, then 802.11
	LinkTypeIPv4            LinkType = 228 // raw IPv4
	LinkTypeIPv6            LinkType = 229 // raw IPv6
	LinkTypeLinuxSLL2       LinkType = 276 // Linux cooked capture v2
)

type linkTypeName struct {
	linkType    LinkType
	name        string // the DLT_ name tcpdump prints and -y takes
	description string
}

// linkTypeNames follows libpcap's pcap_datalink_val_to_name and
// pcap_datalink_val_to_description for the types weir handles.
var linkTypeNames = []linkTypeName{
	{LinkTypeNull, "NULL", "BSD loopback"},
	{LinkTypeEthernet, "EN10MB", "Ethernet"},
	{LinkTypePPP, "PPP", "PPP"},
	{LinkTypeRaw, "RAW", "Raw IP"},
	{LinkTypeCHDLC, "C_HDLC", "Cisco HDLC"},
	{LinkTypeIEEE802_11, "IEEE802_11", "802.11"},
	{LinkTypeLoop, "LOOP", "OpenBSD loopback"},
	{LinkTypeLinuxSLL, "LINUX_SLL", "Linux cooked v1"},
	{LinkTypePrismHeader, "PRISM_HEADER", "802.11 plus Prism header"},
	{LinkTypeIEEE802_11Radio, "IEEE802_11_RADIO", "802.11 plus radiotap header"},
	{LinkTypeIEEE802_11AVS, "IEEE802_11_RADIO_AVS", "802.11 plus AVS radio information header"},
	{LinkTypePPI, "PPI", "Per-Packet Information"},
	{LinkTypeIPv4, "IPV4", "Raw IPv4"},
	{LinkTypeIPv6, "IPV6", "Raw IPv6"},
	{LinkTypeLinuxSLL2, "LINUX_SLL2", "Linux cooked v2"},
}

// Name returns the DLT name tcpdump uses for the link type ("EN10MB"), or
// "LINKTYPE_n" for a type weir does not know.
func (l LinkType) Name() string {
	for _, n := range linkTypeNames {
		if n.linkType == l {
			return n.name
		}
	}
	return fmt.Sprintf("LINKTYPE_%d", uint32(l))
}

// Description returns tcpdump's human description of the link type.
func (l LinkType) Description() string {
	for _, n := range linkTypeNames {
		if n.linkType == l {
			return n.description
		}
	}
	return fmt.Sprintf("link type %d", uint32(l))
}

func (l LinkType) String() string { return l.Name() }

// LinkTypeByName looks up a link type by its DLT name, case-insensitively,
// with or without the "DLT_" or "LINKTYPE_" prefix, as tcpdump -y accepts.
func LinkTypeByName(name string) (LinkType, bool) {
	upper := strings.ToUpper(name)
	upper = strings.TrimPrefix(upper, "DLT_")
	upper = strings.TrimPrefix(upper, "LINKTYPE_")
	for _, n := range linkTypeNames {
		if n.name == upper {
			return n.linkType, true
		}
	}
	if upper == "ETHERNET" {
		return LinkTypeEthernet, true
	}
	return 0, false
}
