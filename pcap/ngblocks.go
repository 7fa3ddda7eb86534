package pcap

import "encoding/binary"

// pcapng blocks as NgWriter writes them: little-endian, options padded to
// 4 bytes.

func pad4(n int) int { return (n + 3) &^ 3 }

func appendBlockHeader(b []byte, blockType uint32, length int) []byte {
	b = binary.LittleEndian.AppendUint32(b, blockType)
	return binary.LittleEndian.AppendUint32(b, uint32(length))
}

// appendBlock appends a whole block around body.
func appendBlock(b []byte, blockType uint32, body []byte) []byte {
	length := blockOverhead + pad4(len(body))
	b = appendBlockHeader(b, blockType, length)
	b = appendPadded(b, body)
	return binary.LittleEndian.AppendUint32(b, uint32(length))
}

// appendPadded appends p and zeros up to a multiple of 4 bytes.
func appendPadded(b, p []byte) []byte {
	b = append(b, p...)
	return append(b, make([]byte, pad4(len(p))-len(p))...)
}

func appendOptionHeader(b []byte, code uint16, length int) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	return binary.LittleEndian.AppendUint16(b, uint16(length))
}

// appendStringOption appends a string option; s must fit in 64 KiB.
func appendStringOption(b []byte, code uint16, s string) []byte {
	b = appendOptionHeader(b, code, len(s))
	b = append(b, s...)
	var zeros [3]byte
	return append(b, zeros[:pad4(len(s))-len(s)]...)
}

// appendStringOptionIfSet appends a string option unless s is empty. A
// string too long for an option is cut at 65532 bytes.
func appendStringOptionIfSet(b []byte, code uint16, s string) []byte {
	if s == "" {
		return b
	}
	return appendStringOption(b, code, s[:min(len(s), 0xfffc)])
}

func appendUint64Option(b []byte, code uint16, v uint64) []byte {
	b = appendOptionHeader(b, code, 8)
	return binary.LittleEndian.AppendUint64(b, v)
}

// appendTimeOption appends a timestamp option (isb_starttime,
// isb_endtime): high 32 bits first, in the interface's units.
func appendTimeOption(b []byte, code uint16, ticks uint64) []byte {
	b = appendOptionHeader(b, code, 8)
	b = binary.LittleEndian.AppendUint32(b, uint32(ticks>>32))
	return binary.LittleEndian.AppendUint32(b, uint32(ticks))
}

// endOptions closes an option list, unless it is empty (start is where the
// options began).
func endOptions(b []byte, start int) []byte {
	if len(b) == start {
		return b
	}
	return appendOptionHeader(b, optionEndOfOptions, 0)
}

func appendSectionHeader(b []byte, s Section) []byte {
	body := binary.LittleEndian.AppendUint32(nil, byteOrderMagic)
	body = binary.LittleEndian.AppendUint16(body, 1) // version 1.0
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint64(body, ^uint64(0)) // section length unknown: written as a stream
	start := len(body)
	body = appendStringOptionIfSet(body, optionComment, s.Comment)
	body = appendStringOptionIfSet(body, optionSHBHardware, s.Hardware)
	body = appendStringOptionIfSet(body, optionSHBOS, s.OS)
	body = appendStringOptionIfSet(body, optionSHBApplication, s.Application)
	return appendBlock(b, blockTypeSectionHeader, endOptions(body, start))
}

func appendInterfaceDescription(b []byte, ifc Interface, tsresol byte) []byte {
	body := binary.LittleEndian.AppendUint16(nil, uint16(ifc.LinkType))
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint32(body, ifc.Snaplen)
	start := len(body)
	body = appendStringOptionIfSet(body, optionComment, ifc.Comment)
	body = appendStringOptionIfSet(body, optionName, ifc.Name)
	body = appendStringOptionIfSet(body, optionDescription, ifc.Description)
	body = appendOptionHeader(body, optionTSResol, 1)
	body = append(body, tsresol, 0, 0, 0)
	if ifc.Filter != "" { // code 0: a libpcap filter string
		filter := ifc.Filter[:min(len(ifc.Filter), 0xfffb)]
		body = appendOptionHeader(body, optionFilter, 1+len(filter))
		body = appendPadded(body, append([]byte{0}, filter...))
	}
	body = appendStringOptionIfSet(body, optionOS, ifc.OS)
	if ifc.FCSLength > 0 && ifc.FCSLength < 256 {
		body = appendOptionHeader(body, optionFCSLength, 1)
		body = append(body, byte(ifc.FCSLength), 0, 0, 0)
	}
	if ifc.TimestampOffset != 0 {
		body = appendUint64Option(body, optionTSOffset, uint64(ifc.TimestampOffset))
	}
	return appendBlock(b, blockTypeInterface, endOptions(body, start))
}

func appendInterfaceStatistics(b []byte, index int, st InterfaceStats, ifc *ngInterface) []byte {
	when := st.End
	if when.IsZero() {
		when = st.Start
	}
	var ticks uint64
	if !when.IsZero() {
		ticks = timestampTicks(when, ifc.resolution, ifc.offset)
	}
	body := binary.LittleEndian.AppendUint32(nil, uint32(index))
	body = binary.LittleEndian.AppendUint32(body, uint32(ticks>>32))
	body = binary.LittleEndian.AppendUint32(body, uint32(ticks))
	start := len(body)
	body = appendStringOptionIfSet(body, optionComment, st.Comment)
	if !st.Start.IsZero() {
		body = appendTimeOption(body, optionISBStartTime, timestampTicks(st.Start, ifc.resolution, ifc.offset))
	}
	if !st.End.IsZero() {
		body = appendTimeOption(body, optionISBEndTime, timestampTicks(st.End, ifc.resolution, ifc.offset))
	}
	for _, c := range statsCounterOptions {
		if st.Known&c.counter != 0 {
			body = appendUint64Option(body, c.code, *st.counter(c.counter))
		}
	}
	return appendBlock(b, blockTypeInterfaceStats, endOptions(body, start))
}
