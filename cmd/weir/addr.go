package main

import "strconv"

const hexDigits = "0123456789abcdef"

// appendIPv4 writes a dotted quad.
func appendIPv4(b []byte, a []byte) []byte {
	for i := 0; i < 4; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(a[i]), 10)
	}
	return b
}

// appendIPv6 writes an IPv6 address as tcpdump's addrtostr6 does: the
// longest run (the first, on a tie) of two or more zero groups becomes
// "::", and IPv4-compatible and IPv4-mapped addresses end in a dotted quad.
func appendIPv6(b []byte, a []byte) []byte {
	var words [8]uint16
	for i := range words {
		words[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	bestBase, bestLen := longestZeroRun(&words)
	for i := 0; i < 8; i++ {
		if bestBase >= 0 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xffff)) {
			return appendIPv4(b, a[12:16])
		}
		b = strconv.AppendUint(b, uint64(words[i]), 16)
	}
	if bestBase >= 0 && bestBase+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}

// longestZeroRun returns the start and length of the run of zero groups to
// shorten, or -1 when no run is two groups or longer.
func longestZeroRun(words *[8]uint16) (base, length int) {
	base, length = -1, 0
	curBase, curLen := -1, 0
	for i, w := range words {
		if w == 0 {
			if curBase < 0 {
				curBase, curLen = i, 0
			}
			curLen++
			if curLen > length {
				base, length = curBase, curLen
			}
			continue
		}
		curBase = -1
	}
	if length < 2 {
		return -1, 0
	}
	return base, length
}

// appendMAC writes a hardware address as colon-separated hex bytes.
func appendMAC(b []byte, a []byte) []byte {
	for i, x := range a {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[x>>4], hexDigits[x&0xf])
	}
	return b
}

// appendHex16 writes 0x followed by four hex digits, as tcpdump's "0x%04x".
func appendHex16(b []byte, v uint16) []byte {
	return append(b, '0', 'x',
		hexDigits[v>>12], hexDigits[v>>8&0xf], hexDigits[v>>4&0xf], hexDigits[v&0xf])
}

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }
