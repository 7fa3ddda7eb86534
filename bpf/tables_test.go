package bpf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// The tables and captures the tests share: the filter package's
// differential expressions and the project's generated captures.

const (
	captureDir     = "../testdata/captures"
	expressionFile = "../filter/testdata/diff/expressions.txt"
)

// extraExpressions join the table: backward jumps, metadata in live form,
// shifts by X, loads at the packet's end and past it, division by X.
var extraExpressions = []string{
	"protochain 6", "ip6 protochain 17", "protochain 58", "ip protochain 6",
	"protochain 50", "protochain 17 and udp port 123", "not protochain 59",
	"inbound", "outbound and tcp", "ifindex 2", "vlan 100",
	"ip[0] << ip[9] = 0", "ip[0] >> (ip[9] - 10) = 1", "ip[2:2] / (ip[9] - 6) > 10",
	"ip[2:2] % (ip[9] - 17) = 3", "ether[-1] = 1", "ether[len - 1] = 0x33",
	"ip[len - 15] & 1 = 1", "ether[1500:4] = 0", "len >= 1000", "-ip[0] = 0xffffffbb",
}

// compileMode is one way of compiling, as the filter package's kernel test.
type compileMode struct {
	name     string
	optimize bool
	snaplen  uint32
	live     bool
}

var compileModes = []compileMode{
	{name: "unoptimized"},
	{name: "optimized", optimize: true},
	{name: "optimized, snaplen 96", optimize: true, snaplen: 96},
	{name: "optimized, live", optimize: true, live: true},
}

// capture is one file's packets.
type capture struct {
	name      string
	linkType  pcap.LinkType
	bigEndian bool
	packets   [][]byte
}

// readCaptures reads every capture file of dir (pcap or pcapng).
func readCaptures(t testing.TB, dir string) []*capture {
	t.Helper()
	var paths []string
	for _, pattern := range []string{"*.pcap", "*.pcapng"} {
		found, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, found...)
	}
	slices.Sort(paths)
	if len(paths) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	var out []*capture
	for _, p := range paths {
		byLink, err := readCapture(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, byLink...)
	}
	return out
}

// readCapture reads one file, its packets grouped by link type (a pcapng
// file may mix them).
func readCapture(path string) ([]*capture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcap.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	groups := map[pcap.LinkType]*capture{}
	var out []*capture
	for {
		data, ci, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		lt := ci.LinkType
		c := groups[lt]
		if c == nil {
			c = &capture{name: filepath.Base(path), linkType: lt, bigEndian: r.BigEndian()}
			if len(out) > 0 {
				c.name += fmt.Sprintf(" (link type %d)", lt)
			}
			groups[lt] = c
			out = append(out, c)
		}
		c.packets = append(c.packets, slices.Clone(data))
	}
	return out, nil
}

// readExpressions reads a table of expressions, one a line, leaving out
// comments and the "reject:" lines tcpdump refuses.
func readExpressions(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "reject:") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// readsAncillary reports whether p loads kernel metadata (SKF_AD_OFF + n),
// which filter.Run cannot predict.
func readsAncillary(p filter.Program) bool {
	for _, ins := range p {
		if ins.Op&0xe7 == filter.ClassLd|filter.ModeAbs && ins.K >= ancillaryBase {
			if _, ok := ancillaryFields[ins.K-ancillaryBase]; ok {
				return true
			}
		}
	}
	return false
}

// ipv6Chain builds an Ethernet frame: IPv6, n destination-options headers
// (8 bytes each), then a TCP header.
func ipv6Chain(n int) []byte {
	const destOptions, tcp = 60, 6
	frame := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x86, 0xdd}
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(8*n+20))
	ip[6] = tcp
	if n > 0 {
		ip[6] = destOptions
	}
	ip[7] = 64
	ip[23], ip[39] = 1, 2 // ::1 to ::2, in fd00::/8 for looks
	ip[8], ip[24] = 0xfd, 0xfd
	frame = append(frame, ip...)
	for i := 0; i < n; i++ {
		next := byte(destOptions)
		if i == n-1 {
			next = tcp
		}
		frame = append(frame, next, 0, 1, 4, 0, 0, 0, 0) // PadN over the 6 bytes
	}
	tcpHeader := make([]byte, 20)
	binary.BigEndian.PutUint16(tcpHeader[0:], 40000)
	binary.BigEndian.PutUint16(tcpHeader[2:], 80)
	tcpHeader[12], tcpHeader[13] = 5<<4, 0x02
	return append(frame, tcpHeader...)
}

// job is one program to check on packets.
type job struct {
	expr    string
	mode    string
	where   string   // the packets' capture(s)
	packets [][]byte // what the program runs on
	origins []origin // where packets[i] comes from, when they come from several captures
	prog    filter.Program
	pairs   []string // the capture of each (capture, expression) pair the job stands for
}

func (j job) name() string { return fmt.Sprintf("%q on %s (%s)", j.expr, j.where, j.mode) }

// origin is a packet's capture and number in it.
type origin struct {
	capture string
	number  int
}

// packetName names packet i of the job.
func (j job) packetName(i int) string {
	if j.origins != nil {
		return fmt.Sprintf("%s packet %d", j.origins[i].capture, j.origins[i].number)
	}
	return fmt.Sprintf("%s packet %d", j.where, i+1)
}

// compileJobs compiles every expression for every capture in every mode,
// keeping each distinct program once per capture.
func compileJobs(captures []*capture, exprs []string, modes []compileMode) []job {
	var out []job
	for _, c := range captures {
		seen := map[string]bool{}
		for _, e := range exprs {
			for _, m := range modes {
				cfg := filter.Config{LinkType: c.linkType, Optimize: m.optimize, Snaplen: m.snaplen, Savefile: !m.live, SavefileBigEndian: c.bigEndian}
				prog, err := filter.Compile(e, cfg)
				if err != nil {
					continue
				}
				key := fmt.Sprint(prog)
				if seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, job{expr: e, mode: m.name, where: c.name, packets: c.packets, prog: prog, pairs: []string{c.name}})
			}
		}
	}
	return out
}
