package filter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// A Set is a named list of values that an expression uses as the value of
// a primitive: "host @servers", "src net @blocked", "port @web", "ether
// host @macs". Each entry keeps the line it came from, so that a use that
// does not fit it can say where it is.
type Set struct {
	Name    string
	Source  string // the file it was read from, for messages
	Entries []SetEntry

	indexOnce sync.Once // builds idx, for Contains
	idx       *setIndex
}

// SetEntryKind is what a set entry is.
type SetEntryKind int

// Set entry kinds.
const (
	SetAddress   SetEntryKind = iota // one IPv4 or IPv6 address
	SetPrefix                        // a network: address/length
	SetPort                          // a port number
	SetPortRange                     // first-last ports
	SetMAC                           // an Ethernet address
)

var setEntryKindNames = [...]string{
	SetAddress: "an address", SetPrefix: "a network", SetPort: "a port",
	SetPortRange: "a port range", SetMAC: "a MAC address",
}

func (k SetEntryKind) String() string { return setEntryKindNames[k] }

// SetEntry is one line of a set.
type SetEntry struct {
	Kind SetEntryKind
	// Prefix is the address (a full-length prefix) or the network.
	Prefix netip.Prefix
	// Port and LastPort are the port, or the range's ends.
	Port, LastPort uint16
	MAC            net.HardwareAddr
	Line           int    // 1-based line in the set's source
	Text           string // as written
}

// SetError is a bad line of a set file.
type SetError struct {
	File         string
	Line, Column int // 1-based
	Msg          string
}

func (e *SetError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// maxSetLine is the longest line a set file may have.
const maxSetLine = 4096

// ValidSetName reports whether name can follow "@" in an expression: the
// characters of a name (letters, digits, '.', '-' and '_', starting with
// a letter or digit).
func ValidSetName(name string) bool {
	return name != "" && matchID(name) == len(name)
}

// ParseSet reads a set: one address, network (prefix), port, port range
// (first-last) or MAC address per line, IPv4 and IPv6 mixed; '#' starts a
// comment; blank lines are skipped, repeated entries kept once. source
// names the input in errors (*SetError: file, line and column).
func ParseSet(name, source string, r io.Reader) (*Set, error) {
	if !ValidSetName(name) {
		return nil, fmt.Errorf("filter: bad set name %q: letters, digits, '.', '-' and '_', starting with a letter or digit", name)
	}
	set := &Set{Name: name, Source: source}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxSetLine)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		col := strings.Index(text, fields[0]) + 1
		if len(fields) > 1 {
			return nil, &SetError{source, line, strings.Index(text[col-1+len(fields[0]):], fields[1]) + col + len(fields[0]),
				fmt.Sprintf("one entry per line: %q follows %q", fields[1], fields[0])}
		}
		e, err := parseSetEntry(fields[0])
		if err != nil {
			return nil, &SetError{source, line, col, err.Error()}
		}
		e.Line, e.Text = line, fields[0]
		if key := e.key(); !seen[key] {
			seen[key] = true
			set.Entries = append(set.Entries, e)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &SetError{source, line + 1, 1, fmt.Sprintf("line longer than %d bytes", maxSetLine)}
		}
		return nil, fmt.Errorf("filter: reading set %s: %w", source, err)
	}
	return set, nil
}

// key identifies an entry's value, for dropping repeats.
func (e SetEntry) key() string {
	switch e.Kind {
	case SetPort, SetPortRange:
		return fmt.Sprintf("port %d-%d", e.Port, e.LastPort)
	case SetMAC:
		return "mac " + e.MAC.String()
	}
	return "ip " + e.Prefix.String()
}

// parseSetEntry reads one entry.
func parseSetEntry(s string) (SetEntry, error) {
	switch {
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return SetEntry{}, fmt.Errorf("bad network %q: want address/length, as 198.18.0.0/15 or fd00:beef::/64", s)
		}
		if p.Addr().Zone() != "" {
			return SetEntry{}, fmt.Errorf("bad network %q: no zone may follow the address", s)
		}
		if m := p.Masked(); m != p {
			return SetEntry{}, fmt.Errorf("non-network bits set in %s (the network is %s)", s, m)
		}
		return SetEntry{Kind: SetPrefix, Prefix: p}, nil
	case isAllDigits(s):
		port, err := parsePort(s)
		return SetEntry{Kind: SetPort, Port: port, LastPort: port}, err
	case isPortRange(s):
		dash := strings.IndexByte(s, '-')
		first, err := parsePort(s[:dash])
		if err != nil {
			return SetEntry{}, err
		}
		last, err := parsePort(s[dash+1:])
		if err != nil {
			return SetEntry{}, err
		}
		if first > last {
			return SetEntry{}, fmt.Errorf("port range %s runs backwards", s)
		}
		return SetEntry{Kind: SetPortRange, Port: first, LastPort: last}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return SetEntry{}, fmt.Errorf("bad address %q: no zone may follow the address", s)
		}
		return SetEntry{Kind: SetAddress, Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if mac, err := net.ParseMAC(s); err == nil && len(mac) == 6 {
		return SetEntry{Kind: SetMAC, MAC: mac}, nil
	}
	return SetEntry{}, fmt.Errorf("%q is not an address, network, port, port range or MAC address", s)
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isPortRange(s string) bool {
	dash := strings.IndexByte(s, '-')
	return dash > 0 && isAllDigits(s[:dash]) && isAllDigits(s[dash+1:])
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > 65535 {
		return 0, fmt.Errorf("port %s is over 65535", s)
	}
	return uint16(n), nil
}
