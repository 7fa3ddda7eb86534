package pcap

import "time"

// Section header block options.
const (
	optionSHBHardware    = 2
	optionSHBOS          = 3
	optionSHBApplication = 4
)

// Enhanced packet block options.
const optionEPBFlags = 2

// Interface statistics block options.
const (
	optionISBStartTime    = 2
	optionISBEndTime      = 3
	optionISBIfRecv       = 4
	optionISBIfDrop       = 5
	optionISBFilterAccept = 6
	optionISBOSDrop       = 7
	optionISBUsrDeliv     = 8
)

// Section describes a pcapng section header: the machine and program that
// wrote the packets after it.
type Section struct {
	Hardware    string // shb_hardware
	OS          string // shb_os
	Application string // shb_userappl
	Comment     string // opt_comment (several are joined by "\n")
}

// optionIterator walks the options of a block, in the section's order.
type optionIterator struct {
	order byteOrder
	rest  []byte
}

// next returns the next option; ok is false at opt_endofopt, at the end
// of the block, or at an option overrunning the block (bad is then set).
func (it *optionIterator) next() (code uint16, value []byte, ok, bad bool) {
	if len(it.rest) < 4 {
		return 0, nil, false, false
	}
	code, length := it.order.u16(it.rest[0:]), int(it.order.u16(it.rest[2:]))
	padded := (length + 3) &^ 3
	if 4+padded > len(it.rest) {
		return code, nil, false, true
	}
	value = it.rest[4 : 4+length]
	it.rest = it.rest[4+padded:]
	if code == optionEndOfOptions {
		return 0, nil, false, false
	}
	return code, value, true, false
}

// packetOptions reads the options after a packet's data (room holds the
// data, its padding and the options) into ci: the flags and comments.
// Damaged options are ignored, as libpcap, which never reads them, lets
// the packet through.
func (ng *ngState) packetOptions(room []byte, caplen uint32, ci *CaptureInfo) {
	start := (uint64(caplen) + 3) &^ 3
	if start+4 > uint64(len(room)) { // no options: the common case
		return
	}
	it := optionIterator{order: ng.order, rest: room[start:]}
	for {
		code, value, ok, _ := it.next()
		if !ok {
			return
		}
		switch code {
		case optionComment:
			ci.Comment = joinComment(ci.Comment, value)
		case optionEPBFlags:
			if len(value) == 4 {
				flags := ng.order.u32(value)
				ci.Direction = Direction(flags & epbFlagsDirectionMask)
				ci.Flags = flags &^ epbFlagsDirectionMask
			}
		}
	}
}

// sectionOptions reads the options of a section header block.
func (ng *ngState) sectionOptions(opts []byte, at int64) (Section, error) {
	var s Section
	it := optionIterator{order: ng.order, rest: opts}
	for {
		code, value, ok, bad := it.next()
		if bad {
			return s, formatErrorf(at, "section header option %d overruns the block", code)
		}
		if !ok {
			return s, nil
		}
		switch code {
		case optionComment:
			s.Comment = joinComment(s.Comment, value)
		case optionSHBHardware:
			s.Hardware = optionString(value)
		case optionSHBOS:
			s.OS = optionString(value)
		case optionSHBApplication:
			s.Application = optionString(value)
		}
	}
}

// interfaceStatistics reads an interface statistics block and keeps it as
// the latest for its interface. libpcap skips these blocks, so one that
// names no known interface, or whose options are damaged, is skipped too
// rather than ending the file.
func (r *Reader) interfaceStatistics(body []byte) {
	ng := &r.ng
	if len(body) < isbFixedLength {
		return
	}
	index := ng.order.u32(body[0:])
	if uint64(index) >= uint64(len(ng.interfaces)) {
		return
	}
	ifc := &ng.interfaces[index]
	var st InterfaceStats
	it := optionIterator{order: ng.order, rest: body[isbFixedLength:]}
	for {
		code, value, ok, bad := it.next()
		if bad {
			return
		}
		if !ok {
			break
		}
		switch {
		case code == optionComment:
			st.Comment = joinComment(st.Comment, value)
		case len(value) != 8: // not a statistic weir knows
		case code == optionISBStartTime:
			st.Start = ng.isbTime(value, ifc)
		case code == optionISBEndTime:
			st.End = ng.isbTime(value, ifc)
		default:
			st.setCounter(code, ng.order.u64(value))
		}
	}
	for len(ng.stats) <= int(index) {
		ng.stats = append(ng.stats, interfaceStatsSeen{})
	}
	ng.stats[index] = interfaceStatsSeen{stats: st, seen: true}
}

// isbTime decodes an isb_starttime or isb_endtime: a timestamp in the
// interface's units, high 32 bits first.
func (ng *ngState) isbTime(value []byte, ifc *Interface) time.Time {
	ticks := uint64(ng.order.u32(value[0:]))<<32 | uint64(ng.order.u32(value[4:]))
	return ngTimestamp(ticks, ifc.TimestampResolution, ifc.TimestampOffset)
}
