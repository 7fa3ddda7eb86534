package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/pcap"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want options
	}{
		{"empty", nil, options{}},
		{"cluster with attached file", []string{"-nrin.pcap"}, options{readFile: "in.pcap"}},
		{"cluster then separate argument", []string{"-nr", "in.pcap", "tcp"},
			options{readFile: "in.pcap", exprArgs: []string{"tcp"}}},
		{"attached count", []string{"-c10", "-r", "f"}, options{count: 10, readFile: "f"}},
		{"hex count", []string{"-c", "0x10", "-r", "f"}, options{count: 16, readFile: "f"}},
		{"write to stdout attached", []string{"-w-", "-r-"}, options{writeFile: "-", readFile: "-"}},
		{"expression words joined later", []string{"-r", "f", "tcp", "port", "80"},
			options{readFile: "f", exprArgs: []string{"tcp", "port", "80"}}},
		{"options after operands are permuted", []string{"-r", "f", "tcp", "-c", "1"},
			options{readFile: "f", count: 1, exprArgs: []string{"tcp"}}},
		{"double dash ends options", []string{"-r", "f", "--", "tcp", "-c", "1"},
			options{readFile: "f", exprArgs: []string{"tcp", "-c", "1"}}},
		{"lone dash is an operand", []string{"-"}, options{exprArgs: []string{"-"}}},
		{"dump levels", []string{"-dd"}, options{dump: 2}},
		{"dump levels saturate", []string{"-dddd", "-d"}, options{dump: 3}},
		{"linktype by name, any case", []string{"-y", "linux_sll2"},
			options{linkType: pcap.LinkTypeLinuxSLL2, linkTypeSet: true}},
		{"long linktype with =", []string{"--linktype=RAW"}, options{linkType: pcap.LinkTypeRaw, linkTypeSet: true}},
		{"long snaplen prefix", []string{"--snap", "100"}, options{snaplen: 100}},
		{"snaplen zero", []string{"-s0"}, options{snaplen: 0}},
		{"no optimize", []string{"-O"}, options{noOptimize: true}},
		{"long no optimize", []string{"--no-optimize"}, options{noOptimize: true}},
		{"filter file", []string{"-F", "f.txt", "-nn", "-q"}, options{filterFile: "f.txt"}},
		{"line buffered", []string{"-l"}, options{lineBuffered: true}},
		{"count mode", []string{"--count"}, options{countOnly: true}},
		{"version prefix", []string{"--vers"}, options{version: true}},
		{"help stops before a later bad option", []string{"-h", "-k"}, options{help: true}},
		{"help long", []string{"--help"}, options{help: true}},
		{"interface", []string{"-ieth0"}, options{iface: "eth0", ifaces: []string{"eth0"}}},
		{"long interface", []string{"--interface=any"}, options{iface: "any", ifaces: []string{"any"}}},
		{"list interfaces", []string{"-D"}, options{listInterfaces: true}},
		{"no promiscuous", []string{"-p", "-i", "lo"}, options{noPromiscuous: true, iface: "lo", ifaces: []string{"lo"}}},
		{"several interfaces, the last is -i", []string{"-i", "eth0", "-i", "lo", "-i", "eth0"}, options{iface: "eth0", ifaces: []string{"eth0", "lo"}}},
		{"rotation by size", []string{"-w", "f", "-C", "10", "-W", "3", "-z", "true"},
			options{writeFile: "f", fileSize: 10_000_000, fileCount: 3, postRotateCommand: "true"}},
		{"size in KiB", []string{"-w", "f", "-C", "4k"}, options{writeFile: "f", fileSize: 4096}},
		{"size in MiB", []string{"-w", "f", "-C2M"}, options{writeFile: "f", fileSize: 2 << 20}},
		{"size in GiB", []string{"-w", "f", "-C", "1g"}, options{writeFile: "f", fileSize: 1 << 30}},
		{"rotation by time", []string{"-w", "f-%s", "-G", "60", "-W", "2"}, options{writeFile: "f-%s", rotateSeconds: 60, fileCount: 2}},
		{"format", []string{"-w", "f", "--format", "pcapng"}, options{writeFile: "f", format: pcap.FormatPcapng, formatSet: true}},
		{"direction in", []string{"-Q", "in"}, options{direction: capture.DirectionIn}},
		{"direction any case", []string{"-QOUT"}, options{direction: capture.DirectionOut}},
		{"direction both", []string{"--direction=inout"}, options{direction: capture.DirectionInOut}},
		{"buffer size", []string{"-B", "4096"}, options{bufferKiB: 4096}},
		{"packet buffered", []string{"-U", "-w", "-"}, options{packetBuffered: true, writeFile: "-"}},
		{"immediate", []string{"--immediate-mode"}, options{immediate: true}},
		{"drop to user", []string{"-Z", "nobody"}, options{user: "nobody"}},
		{"nano", []string{"--nano"}, options{precision: precisionNano}},
		{"micro", []string{"--micro"}, options{precision: precisionMicro}},
		{"precision nano", []string{"--time-stamp-precision", "nano"}, options{precision: precisionNano}},
		{"precision micro", []string{"--time-stamp-precision=micro"}, options{precision: precisionMicro}},
		{"last precision wins", []string{"--nano", "--micro"}, options{precision: precisionMicro}},
		{"fanout", []string{"--fanout", "2"}, options{fanout: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOptions(tt.args)
			if err != nil {
				t.Fatalf("parseOptions(%q): %v", tt.args, err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("parseOptions(%q)\n got %+v\nwant %+v", tt.args, *got, tt.want)
			}
		})
	}
}

func TestParseOptionsErrors(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		isUsage bool // printed with the usage text
	}{
		{[]string{"-k"}, "invalid option -- 'k'", true},
		{[]string{"-nk"}, "invalid option -- 'k'", true},
		{[]string{"-r"}, "option requires an argument -- 'r'", true},
		{[]string{"--bogus"}, "unrecognized option '--bogus'", true},
		{[]string{"--help=yes"}, "option '--help' doesn't allow an argument", true},
		{[]string{"--linktype"}, "option '--linktype' requires an argument", true},
		{[]string{"--no"}, "option '--no' is ambiguous; possibilities: '--no-optimize' '--no-promiscuous-mode'", true},
		{[]string{"--n"}, "option '--n' is ambiguous; possibilities: '--nano' '--no-optimize' '--no-promiscuous-mode' '--number'", true},
		{[]string{"--l"}, "option '--l' is ambiguous; possibilities: '--list-interfaces' '--list-time-stamp-types' '--list-data-link-types' '--linktype'", true},
		{[]string{"--i"}, "option '--i' is ambiguous; possibilities: '--interface' '--immediate-mode'", true},
		{[]string{"--f"}, "option '--f' is ambiguous; possibilities: '--fp-type' '--fanout' '--format'", true},
		{[]string{"-c", "0"}, "invalid packet count 0", false},
		{[]string{"-c", "abc"}, "invalid packet count abc", false},
		{[]string{"-c", "-1"}, "invalid packet count -1", false},
		{[]string{"-s", "300000"}, "invalid snaplen 300000 (must be >= 0 and <= 262144)", false},
		{[]string{"-s", "x"}, "invalid snaplen x (must be >= 0 and <= 262144)", false},
		{[]string{"-y", "FOO"}, "invalid data link type FOO", false},
		{[]string{"-Q", "x"}, "unknown capture direction `x'", false},
		{[]string{"-B", "0"}, "invalid packet buffer size 0", false},
		{[]string{"-B", "x"}, "invalid packet buffer size x", false},
		{[]string{"--time-stamp-precision", "pico"}, "unsupported time stamp precision", false},
		{[]string{"--fanout", "0"}, "invalid fanout 0 (must be 1 to 256 sockets)", false},
		{[]string{"--fanout", "257"}, "invalid fanout 257 (must be 1 to 256 sockets)", false},
		{[]string{"-I"}, "-I: monitor mode is not supported", false},
		{[]string{"-L"}, "-L: listing data link types is not supported yet", false},
		{[]string{"-j", "adapter"}, "-j: time stamp types are not supported yet", false},
		{[]string{"-r", "f", "-v"}, "-v: detailed packet decoding is not supported yet", false},
		{[]string{"-C", "10"}, "-C and -G need -w", false},
		{[]string{"-C", "0", "-w", "x"}, "invalid file size 0", false},
		{[]string{"-C", "1x", "-w", "x"}, "invalid file size 1x", false},
		{[]string{"-C", "99999999999999", "-w", "x"}, "file size 99999999999999 is too large", false},
		{[]string{"-G", "-1", "-w", "x"}, "invalid rotation time -1", false},
		{[]string{"-W", "0", "-w", "x"}, "invalid number of output files 0", false},
		{[]string{"-W", "3", "-w", "x"}, "-W needs -C or -G", false},
		{[]string{"-z", "gzip", "-w", "x"}, "-z needs -C or -G", false},
		{[]string{"-C", "1", "-w", "-"}, "-C and -G cannot rotate the standard output", false},
		{[]string{"-C", "1", "-w", "x", "-z", "/nonexistent/cmd"}, "-z /nonexistent/cmd: No such file or directory", false},
		{[]string{"--format", "pcapx", "-w", "x"}, "invalid file format pcapx (must be pcap or pcapng)", false},
		{[]string{"--format", "pcapng"}, "--format needs -w", false},
		{[]string{"-x", "-k"}, "-x: detailed packet decoding is not supported yet", false},
	}
	for _, tt := range tests {
		_, err := parseOptions(tt.args)
		if err == nil {
			t.Errorf("parseOptions(%q) succeeded, want error %q", tt.args, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("parseOptions(%q) error %q, want %q", tt.args, err, tt.want)
		}
		_, isUsage := err.(*usageError)
		if isUsage != tt.isUsage {
			t.Errorf("parseOptions(%q): usage error %v, want %v", tt.args, isUsage, tt.isUsage)
		}
	}
}

// Every tcpdump 4.99 short option is known: implemented or refused by name,
// never taken for part of the expression.
func TestEveryTcpdumpShortOptionIsKnown(t *testing.T) {
	const tcpdumpShortOptions = "aAbB:c:C:dDeE:fF:G:hHi:Ij:JKlLm:M:nNOpqQ:r:s:StT:uUvV:w:W:xXy:Yz:Z:#"
	for i := 0; i < len(tcpdumpShortOptions); i++ {
		c := tcpdumpShortOptions[i]
		if c == ':' {
			continue
		}
		spec := shortSpec(c)
		if spec == nil {
			t.Errorf("-%c is not known", c)
			continue
		}
		takesArg := i+1 < len(tcpdumpShortOptions) && tcpdumpShortOptions[i+1] == ':'
		if spec.hasArg != takesArg {
			t.Errorf("-%c: hasArg %v, tcpdump says %v", c, spec.hasArg, takesArg)
		}
	}
}

func TestReadFilterFileComments(t *testing.T) {
	path := writeTempFile(t, "f.txt", "tcp # web traffic\n and port 80 # only\r\n#whole line\nor udp\x00ignored")
	got, err := readFilterFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "tcp" + strings.Repeat(" ", 16) + "and port 80" + strings.Repeat(" ", 21) + "or udp"
	if got != want {
		t.Errorf("readFilterFile = %q\nwant            %q", got, want)
	}
}

func TestReadFilterFileMissing(t *testing.T) {
	_, err := readFilterFile("/nonexistent/filter.txt")
	want := "can't open /nonexistent/filter.txt: No such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
