package pcap

import (
	"math/bits"
	"time"
)

// Interface description block options weir keeps.
const (
	optionEndOfOptions = 0
	optionComment      = 1 // opt_comment, in every block type
	optionName         = 2
	optionDescription  = 3
	optionTSResol      = 9
	optionFilter       = 11
	optionOS           = 12
	optionFCSLength    = 13
	optionTSOffset     = 14
)

const defaultTimestampResolution = 1_000_000 // microseconds

// Interface describes a capture interface: the single one of a classic
// pcap file, or a pcapng Interface Description Block.
type Interface struct {
	LinkType    LinkType
	Snaplen     uint32 // as written; 0 means no limit
	Name        string // if_name
	Description string // if_description
	Filter      string // if_filter, when given as a libpcap filter string
	OS          string // if_os
	// TimestampResolution is the number of timestamp units per second:
	// 1e6 unless if_tsresol says otherwise (1e9 for nanosecond pcap).
	TimestampResolution uint64
	TimestampOffset     int64 // if_tsoffset: seconds added to every timestamp
	// FCSLength is the number of frame check sequence bytes ending each
	// packet (a classic pcap header's FCS bits, pcapng if_fcslen); -1 when
	// the file does not say.
	FCSLength int
	Comment   string // opt_comment (several are joined by "\n")
}

// interfaceDescription adds an interface to the current section.
func (r *Reader) interfaceDescription(body []byte, at int64) error {
	ng := &r.ng
	if len(body) < idbFixedLength {
		return formatErrorf(at, "interface description block length %d too small", len(body)+blockOverhead)
	}
	ifc := Interface{
		LinkType:            LinkType(ng.order.u16(body[0:])),
		Snaplen:             ng.order.u32(body[4:]),
		TimestampResolution: defaultTimestampResolution,
		FCSLength:           -1,
	}
	if err := ng.interfaceOptions(&ifc, body[idbFixedLength:], at); err != nil {
		return err
	}
	ng.maxBlockLength = max(ng.maxBlockLength, maxBlockLengthFor(ifc.LinkType))
	ng.interfaces = append(ng.interfaces, ifc)
	return nil
}

// interfaceOptions fills ifc from the options of its description block.
func (ng *ngState) interfaceOptions(ifc *Interface, opts []byte, at int64) error {
	for len(opts) >= 4 {
		code, length := ng.order.u16(opts[0:]), int(ng.order.u16(opts[2:]))
		padded := (length + 3) &^ 3
		if 4+padded > len(opts) {
			return formatErrorf(at, "interface option %d length %d overruns the block", code, length)
		}
		value := opts[4 : 4+length]
		opts = opts[4+padded:]
		switch code {
		case optionEndOfOptions:
			return nil
		case optionName:
			ifc.Name = optionString(value)
		case optionDescription:
			ifc.Description = optionString(value)
		case optionOS:
			ifc.OS = optionString(value)
		case optionComment:
			ifc.Comment = joinComment(ifc.Comment, value)
		case optionFCSLength:
			if len(value) == 1 {
				ifc.FCSLength = int(value[0])
			}
		case optionFilter:
			if len(value) > 0 && value[0] == 0 { // 0: a libpcap filter string
				ifc.Filter = optionString(value[1:])
			}
		case optionTSResol:
			resolution, err := timestampResolution(value, at)
			if err != nil {
				return err
			}
			ifc.TimestampResolution = resolution
		case optionTSOffset:
			if len(value) != 8 {
				return formatErrorf(at, "if_tsoffset option length %d, want 8", len(value))
			}
			ifc.TimestampOffset = int64(ng.order.u64(value))
		}
	}
	return nil
}

// timestampResolution decodes if_tsresol: units per second, 10^v, or 2^v
// when the top bit is set.
func timestampResolution(value []byte, at int64) (uint64, error) {
	if len(value) != 1 {
		return 0, formatErrorf(at, "if_tsresol option length %d, want 1", len(value))
	}
	v := value[0]
	if v&0x80 != 0 {
		shift := v & 0x7f
		if shift > 63 {
			return 0, formatErrorf(at, "if_tsresol 2^-%d too fine", shift)
		}
		return 1 << shift, nil
	}
	if v > 19 { // 10^20 does not fit in 64 bits
		return 0, formatErrorf(at, "if_tsresol 10^-%d too fine", v)
	}
	resolution := uint64(1)
	for range v {
		resolution *= 10
	}
	return resolution, nil
}

// optionString is a string option's value without the NUL padding some
// writers add.
func optionString(value []byte) string {
	for len(value) > 0 && value[len(value)-1] == 0 {
		value = value[:len(value)-1]
	}
	return string(value)
}

// joinComment adds a comment option to those already read.
func joinComment(comments string, value []byte) string {
	if comments == "" {
		return optionString(value)
	}
	return comments + "\n" + optionString(value)
}

// ngTimestamp converts a timestamp in units of 1/resolution seconds,
// exactly (to the nanosecond, rounding down).
func ngTimestamp(ticks, resolution uint64, offset int64) time.Time {
	var sec, nsec uint64
	switch resolution {
	case 1_000_000: // the common cases divide by constants
		sec, nsec = ticks/1_000_000, ticks%1_000_000*1000
	case 1_000_000_000:
		sec, nsec = ticks/1_000_000_000, ticks%1_000_000_000
	default:
		sec = ticks / resolution
		hi, lo := bits.Mul64(ticks%resolution, 1_000_000_000)
		nsec, _ = bits.Div64(hi, lo, resolution) // hi < resolution: no overflow
	}
	return time.Unix(int64(sec)+offset, int64(nsec))
}
