package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
	"github.com/weircap/weir/rules"
)

// Buffer sizes for the offline path: large, so that reading and writing cost
// few system calls per packet.
const (
	inputBufferSize  = 1 << 20
	outputBufferSize = 256 << 10
)

// command runs one invocation after its options are parsed.
type command struct {
	opts   *options
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	system liveSystem
	sets   map[string]*filter.Set // from --set, for every compile
	rules  *rules.File            // --rules, when capturing with it
	// reloadables are the captures whose sets SIGHUP reloads.
	reloadables []reloadable
	postRotateState
}

func (c *command) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "weir: "+format+"\n", args...)
}

func (c *command) run(ctx context.Context) int {
	if c.opts.listInterfaces {
		return c.listDevices()
	}
	expr, err := c.expression()
	if err != nil {
		c.errorf("%s", err)
		return 1
	}
	if c.sets, err = c.opts.loadSets(); err != nil {
		c.errorf("%s", err)
		return 1
	}
	if c.opts.rulesFile != "" || c.opts.check {
		return c.runRules(ctx, expr)
	}
	switch {
	case c.opts.readFile == "" && c.opts.dump > 0:
		return c.dumpWithoutFile(expr)
	case c.opts.readFile == "":
		return c.runLive(ctx, expr)
	}

	src, inputName, closeInput, err := c.openInput()
	if err != nil {
		c.errorf("%s", err)
		return 1
	}
	defer closeInput()
	snaplen := fileSnaplen(src)
	c.printStart(inputName, src.LinkType(), snaplen)

	// A file is filtered by weir's VM, which looks sets up itself: a set
	// of any size costs one lookup per field.
	prog, ok := c.compile(expr, filter.Config{LinkType: src.LinkType(), Snaplen: snaplen, Optimize: !c.opts.noOptimize,
		Savefile: true, SavefileBigEndian: src.BigEndian(), SetLookups: len(c.sets) > 0})
	if !ok {
		return 1
	}
	if c.opts.dump > 0 {
		return c.printDump(prog)
	}
	return c.filterFile(ctx, src, inputName, prog, expr)
}

// expression is the filter text: the -F file's, or the operands joined by
// spaces, as tcpdump's copy_argv.
func (c *command) expression() (string, error) {
	if c.opts.filterFile == "" {
		return strings.Join(c.opts.exprArgs, " "), nil
	}
	expr, err := readFilterFile(c.opts.filterFile)
	if err != nil {
		return "", err
	}
	if len(c.opts.exprArgs) > 0 {
		fmt.Fprintf(c.stderr, "weir: WARNING: -F given; ignoring command-line expression %q\n",
			strings.Join(c.opts.exprArgs, " "))
	}
	return expr, nil
}

// readFilterFile reads an -F file as tcpdump 4.99's read_infile: "#" starts
// a comment to the end of the line. Comments and line breaks become spaces,
// so error offsets still point into the file's text, and the caret stays
// on one line.
func readFilterFile(name string) (string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("can't open %s: %s", name, describe(err))
	}
	// The C string ends at the first NUL.
	if i := strings.IndexByte(string(data), 0); i >= 0 {
		data = data[:i]
	}
	inComment := false
	for i, b := range data {
		switch {
		case b == '\n' || b == '\r':
			inComment = false
			data[i] = ' '
		case b == '#' || inComment:
			inComment = true
			data[i] = ' '
		}
	}
	return string(data), nil
}

// dumpWithoutFile compiles for -y's link type (Ethernet when absent, with
// tcpdump's warning) and prints the program. With -i the program is the
// one the interface's socket would get.
func (c *command) dumpWithoutFile(expr string) int {
	if b := c.dumpBackend(); b != backendClassic {
		return c.dumpEBPF(b, expr)
	}
	var cfg filter.Config
	switch {
	case c.opts.iface != "":
		device, err := resolveDevice(c.system, c.opts.iface)
		if err != nil {
			c.errorf("%s", liveErrorText(err))
			return 1
		}
		var ok bool
		if cfg, ok = c.liveFilterConfig(device); !ok {
			return 1
		}
		if c.opts.linkTypeSet || device == anyDevice.Name {
			c.errorf("data link type %s", cfg.LinkType.Name())
		}
	case c.opts.linkTypeSet:
		cfg = filter.Config{LinkType: c.opts.linkType, Snaplen: c.liveSnaplen(), Optimize: !c.opts.noOptimize}
	default:
		fmt.Fprintln(c.stderr, "Warning: assuming Ethernet")
		cfg = filter.Config{LinkType: pcap.LinkTypeEthernet, Snaplen: c.liveSnaplen(), Optimize: !c.opts.noOptimize}
	}
	prog, ok := c.compile(expr, cfg)
	if !ok {
		return 1
	}
	return c.printDump(prog)
}

// compile reports a filter error with the caret under its position.
func (c *command) compile(expr string, cfg filter.Config) (filter.Program, bool) {
	cfg.Sets = c.sets
	prog, err := filter.Compile(expr, cfg)
	if err != nil {
		io.WriteString(c.stderr, "weir: ")
		c.reportCompileError(err)
		return nil, false
	}
	return prog, true
}

func (c *command) printDump(prog filter.Program) int {
	format := filter.DumpAssembly
	switch c.opts.dump {
	case 2:
		format = filter.DumpC
	case 3:
		format = filter.DumpDecimal
	}
	text := filter.Dump(prog, format)
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if _, err := io.WriteString(c.stdout, text); err != nil {
		c.errorf("stdout: %s", describe(err))
		return 1
	}
	return 0
}

// openInput opens -r's file ("-" is standard input) and reads its header.
func (c *command) openInput() (*pcap.Reader, string, func(), error) {
	name := c.opts.readFile
	var in io.Reader = c.stdin
	closeInput := func() {}
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, name, nil, fmt.Errorf("%s: %s", name, describe(err))
		}
		in = f
		closeInput = func() { f.Close() }
	}
	src, err := pcap.NewReader(bufio.NewReaderSize(in, inputBufferSize))
	if err != nil {
		closeInput()
		return nil, name, nil, inputError(name, err)
	}
	return src, name, closeInput, nil
}

// inputError names the file and, for a malformed one, the offset.
func inputError(name string, err error) error {
	var ferr *pcap.FormatError
	if errors.As(err, &ferr) {
		return fmt.Errorf("%s: offset %d: %s", name, ferr.Offset, ferr.Msg)
	}
	return fmt.Errorf("%s: %s", name, describe(err))
}

// fileSnaplen is the snap length libpcap reports for a file: values of 0
// or above the maximum are replaced by the maximum (pcap_adjust_snapshot).
// tcpdump -r compiles with it, whatever -s says.
func fileSnaplen(src *pcap.Reader) uint32 { return fileSnaplenOf(src.Snaplen()) }

func fileSnaplenOf(s uint32) uint32 {
	if s == 0 || s > maxSnaplen {
		return maxSnaplen
	}
	return s
}

// printStart writes tcpdump's first line to stderr.
func (c *command) printStart(name string, lt pcap.LinkType, snaplen uint32) {
	if strings.HasPrefix(lt.Name(), "LINKTYPE_") {
		fmt.Fprintf(c.stderr, "reading from file %s, link-type %d, snapshot length %d\n", name, uint32(lt), snaplen)
		return
	}
	fmt.Fprintf(c.stderr, "reading from file %s, link-type %s (%s), snapshot length %d\n",
		name, lt.Name(), lt.Description(), snaplen)
}

// filterFile runs the read-filter-write loop and reports how it ended.
func (c *command) filterFile(ctx context.Context, src *pcap.Reader, inputName string, prog filter.Program, expr string) int {
	vm, err := filter.NewVMWithSets(prog, c.sets)
	if err != nil {
		c.errorf("%s", err)
		return 1
	}
	loop := &offlineLoop{src: src, matchAll: strings.TrimSpace(expr) == "", limit: c.opts.count,
		filters: linkFilters{first: src.LinkType(), firstVM: vm, compile: c.fileFilterCompiler(src, expr)}}
	outputName := "stdout"
	var closeOutput func() error
	switch {
	case c.opts.writeFile != "":
		out, name, err := c.openFileCopy(src, expr)
		if err != nil {
			c.errorf("%s", err)
			return 1
		}
		loop.writer, outputName, closeOutput = out, name, out.Close
		// Every writer can take the interfaces of later sections: a
		// pcap file refuses one of another link type.
		loop.interfaces = pcap.NewInterfaceMap(filterNaming{out, out.(pcap.InterfaceAdder), expr}, src)
	case !c.opts.countOnly:
		buffered := bufio.NewWriterSize(c.stdout, outputBufferSize)
		loop.printer = newPrinter(buffered, src.LinkType(), c.nanoseconds(src), c.opts.lineBuffered)
		if src.LinkType() == pcap.LinkTypeLinuxSLL2 {
			fmt.Fprintln(c.stderr, "Warning: interface names might be incorrect")
		}
		closeOutput = buffered.Flush
	}

	var stopped atomic.Bool
	stopped.Store(ctx.Err() != nil) // AfterFunc runs its function asynchronously
	stopWatching := context.AfterFunc(ctx, func() { stopped.Store(true) })
	readErr, writeErr := loop.run(&stopped)
	stopWatching()

	status := 0
	if closeOutput != nil {
		if err := closeOutput(); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	c.waitPostRotate()
	if c.opts.countOnly {
		fmt.Fprintf(c.stdout, "%d packet%s\n", loop.captured, plural(loop.captured))
	}
	if readErr != nil {
		var cerr *compileError
		if errors.As(readErr, &cerr) {
			fmt.Fprintf(c.stderr, "weir: %s: packet %d: link-type %s: ", inputName, cerr.packet, cerr.linkType.Name())
			c.reportCompileError(cerr.err)
		} else {
			c.errorf("%s", inputError(inputName, readErr))
		}
		status = 1
	}
	if writeErr != nil && !errors.Is(writeErr, pcap.ErrFileLimit) {
		c.errorf("%s: %s", outputName, describe(writeErr))
		status = 1
	}
	fmt.Fprintf(c.stderr, "%d packet%s captured\n%d packet%s received by filter\n",
		loop.captured, plural(loop.captured), loop.received, plural(loop.received))
	return status
}

// openFileCopy creates -w's file for the packets of src: the same
// interfaces, link types and resolution (or the one asked for), and for
// pcapng the input's section and the expression as each interface's
// filter.
func (c *command) openFileCopy(src *pcap.Reader, expr string) (pcap.PacketWriter, string, error) {
	ifaces := slices.Clone(src.Interfaces())
	for i := range ifaces {
		ifc := &ifaces[i]
		ifc.Snaplen = fileSnaplenOf(ifc.Snaplen)
		switch {
		case c.opts.precision == precisionNano:
			ifc.TimestampResolution = 1e9
		case c.opts.precision == precisionMicro:
			ifc.TimestampResolution = 1e6
		case i == 0 && src.Format() == "pcapng" && c.outputFormat() == pcap.FormatPcap:
			// A pcap file holds micro or nanoseconds: the finer when the
			// input's is finer than microseconds.
			if src.Nanoseconds() {
				ifc.TimestampResolution = 1e9
			} else {
				ifc.TimestampResolution = 1e6
			}
		}
		if c.outputFormat() == pcap.FormatPcapng {
			ifc.Filter = combinedFilter(ifc.Filter, expr)
		}
	}
	section := src.Section()
	if section == (pcap.Section{}) {
		section = sectionInfo()
	}
	return c.openPacketOutput(outputSpec{interfaces: ifaces, section: section})
}

// compileError is a filter that does not compile for a link type met in
// the middle of a file.
type compileError struct {
	packet   int // the first packet of the link type, from 1
	linkType pcap.LinkType
	err      error
}

func (e *compileError) Error() string { return e.err.Error() }

// reportCompileError prints a filter error with the caret under its
// position; the line may have begun already.
func (c *command) reportCompileError(err error) {
	var ferr *filter.Error
	if errors.As(err, &ferr) {
		fmt.Fprintf(c.stderr, "%s\n%s\n", ferr.Error(), ferr.Caret())
		return
	}
	fmt.Fprintf(c.stderr, "%s\n", err)
}

// fileFilterCompiler compiles the expression for another link type of the
// file, as the first one was.
func (c *command) fileFilterCompiler(src *pcap.Reader, expr string) func(pcap.LinkType) (*filter.VM, error) {
	return func(lt pcap.LinkType) (*filter.VM, error) {
		prog, err := filter.Compile(expr, filter.Config{LinkType: lt, Snaplen: fileSnaplen(src),
			Optimize: !c.opts.noOptimize, Savefile: true, SavefileBigEndian: src.BigEndian(), Sets: c.sets, SetLookups: len(c.sets) > 0})
		if err != nil {
			return nil, &compileError{linkType: lt, err: err}
		}
		return filter.NewVMWithSets(prog, c.sets)
	}
}

// linkFilters holds the expression compiled for each link type a file
// holds: a pcapng file may mix them, and each needs its own program.
type linkFilters struct {
	first   pcap.LinkType
	firstVM *filter.VM
	others  map[pcap.LinkType]*filter.VM
	compile func(pcap.LinkType) (*filter.VM, error)
}

// vm is the program for packets of link type lt, compiled the first time
// one is met.
func (f *linkFilters) vm(lt pcap.LinkType) (*filter.VM, error) {
	if lt == f.first {
		return f.firstVM, nil
	}
	if vm, ok := f.others[lt]; ok {
		return vm, nil
	}
	vm, err := f.compile(lt)
	if err != nil {
		return nil, err
	}
	if f.others == nil {
		f.others = map[pcap.LinkType]*filter.VM{}
	}
	f.others[lt] = vm
	return vm, nil
}

// nanoseconds is the timestamp precision of the output: the one asked for
// with --time-stamp-precision, or the file's.
func (c *command) nanoseconds(src *pcap.Reader) bool {
	switch c.opts.precision {
	case precisionMicro:
		return false
	case precisionNano:
		return true
	}
	return src.Nanoseconds()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// offlineLoop reads packets, keeps those the program accepts, and writes
// or prints them. Exactly one of writer and printer is set, or neither for
// --count.
type offlineLoop struct {
	src        *pcap.Reader
	filters    linkFilters
	matchAll   bool // empty expression: skip the VM
	limit      int  // stop after this many matches; 0 for no limit
	writer     pcap.PacketWriter
	interfaces *pcap.InterfaceMap // numbers the copy's interfaces
	printer    *printer

	received int // packets read
	captured int // packets that matched
}

// run returns the error that ended the loop early: a read error (bad or
// truncated record, or a filter that does not compile for a link type
// met) or a write error. io.EOF, a stop and -G -W's last file are normal
// ends.
func (l *offlineLoop) run(stopped *atomic.Bool) (readErr, writeErr error) {
	for !stopped.Load() {
		data, ci, err := l.src.ReadPacket()
		if err != nil {
			if err == io.EOF {
				return nil, nil
			}
			return err, nil
		}
		l.received++
		if !l.matchAll {
			vm, err := l.filters.vm(ci.LinkType)
			if err != nil {
				if cerr, ok := err.(*compileError); ok {
					cerr.packet = l.received
				}
				return err, nil
			}
			if vm.Run(data, ci.Length) == 0 {
				continue
			}
		}
		if err := l.output(&ci, data); err != nil {
			if errors.Is(err, pcap.ErrFileLimit) {
				return nil, nil
			}
			return nil, err
		}
		l.captured++
		if l.limit > 0 && l.captured >= l.limit {
			return nil, nil
		}
	}
	return nil, nil
}

// output writes or prints one matching packet.
func (l *offlineLoop) output(ci *pcap.CaptureInfo, data []byte) error {
	switch {
	case l.writer != nil:
		if err := l.interfaces.Map(l.src, ci); err != nil {
			return err
		}
		return l.writer.WritePacket(*ci, data)
	case l.printer != nil:
		l.printer.linkType = ci.LinkType // a pcapng file may mix them
		return l.printer.printPacket(*ci, data)
	}
	return nil
}
