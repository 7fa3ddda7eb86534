package capture

import "github.com/weircap/weir/pcap"

// ARPHRD_* hardware types (linux/if_arp.h) that have a link type of their
// own.
const (
	arphrdEther          = 1
	arphrdIEEE802        = 6
	arphrdArcnet         = 7
	arphrdDLCI           = 15
	arphrdMetricom       = 23
	arphrdSlip           = 256
	arphrdCSlip          = 257
	arphrdSlip6          = 258
	arphrdCSlip6         = 259
	arphrdAdapt          = 264
	arphrdPPP            = 512
	arphrdCisco          = 513
	arphrdRawHDLC        = 518
	arphrdRawIP          = 519
	arphrdTunnel         = 768
	arphrdTunnel6        = 769
	arphrdFrad           = 770
	arphrdLoopback       = 772
	arphrdLocalTalk      = 773
	arphrdFDDI           = 774
	arphrdSit            = 776
	arphrdIEEE802TR      = 800
	arphrdIEEE80211      = 801
	arphrdPrism          = 802
	arphrdRadiotap       = 803
	arphrdIEEE802154     = 804
	arphrdNetlink        = 824
	arphrdNone           = 0xfffe
	linkTypeFDDI         = 10
	linkTypeIEEE802      = 6
	linkTypeFrameRelay   = 107
	linkTypeLocalTalk    = 114
	linkTypePrism        = 119
	linkTypeArcnetLinux  = 129
	linkTypeIEEE802154NF = 230
	linkTypeNetlink      = 253
)

// linkTypeForARPHRD is the link type libpcap's map_arphrd_to_dlt gives an
// interface of hardware type hatype. cooked is true when the interface is
// captured on a SOCK_DGRAM socket with a LINUX_SLL header built in user
// space instead (PPP and every type without a link type of its own).
func linkTypeForARPHRD(hatype uint16) (lt pcap.LinkType, cooked bool) {
	switch hatype {
	case arphrdEther, arphrdMetricom, arphrdLoopback:
		return pcap.LinkTypeEthernet, false
	case arphrdNone, arphrdRawIP, arphrdTunnel, arphrdTunnel6, arphrdSit,
		arphrdSlip, arphrdCSlip, arphrdSlip6, arphrdCSlip6, arphrdAdapt,
		arphrdRawHDLC, arphrdDLCI:
		return pcap.LinkTypeRaw, false
	case arphrdCisco:
		return pcap.LinkTypeCHDLC, false
	case arphrdIEEE80211:
		return pcap.LinkTypeIEEE802_11, false
	case arphrdRadiotap:
		return pcap.LinkTypeIEEE802_11Radio, false
	case arphrdPrism:
		return linkTypePrism, false
	case arphrdIEEE802, arphrdIEEE802TR:
		return linkTypeIEEE802, false
	case arphrdArcnet:
		return linkTypeArcnetLinux, false
	case arphrdFDDI:
		return linkTypeFDDI, false
	case arphrdFrad:
		return linkTypeFrameRelay, false
	case arphrdLocalTalk:
		return linkTypeLocalTalk, false
	case arphrdIEEE802154:
		return linkTypeIEEE802154NF, false
	case arphrdNetlink:
		return linkTypeNetlink, false
	}
	return pcap.LinkTypeLinuxSLL, true
}
