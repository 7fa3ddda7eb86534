package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/pcap"
)

// maxSnaplen is tcpdump's MAXIMUM_SNAPLEN: -s 0 means this, larger values
// are refused.
const maxSnaplen = 262144

// optionSpec describes one tcpdump option. Options weir does not implement
// yet are still known, so that they fail loudly instead of being taken for
// part of the expression or silently ignored.
type optionSpec struct {
	short       byte   // 0 for a long-only option
	long        string // "" for a short-only option
	hasArg      bool
	unsupported string // why it fails; "" when weir implements it
}

// maxFanout is the most sockets a PACKET_FANOUT group may hold in Linux.
const maxFanout = 256

const (
	notDecode  = "detailed packet decoding is not supported yet"
	notTstamp  = "timestamp options are not supported yet"
	notGeneral = "this option is not supported yet"
)

// optionSpecs follows tcpdump 4.99's SHORTOPTS and longopts.
var optionSpecs = []optionSpec{
	{short: 'c', hasArg: true},
	{short: 'd'},
	{short: 'F', hasArg: true},
	{short: 'h', long: "help"},
	{short: 'l'},
	{short: 'n'},
	{short: 'O', long: "no-optimize"},
	{short: 'q'},
	{short: 'r', hasArg: true},
	{short: 's', long: "snapshot-length", hasArg: true},
	{short: 'w', hasArg: true},
	{short: 'y', long: "linktype", hasArg: true},
	{long: "version"},
	{long: "count"},

	{short: 'B', long: "buffer-size", hasArg: true},
	{short: 'D', long: "list-interfaces"},
	{short: 'i', long: "interface", hasArg: true},
	{short: 'p', long: "no-promiscuous-mode"},
	{short: 'Q', long: "direction", hasArg: true},
	{short: 'U', long: "packet-buffered"},
	{short: 'Z', long: "relinquish-privileges", hasArg: true},
	{long: "immediate-mode"},
	{long: "time-stamp-precision", hasArg: true},
	{long: "micro"},
	{long: "nano"},
	{long: "fanout", hasArg: true},  // weir's own: tcpdump has no fanout
	{long: "backend", hasArg: true}, // weir's own, as the three below
	{long: "xdp"},
	{long: "xdp-mode", hasArg: true},
	{long: "tc"},
	{long: "ebpf"},
	{long: "set", hasArg: true}, // weir's own: --set NAME=FILE, repeatable
	{long: "rules", hasArg: true},
	{long: "check"},
	{long: "watch"},
	{long: "stats-interval", hasArg: true},

	{short: 'I', long: "monitor-mode", unsupported: "monitor mode is not supported"},
	{short: 'j', long: "time-stamp-type", hasArg: true, unsupported: "time stamp types are not supported yet"},
	{short: 'J', long: "list-time-stamp-types", unsupported: "time stamp types are not supported yet"},
	{short: 'L', long: "list-data-link-types", unsupported: "listing data link types is not supported yet"},

	{short: 'C', hasArg: true},
	{short: 'G', hasArg: true},
	{short: 'W', hasArg: true},
	{short: 'z', hasArg: true},
	{long: "format", hasArg: true}, // weir's own: pcap or pcapng
	{short: 'V', hasArg: true, unsupported: "reading a list of files is not supported yet"},

	{short: 'A', unsupported: notDecode},
	{short: 'e', unsupported: notDecode},
	{short: 'v', unsupported: notDecode},
	{short: 'x', unsupported: notDecode},
	{short: 'X', unsupported: notDecode},
	{short: 'E', hasArg: true, unsupported: notDecode},
	{short: 'K', long: "dont-verify-checksums", unsupported: notDecode},
	{short: 'm', hasArg: true, unsupported: notDecode},
	{short: 'M', hasArg: true, unsupported: notDecode},
	{short: 'S', long: "absolute-tcp-sequence-numbers", unsupported: notDecode},
	{short: 'T', hasArg: true, unsupported: notDecode},
	{short: 'a', unsupported: notDecode},
	{short: 'b', unsupported: notDecode},
	{short: 'f', unsupported: notDecode},
	{short: 'H', unsupported: notDecode},
	{short: 'N', unsupported: notDecode},
	{short: 'u', unsupported: notDecode},
	{short: '#', long: "number", unsupported: notGeneral},
	{long: "print", unsupported: notGeneral},
	{short: 't', unsupported: notTstamp},
	{short: 'Y', long: "debug-filter-parser", unsupported: notGeneral},
	{long: "fp-type", unsupported: notGeneral},
	{long: "time-t-size", unsupported: notGeneral},
}

// dumpFormat is how many -d were given: 0 none, 1 -d, 2 -dd, 3 or more -ddd.
type dumpFormat int

// options is the parsed command line.
type options struct {
	readFile     string // -r; "" when absent, "-" for stdin
	writeFile    string // -w; "-" for stdout
	count        int    // -c; 0 means no limit
	linkType     pcap.LinkType
	linkTypeSet  bool   // -y given
	snaplen      uint32 // -s; 0 means maxSnaplen
	dump         dumpFormat
	filterFile   string // -F
	noOptimize   bool   // -O
	lineBuffered bool   // -l
	countOnly    bool   // --count
	help         bool   // -h, --help: print usage and exit 0
	version      bool   // --version: print version and exit 0
	exprArgs     []string

	// Output files.
	format            pcap.Format // --format
	formatSet         bool
	fileSize          int64  // -C, in bytes; 0 for no size rotation
	rotateSeconds     int    // -G; 0 for no time rotation
	fileCount         int    // -W
	postRotateCommand string // -z

	// Live capture.
	iface          string   // -i, the last one; "" picks the default interface
	ifaces         []string // every -i, in order: several go into one file
	listInterfaces bool     // -D
	noPromiscuous  bool     // -p
	direction      capture.Direction
	bufferKiB      int             // -B; 0 for the default ring size
	packetBuffered bool            // -U: flush the output file after every packet
	immediate      bool            // --immediate-mode: hand packets over without waiting
	user           string          // -Z: the user to become once the socket and file are open
	fanout         int             // --fanout; 0 or 1 for one socket
	sets           []setOption     // every --set, in order
	rulesFile      string          // --rules
	check          bool            // --check: validate --rules and exit
	watch          bool            // --watch: reload sets when their files change
	statsInterval  time.Duration   // --stats-interval; 0: only at exit
	backend        backend         // --backend, --xdp, --tc, --ebpf
	backendSet     bool            // one of them given
	xdpMode        capture.XDPMode // --xdp-mode
	xdpModeSet     bool

	// precision is the timestamp resolution asked for with
	// --time-stamp-precision, --micro or --nano.
	precision timestampPrecision
}

// timestampPrecision is a requested timestamp resolution.
type timestampPrecision int

const (
	precisionDefault timestampPrecision = iota // live: micro; offline: the file's
	precisionMicro
	precisionNano
)

// usageError is a command-line syntax error: it is reported with the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parsedOption is one option occurrence as getopt would return it.
type parsedOption struct {
	spec *optionSpec
	name string // as typed: "-i" or "--interface"
	arg  string
}

// parseOptions parses args with tcpdump's getopt_long rules and applies the
// options in order, stopping at the first that ends the run (help, version,
// or an error), as tcpdump does.
func parseOptions(args []string) (*options, error) {
	parsed, operands, scanErr := scanArgs(args)
	opts := &options{exprArgs: operands}
	for _, p := range parsed {
		if err := opts.apply(p); err != nil {
			return nil, err
		}
		if opts.help || opts.version {
			return opts, nil
		}
	}
	if scanErr != nil {
		return nil, scanErr
	}
	if err := opts.checkOutputOptions(); err != nil {
		return nil, err
	}
	if err := opts.checkBackendOptions(); err != nil {
		return nil, err
	}
	return opts, nil
}

// scanArgs splits args into options and operands as GNU getopt_long does:
// clustered short options, arguments attached or separate, options after
// operands (argv permutation), "--" ending the options. It stops at the
// first syntax error, returning the options before it.
func scanArgs(args []string) ([]parsedOption, []string, error) {
	var parsed []parsedOption
	var operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return parsed, append(operands, args[i+1:]...), nil
		case strings.HasPrefix(a, "--"):
			p, used, err := scanLong(a[2:], args[i+1:])
			if err != nil {
				return parsed, operands, err
			}
			parsed = append(parsed, p)
			i += used
		case len(a) > 1 && a[0] == '-':
			ps, used, err := scanCluster(a[1:], args[i+1:])
			parsed = append(parsed, ps...)
			if err != nil {
				return parsed, operands, err
			}
			i += used
		default:
			operands = append(operands, a)
		}
	}
	return parsed, operands, nil
}

// scanCluster reads the short options of one argument ("nr" of "-nr");
// an option taking an argument uses the rest of the cluster or the next
// argument. It returns how many following arguments it consumed.
func scanCluster(cluster string, rest []string) ([]parsedOption, int, error) {
	var parsed []parsedOption
	for j := 0; j < len(cluster); j++ {
		c := cluster[j]
		spec := shortSpec(c)
		if spec == nil {
			return parsed, 0, &usageError{fmt.Sprintf("invalid option -- '%c'", c)}
		}
		p := parsedOption{spec: spec, name: "-" + string(c)}
		if !spec.hasArg {
			parsed = append(parsed, p)
			continue
		}
		if j+1 < len(cluster) {
			p.arg = cluster[j+1:]
			return append(parsed, p), 0, nil
		}
		if len(rest) == 0 {
			return parsed, 0, &usageError{fmt.Sprintf("option requires an argument -- '%c'", c)}
		}
		p.arg = rest[0]
		return append(parsed, p), 1, nil
	}
	return parsed, 0, nil
}

// scanLong reads "name" or "name=value"; an unambiguous prefix of a long
// option's name is accepted, as getopt_long does.
func scanLong(body string, rest []string) (parsedOption, int, error) {
	name, value, hasValue := strings.Cut(body, "=")
	spec, err := longSpec(name)
	if err != nil {
		return parsedOption{}, 0, err
	}
	p := parsedOption{spec: spec, name: "--" + spec.long}
	switch {
	case !spec.hasArg && hasValue:
		return p, 0, &usageError{fmt.Sprintf("option '--%s' doesn't allow an argument", spec.long)}
	case !spec.hasArg:
		return p, 0, nil
	case hasValue:
		p.arg = value
		return p, 0, nil
	case len(rest) == 0:
		return p, 0, &usageError{fmt.Sprintf("option '--%s' requires an argument", spec.long)}
	default:
		p.arg = rest[0]
		return p, 1, nil
	}
}

func shortSpec(c byte) *optionSpec {
	for i := range optionSpecs {
		if optionSpecs[i].short == c && c != 0 {
			return &optionSpecs[i]
		}
	}
	return nil
}

func longSpec(name string) (*optionSpec, error) {
	var matches []*optionSpec
	for i := range optionSpecs {
		s := &optionSpecs[i]
		if s.long == "" {
			continue
		}
		if s.long == name {
			return s, nil
		}
		if name != "" && strings.HasPrefix(s.long, name) {
			matches = append(matches, s)
		}
	}
	switch len(matches) {
	case 0:
		return nil, &usageError{fmt.Sprintf("unrecognized option '--%s'", name)}
	case 1:
		return matches[0], nil
	}
	slices.SortStableFunc(matches, func(a, b *optionSpec) int {
		return cmp.Compare(longOptionRank(a.long), longOptionRank(b.long))
	})
	var names []string
	for _, m := range matches {
		names = append(names, "'--"+m.long+"'")
	}
	return nil, &usageError{fmt.Sprintf("option '--%s' is ambiguous; possibilities: %s",
		name, strings.Join(names, " "))}
}

// tcpdumpLongOrder is tcpdump 4.99's longopts array, the order getopt_long
// lists the candidates of an ambiguous prefix in.
var tcpdumpLongOrder = []string{
	"buffer-size", "list-interfaces", "help", "interface", "monitor-mode",
	"time-stamp-type", "list-time-stamp-types", "micro", "nano",
	"time-stamp-precision", "dont-verify-checksums", "list-data-link-types",
	"no-optimize", "no-promiscuous-mode", "direction", "snapshot-length",
	"absolute-tcp-sequence-numbers", "packet-buffered", "linktype",
	"immediate-mode", "debug-filter-parser", "relinquish-privileges", "count",
	"fp-type", "number", "print", "version",
}

// longOptionRank places weir's own long options after tcpdump's.
func longOptionRank(name string) int {
	if i := slices.Index(tcpdumpLongOrder, name); i >= 0 {
		return i
	}
	return len(tcpdumpLongOrder)
}

// apply records one option, checking its argument as tcpdump does.
func (o *options) apply(p parsedOption) error {
	if p.spec.unsupported != "" {
		return fmt.Errorf("%s: %s", p.name, p.spec.unsupported)
	}
	switch {
	case p.spec.long == "version":
		o.version = true
	case p.spec.long == "count":
		o.countOnly = true
	case p.spec.short == 'h':
		o.help = true
	case p.spec.short == 'c':
		n, err := strconv.ParseInt(p.arg, 0, 32)
		if err != nil || n <= 0 {
			return fmt.Errorf("invalid packet count %s", p.arg)
		}
		o.count = int(n)
	case p.spec.short == 'd':
		if o.dump < 3 {
			o.dump++
		}
	case p.spec.short == 'F':
		o.filterFile = p.arg
	case p.spec.short == 'l':
		o.lineBuffered = true
	case p.spec.short == 'O':
		o.noOptimize = true
	case p.spec.short == 'r':
		o.readFile = p.arg
	case p.spec.short == 's':
		n, err := strconv.ParseInt(p.arg, 0, 64)
		if err != nil || n < 0 || n > maxSnaplen {
			return fmt.Errorf("invalid snaplen %s (must be >= 0 and <= %d)", p.arg, maxSnaplen)
		}
		o.snaplen = uint32(n)
	case p.spec.short == 'w':
		o.writeFile = p.arg
	case p.spec.short == 'C', p.spec.short == 'G', p.spec.short == 'W', p.spec.short == 'z',
		p.spec.long == "format":
		return o.applyOutput(p)
	case p.spec.short == 'y':
		lt, ok := pcap.LinkTypeByName(p.arg)
		if !ok {
			return fmt.Errorf("invalid data link type %s", p.arg)
		}
		o.linkType, o.linkTypeSet = lt, true
	case p.spec.short == 'n', p.spec.short == 'q':
		// weir never resolves names and always prints one short line.
	default:
		return o.applyLive(p)
	}
	return nil
}

// applyOutput records the options of output files, as tcpdump checks
// them.
func (o *options) applyOutput(p parsedOption) error {
	switch {
	case p.spec.short == 'C':
		n, err := parseFileSize(p.arg)
		if err != nil {
			return err
		}
		o.fileSize = n
	case p.spec.short == 'G':
		n, err := strconv.ParseInt(p.arg, 10, 32)
		if err != nil || n < 0 {
			return fmt.Errorf("invalid rotation time %s", p.arg)
		}
		o.rotateSeconds = int(n)
	case p.spec.short == 'W':
		n, err := strconv.ParseInt(p.arg, 10, 32)
		if err != nil || n <= 0 {
			return fmt.Errorf("invalid number of output files %s", p.arg)
		}
		o.fileCount = int(n)
	case p.spec.short == 'z':
		o.postRotateCommand = p.arg
	default:
		f, err := pcap.ParseFormat(p.arg)
		if err != nil {
			return fmt.Errorf("invalid file format %s (must be pcap or pcapng)", p.arg)
		}
		o.format, o.formatSet = f, true
	}
	return nil
}

// parseFileSize reads -C: millions of bytes, or with a k, m or g suffix
// KiB, MiB or GiB, as tcpdump 4.99.5 does.
func parseFileSize(arg string) (int64, error) {
	unit := int64(1_000_000)
	digits := arg
	if n := len(arg); n > 0 {
		switch arg[n-1] {
		case 'k', 'K':
			unit, digits = 1<<10, arg[:n-1]
		case 'm', 'M':
			unit, digits = 1<<20, arg[:n-1]
		case 'g', 'G':
			unit, digits = 1<<30, arg[:n-1]
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange), err == nil && n > (1<<62)/unit:
		return 0, fmt.Errorf("file size %s is too large", arg)
	case err != nil || n <= 0:
		return 0, fmt.Errorf("invalid file size %s", arg)
	}
	return n * unit, nil
}

// applyLive records the options of live capture.
func (o *options) applyLive(p parsedOption) error {
	switch {
	case p.spec.short == 'B':
		n, err := strconv.ParseInt(p.arg, 10, 32)
		if err != nil || n <= 0 {
			return fmt.Errorf("invalid packet buffer size %s", p.arg)
		}
		o.bufferKiB = int(n)
	case p.spec.short == 'D':
		o.listInterfaces = true
	case p.spec.short == 'i':
		o.iface = p.arg
		if !slices.Contains(o.ifaces, p.arg) {
			o.ifaces = append(o.ifaces, p.arg)
		}
	case p.spec.short == 'p':
		o.noPromiscuous = true
	case p.spec.short == 'Q':
		d, ok := map[string]capture.Direction{"in": capture.DirectionIn, "out": capture.DirectionOut,
			"inout": capture.DirectionInOut}[strings.ToLower(p.arg)]
		if !ok {
			return fmt.Errorf("unknown capture direction `%s'", p.arg)
		}
		o.direction = d
	case p.spec.short == 'U':
		o.packetBuffered = true
	case p.spec.short == 'Z':
		o.user = p.arg
	case p.spec.long == "immediate-mode":
		o.immediate = true
	case p.spec.long == "micro":
		o.precision = precisionMicro
	case p.spec.long == "nano":
		o.precision = precisionNano
	case p.spec.long == "time-stamp-precision":
		switch p.arg {
		case "micro":
			o.precision = precisionMicro
		case "nano":
			o.precision = precisionNano
		default:
			return errors.New("unsupported time stamp precision")
		}
	case p.spec.long == "backend", p.spec.long == "xdp", p.spec.long == "tc", p.spec.long == "ebpf",
		p.spec.long == "xdp-mode":
		return o.applyBackend(p)
	case p.spec.long == "set":
		return o.addSet(p.arg)
	case p.spec.long == "rules":
		o.rulesFile = p.arg
	case p.spec.long == "check":
		o.check = true
	case p.spec.long == "watch":
		o.watch = true
	case p.spec.long == "stats-interval":
		n, err := strconv.ParseFloat(p.arg, 64)
		if err != nil || n <= 0 || n > 86400 {
			return fmt.Errorf("invalid stats interval %s (seconds, more than 0)", p.arg)
		}
		o.statsInterval = time.Duration(n * float64(time.Second))
	case p.spec.long == "fanout":
		n, err := strconv.ParseInt(p.arg, 10, 32)
		if err != nil || n < 1 || n > maxFanout {
			return fmt.Errorf("invalid fanout %s (must be 1 to %d sockets)", p.arg, maxFanout)
		}
		o.fanout = int(n)
	default:
		return errors.New("internal error: option " + p.name + " has no handler")
	}
	return nil
}

const usageText = `Usage: weir [-dDhlnOpqU] [ -B size ] [ -c count ] [ --count ] [ -F file ]
		[ --backend auto|classic|ebpf|xdp|tc ] [ --ebpf ] [ --tc ]
		[ --xdp ] [ --xdp-mode native|generic ]
		[ -C file_size ] [ --fanout sockets ] [ --format pcap|pcapng ]
		[ -G seconds ] [ -i interface ]... [ --immediate-mode ]
		[ -Q in|out|inout ] [ -r file ] [ -s snaplen ]
		[ --time-stamp-precision precision ] [ --micro ] [ --nano ]
		[ --rules file [ --check ] ] [ --set name=file ]... [ --watch ]
		[ --stats-interval seconds ] [ --version ] [ -w file ]
		[ -W filecount ] [ -y datalinktype ] [ -z postrotate-command ]
		[ -Z user ]
		[ expression ]
`
