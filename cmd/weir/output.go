package main

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/pcap"
)

// outputSpec is what -w's file describes besides its packets.
type outputSpec struct {
	interfaces []pcap.Interface
	section    pcap.Section
	// stats gives each interface's totals when a pcapng file closes; nil
	// when there are none (reading a file).
	stats func() []pcap.InterfaceStats
}

// fileBufferSize is how many bytes of whole packets -w gathers before a
// write (a live capture also writes whenever it waits for packets). The
// page cache takes large writes for less: a live capture's 1.6 MB of
// 80-byte records took 0.7-1.0 ms of system time in 64 KiB writes and
// 0.5-0.6 ms in 256 KiB ones (ext4, which has large folios).
const fileBufferSize = 256 << 10

// outputFormat is the file format -w writes: --format's, or the one the
// name's extension asks for (pcap unless it ends in .pcapng).
func (c *command) outputFormat() pcap.Format {
	if c.opts.formatSet {
		return c.opts.format
	}
	return pcap.FormatFromName(c.opts.writeFile)
}

// rotating reports whether -C or -G asks for a series of files.
func (c *command) rotating() bool { return c.opts.fileSize > 0 || c.opts.rotateSeconds > 0 }

// openPacketOutput creates -w's file ("-" is standard output) in the
// format and compression asked for, rotating as -C, -G and -W say. The
// name returned is for messages.
func (c *command) openPacketOutput(spec outputSpec) (pcap.PacketWriter, string, error) {
	name := c.opts.writeFile
	wopts := pcap.WriterOptions{
		Format:          c.outputFormat(),
		Compression:     pcap.CompressionFromName(name),
		Interfaces:      spec.interfaces,
		Section:         spec.section,
		Stats:           spec.stats,
		FlushEachPacket: c.opts.packetBuffered,
		BufferSize:      fileBufferSize,
	}
	switch {
	case name == "-":
		w, err := pcap.NewPacketWriter(c.stdout, wopts)
		if err != nil {
			return nil, "stdout", fmt.Errorf("stdout: %s", describe(err))
		}
		return w, "stdout", nil
	case c.rotating():
		r, err := pcap.NewRotator(pcap.RotateOptions{
			Name:          name,
			MaxBytes:      c.opts.fileSize,
			RotateSeconds: c.opts.rotateSeconds,
			MaxFiles:      c.opts.fileCount,
			Writer:        wopts,
			OnRotate:      c.postRotate,
		})
		if err != nil {
			return nil, name, fmt.Errorf("%s: %s", name, describe(err))
		}
		return r, name, nil
	}
	w, err := pcap.CreateFile(name, wopts)
	if err != nil {
		return nil, name, fmt.Errorf("%s: %s", name, describe(err))
	}
	return w, name, nil
}

// postRotate runs -z's command on a file a rotation closed, as tcpdump
// does: the command gets the file name as its only argument and runs
// beside the capture. waitPostRotate collects them at exit.
func (c *command) postRotate(path string) {
	if c.opts.postRotateCommand == "" {
		return
	}
	cmd := exec.Command(c.opts.postRotateCommand, path)
	cmd.Stdout, cmd.Stderr = c.stderr, c.stderr
	if err := cmd.Start(); err != nil {
		c.errorf("-z %s %s: %s", c.opts.postRotateCommand, path, describe(err))
		return
	}
	c.postRotateMu.Lock()
	c.postRotateRunning = append(c.postRotateRunning, cmd)
	c.postRotateMu.Unlock()
}

// waitPostRotate waits for the -z commands still running, so that the
// files they produce are complete when weir exits.
func (c *command) waitPostRotate() {
	c.postRotateMu.Lock()
	running := c.postRotateRunning
	c.postRotateRunning = nil
	c.postRotateMu.Unlock()
	for _, cmd := range running {
		if err := cmd.Wait(); err != nil {
			c.errorf("-z %s: %s", strings.Join(cmd.Args, " "), err)
		}
	}
}

// postRotateState is the command's record of -z's running commands.
type postRotateState struct {
	postRotateMu      sync.Mutex
	postRotateRunning []*exec.Cmd
}

// sectionInfo is the pcapng section header weir writes: the machine, its
// operating system and weir's version.
func sectionInfo() pcap.Section {
	return pcap.Section{Hardware: runtime.GOARCH, OS: osDescription(), Application: "weir " + weirVersion()}
}

// osDescription is "Linux 6.1.0-13-amd64" or the like.
func osDescription() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return runtime.GOOS
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
}

func weirVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// checkOutputOptions rejects combinations of -w, -C, -G, -W and -z that
// cannot work, before anything is opened.
func (o *options) checkOutputOptions() error {
	rotating := o.fileSize > 0 || o.rotateSeconds > 0
	switch {
	case rotating && o.writeFile == "":
		return errors.New("-C and -G need -w")
	case rotating && o.writeFile == "-":
		return errors.New("-C and -G cannot rotate the standard output")
	case o.fileCount > 0 && !rotating:
		return errors.New("-W needs -C or -G")
	case o.postRotateCommand != "" && !rotating:
		return errors.New("-z needs -C or -G")
	case o.formatSet && o.writeFile == "":
		return errors.New("--format needs -w")
	}
	if o.postRotateCommand != "" {
		if _, err := exec.LookPath(o.postRotateCommand); err != nil {
			return fmt.Errorf("-z %s: %s", o.postRotateCommand, describe(err))
		}
	}
	return nil
}

// combinedFilter is the if_filter of a copy: the original capture filter
// and the expression applied since, both of which its packets passed.
func combinedFilter(original, expr string) string {
	original, expr = strings.TrimSpace(original), strings.TrimSpace(expr)
	switch {
	case original == "":
		return expr
	case expr == "" || original == expr:
		return original
	}
	return "(" + original + ") and (" + expr + ")"
}

// filterNaming gives every interface it describes to a writer the
// expression as its filter: the interfaces of a copy's later sections.
type filterNaming struct {
	pcap.PacketWriter
	adder pcap.InterfaceAdder
	expr  string
}

func (f filterNaming) AddInterface(ifc pcap.Interface) (int, error) {
	ifc.Filter = combinedFilter(ifc.Filter, f.expr)
	return f.adder.AddInterface(ifc)
}
