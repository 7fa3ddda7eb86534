package capture

import (
	"bytes"
	"errors"
)

// Layout of the kernel's answer to an RTM_GETLINK dump (linux/netlink.h,
// linux/rtnetlink.h, linux/if_link.h), as plain numbers so that parsing
// it stays pure code: a run of netlink messages, each a struct nlmsghdr,
// a struct ifinfomsg for RTM_NEWLINK, then attributes, all aligned to 4.
const (
	nlmsgHeaderLen = 16
	nlmsgDone      = 3  // NLMSG_DONE
	rtmNewLink     = 16 // RTM_NEWLINK
	ifinfomsgLen   = 16
	rtattrLen      = 4
	iflaIfname     = 3  // IFLA_IFNAME
	iflaIfalias    = 20 // IFLA_IFALIAS
	iflaXDP        = 43 // IFLA_XDP, nested:
	iflaXDPAttach  = 2  //   IFLA_XDP_ATTACHED, u8
	iflaXDPProgID  = 4  //   IFLA_XDP_PROG_ID, u32

	iffUp       = 0x1     // IFF_UP
	iffLoopback = 0x8     // IFF_LOOPBACK
	iffRunning  = 0x40    // IFF_RUNNING
	nlaTypeMask = 0x3fff  // the attribute type, without NLA_F_NESTED and NLA_F_NET_BYTEORDER
	ifindexMax  = 1 << 31 // ifi_index is a C int
)

var errBadLinkDump = errors.New("capture: malformed interface list from the kernel")

// parseLinks reads the interfaces of an RTM_GETLINK dump: index, name,
// alias (the description) and the up, running and loopback flags. It
// never reads outside b, whatever b holds.
func parseLinks(b []byte) ([]Interface, error) {
	var list []Interface
	for len(b) >= nlmsgHeaderLen {
		n := int(hostOrder.Uint32(b))
		typ := hostOrder.Uint16(b[4:])
		if n < nlmsgHeaderLen || n > len(b) {
			return nil, errBadLinkDump
		}
		if typ == nlmsgDone {
			break
		}
		if typ == rtmNewLink {
			ifc, err := parseLink(b[nlmsgHeaderLen:n])
			if err != nil {
				return nil, err
			}
			list = append(list, ifc)
		}
		b = b[min(align4(n), len(b)):]
	}
	return list, nil
}

// parseLink reads one RTM_NEWLINK message's body.
func parseLink(b []byte) (Interface, error) {
	if len(b) < ifinfomsgLen {
		return Interface{}, errBadLinkDump
	}
	index := hostOrder.Uint32(b[4:])
	flags := hostOrder.Uint32(b[8:])
	if index >= ifindexMax {
		return Interface{}, errBadLinkDump
	}
	ifc := Interface{
		Index:    int(index),
		Up:       flags&iffUp != 0,
		Running:  flags&iffRunning != 0,
		Loopback: flags&iffLoopback != 0,
	}
	for attrs := b[ifinfomsgLen:]; len(attrs) >= rtattrLen; {
		n := int(hostOrder.Uint16(attrs))
		if n < rtattrLen || n > len(attrs) {
			return Interface{}, errBadLinkDump
		}
		value := attrs[rtattrLen:n]
		switch hostOrder.Uint16(attrs[2:]) & nlaTypeMask {
		case iflaIfname:
			ifc.Name = cString(value)
		case iflaIfalias:
			ifc.Description = cString(value)
		case iflaXDP:
			ifc.XDPProgram, ifc.XDPMode = parseXDP(value)
		}
		attrs = attrs[min(align4(n), len(attrs)):]
	}
	if ifc.Name == "" {
		return Interface{}, errBadLinkDump
	}
	return ifc, nil
}

// parseXDP reads IFLA_XDP's program id and attach mode; zeros for what
// is missing or malformed.
func parseXDP(b []byte) (prog uint32, mode uint8) {
	for len(b) >= rtattrLen {
		n := int(hostOrder.Uint16(b))
		if n < rtattrLen || n > len(b) {
			return 0, 0
		}
		value := b[rtattrLen:n]
		switch hostOrder.Uint16(b[2:]) & nlaTypeMask {
		case iflaXDPAttach:
			if len(value) >= 1 {
				mode = value[0]
			}
		case iflaXDPProgID:
			if len(value) >= 4 {
				prog = hostOrder.Uint32(value)
			}
		}
		b = b[min(align4(n), len(b)):]
	}
	return prog, mode
}

// cString is b up to its first NUL byte.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func align4(n int) int { return (n + 3) &^ 3 }
