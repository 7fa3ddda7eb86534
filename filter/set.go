package filter

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
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
type SetEntryKind uint8

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

// SetEntry is one line of a set. It holds no pointer, so that a set of
// millions of entries costs the garbage collector nothing.
type SetEntry struct {
	Kind SetEntryKind
	IPv6 bool  // an IPv6 address or network
	Bits uint8 // the network's prefix length; 32 or 128 for an address
	// Port and LastPort are the port, or the range's ends.
	Port, LastPort uint16
	Addr           [16]byte // the address (IPv4 in the first four bytes)
	MAC            [6]byte
	Line           int32 // 1-based line in the set's source
}

// Prefix is the network of an address or network entry (an address is a
// full-length prefix).
func (e SetEntry) Prefix() netip.Prefix {
	a := netip.AddrFrom16(e.Addr)
	if !e.IPv6 {
		a = netip.AddrFrom4([4]byte(e.Addr[:4]))
	}
	return netip.PrefixFrom(a, int(e.Bits))
}

// String is the entry as a set file would hold it.
func (e SetEntry) String() string {
	switch e.Kind {
	case SetAddress:
		return e.Prefix().Addr().String()
	case SetPrefix:
		return e.Prefix().String()
	case SetPort:
		return strconv.Itoa(int(e.Port))
	case SetPortRange:
		return fmt.Sprintf("%d-%d", e.Port, e.LastPort)
	}
	return net.HardwareAddr(e.MAC[:]).String()
}

func prefixEntry(kind SetEntryKind, p netip.Prefix) SetEntry {
	e := SetEntry{Kind: kind, IPv6: p.Addr().Is6(), Bits: uint8(p.Bits())}
	if e.IPv6 {
		e.Addr = p.Addr().As16()
	} else {
		a4 := p.Addr().As4()
		copy(e.Addr[:], a4[:])
	}
	return e
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
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("filter: reading set %s: %w", source, err)
	}
	// One string for the whole file: lines are slices of it, so a set of
	// a million lines costs no allocation per line. Big files are read in
	// chunks on every processor; the first error in the file wins.
	text := string(data)
	chunks := splitLines(text, runtime.GOMAXPROCS(0), minParallelSet)
	parts := make([][]SetEntry, len(chunks))
	errs := make([]*SetError, len(chunks))
	var wg sync.WaitGroup
	for i, c := range chunks {
		wg.Go(func() { parts[i], errs[i] = parseSetLines(c.text, c.firstLine) })
	}
	wg.Wait()
	set := &Set{Name: name, Source: source}
	for i := range chunks {
		if errs[i] != nil {
			errs[i].File = source
			return nil, errs[i]
		}
		set.Entries = append(set.Entries, parts[i]...)
	}
	set.Entries = dropRepeats(set.Entries)
	return set, nil
}

// minParallelSet is the size from which a set file is read in chunks.
const minParallelSet = 1 << 20

// lineChunk is whole lines of a set file, from line firstLine.
type lineChunk struct {
	text      string
	firstLine int
}

// splitLines cuts text into up to n chunks of whole lines, one when it is
// shorter than min.
func splitLines(text string, n, min int) []lineChunk {
	if len(text) < min || n < 2 {
		return []lineChunk{{text, 1}}
	}
	var chunks []lineChunk
	line := 1
	for i := n; i > 1 && text != ""; i-- {
		cut := len(text) / i
		if nl := strings.IndexByte(text[cut:], '\n'); nl >= 0 {
			cut += nl + 1
		} else {
			cut = len(text)
		}
		chunks = append(chunks, lineChunk{text[:cut], line})
		line += strings.Count(text[:cut], "\n")
		text = text[cut:]
	}
	if text != "" {
		chunks = append(chunks, lineChunk{text, line})
	}
	return chunks
}

// parseSetLines reads the entries of text, whose first line is line.
func parseSetLines(text string, line int) ([]SetEntry, *SetError) {
	entries := make([]SetEntry, 0, strings.Count(text, "\n")+1)
	for ; text != ""; line++ {
		var l string
		l, text, _ = strings.Cut(text, "\n")
		if len(l) > maxSetLine {
			return nil, &SetError{Line: line, Column: 1, Msg: fmt.Sprintf("line longer than %d bytes", maxSetLine)}
		}
		e, ok, err := parseSetLine(l)
		if err != nil {
			err.Line = line
			return nil, err
		}
		if ok {
			e.Line = int32(line)
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// parseSetLine reads the entry of one line, if it has one; the error's
// column is set.
func parseSetLine(l string) (SetEntry, bool, *SetError) {
	if i := strings.IndexByte(l, '#'); i >= 0 {
		l = l[:i]
	}
	start := strings.IndexFunc(l, isNotSpace)
	if start < 0 {
		return SetEntry{}, false, nil
	}
	end := start + strings.IndexFunc(l[start:], unicode.IsSpace)
	if end < start {
		end = len(l)
	}
	if next := strings.IndexFunc(l[end:], isNotSpace); next >= 0 {
		extra := l[end+next:]
		if i := strings.IndexFunc(extra, unicode.IsSpace); i >= 0 {
			extra = extra[:i]
		}
		return SetEntry{}, false, &SetError{Column: end + next + 1, Msg: fmt.Sprintf("one entry per line: %q follows %q", extra, l[start:end])}
	}
	e, err := parseSetEntry(l[start:end])
	if err != nil {
		return SetEntry{}, false, &SetError{Column: start + 1, Msg: err.Error()}
	}
	return e, true, nil
}

func isNotSpace(r rune) bool { return !unicode.IsSpace(r) }

// dropRepeats keeps the first of repeated entries. Small sets go through
// a map; big ones (which only kernel maps and the VM use, where a repeat
// is harmless) keep their repeats rather than pay for a map of millions.
func dropRepeats(entries []SetEntry) []SetEntry {
	if len(entries) > MaxClassicSetEntries {
		return entries
	}
	seen := make(map[SetEntry]bool, len(entries))
	out := entries[:0]
	for _, e := range entries {
		if key := e.key(); !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return out
}

// key is the entry without its line, for dropping repeats.
func (e SetEntry) key() SetEntry {
	e.Line = 0
	return e
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
		return prefixEntry(SetPrefix, p), nil
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
		return prefixEntry(SetAddress, netip.PrefixFrom(a, a.BitLen())), nil
	}
	if mac, err := net.ParseMAC(s); err == nil && len(mac) == 6 {
		return SetEntry{Kind: SetMAC, MAC: [6]byte(mac)}, nil
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

// ParseSetEntry reads one entry as a set file's line holds it.
func ParseSetEntry(s string) (SetEntry, error) { return parseSetEntry(s) }

// NewSet is a set of entries read elsewhere (a rules file's inline list);
// repeated entries are kept once.
func NewSet(name, source string, entries []SetEntry) (*Set, error) {
	if !ValidSetName(name) {
		return nil, fmt.Errorf("filter: bad set name %q: letters, digits, '.', '-' and '_', starting with a letter or digit", name)
	}
	return &Set{Name: name, Source: source, Entries: dropRepeats(slices.Clone(entries))}, nil
}
