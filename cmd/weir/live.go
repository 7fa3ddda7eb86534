package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// immediateBlockTimeout is how long the kernel may hold a partly filled
// ring block in immediate mode (-U, --immediate-mode): short enough that a
// reader of the output sees each packet at once.
const immediateBlockTimeout = time.Millisecond

// listDevices prints -D's numbered list of interfaces.
func (c *command) listDevices() int {
	list, err := c.system.Interfaces()
	if err != nil {
		c.errorf("%s", liveErrorText(err))
		return 1
	}
	if err := writeDeviceList(c.stdout, captureDevices(list)); err != nil {
		c.errorf("stdout: %s", describe(err))
		return 1
	}
	return 0
}

// liveFilterConfig is how to compile for the interface's socket: its link
// type, no savefile rules, on Ethernet the kernel's VLAN metadata. -y must
// name the interface's own link type. Errors are reported.
func (c *command) liveFilterConfig(device string) (filter.Config, bool) {
	cfg, err := c.system.FilterConfig(device)
	if err != nil {
		c.reportOpenError(device, err)
		return cfg, false
	}
	if c.opts.linkTypeSet && c.opts.linkType != cfg.LinkType {
		c.errorf("%s is not one of the DLTs supported by this device", c.opts.linkType.Name())
		return cfg, false
	}
	cfg.Snaplen = c.liveSnaplen()
	cfg.Optimize = !c.opts.noOptimize
	return cfg, true
}

func (c *command) liveSnaplen() uint32 {
	if c.opts.snaplen == 0 {
		return maxSnaplen
	}
	return c.opts.snaplen
}

// captureConfig is the capture the options ask for, without the filter.
func (c *command) captureConfig(device string) capture.Config {
	cfg := capture.Config{
		Interface:   device,
		Snaplen:     c.liveSnaplen(),
		Promiscuous: !c.opts.noPromiscuous,
		Direction:   c.opts.direction,
		BufferSize:  c.opts.bufferKiB * 1024,
		Nanoseconds: c.opts.precision == precisionNano,
		Fanout:      c.opts.fanout,
	}
	if c.opts.immediate || c.opts.packetBuffered {
		cfg.BlockTimeout = immediateBlockTimeout
	}
	return cfg
}

// openLive compiles the filter for the interface and opens the capture
// with it in the kernel. Errors are reported.
func (c *command) openLive(cfg capture.Config, expr string) (liveSource, bool) {
	fcfg, ok := c.liveFilterConfig(cfg.Interface)
	if !ok {
		return nil, false
	}
	if strings.TrimSpace(expr) != "" {
		prog, ok := c.compile(expr, fcfg)
		if !ok {
			return nil, false
		}
		cfg.Filter = prog
	}
	src, err := c.system.Open(cfg)
	if err != nil {
		c.reportOpenError(cfg.Interface, err)
		return nil, false
	}
	// As tcpdump, say so when the kernel refused the filter, which then
	// runs in user space.
	if r, ok := src.(interface{ FilterRefused() error }); ok {
		if err := r.FilterRefused(); err != nil {
			c.errorf("warning: %s", liveErrorText(err))
		}
	}
	return src, true
}

// reportOpenError explains why a capture could not start, naming the
// capability when privilege is missing.
func (c *command) reportOpenError(device string, err error) {
	text := liveErrorText(err)
	if !strings.Contains(text, device) {
		text = device + ": " + text
	}
	c.errorf("%s", text)
	if errors.Is(err, os.ErrPermission) && !strings.Contains(text, "CAP_NET_RAW") {
		exe, exeErr := os.Executable()
		if exeErr != nil {
			exe = "weir"
		}
		c.errorf("capturing needs CAP_NET_RAW: run as root or grant it with setcap cap_net_raw,cap_net_admin=eip %s", exe)
	}
}

// liveErrorText is err without the capture package's prefix, which means
// nothing to the user of a command.
func liveErrorText(err error) string {
	if errors.Is(err, capture.ErrNotSupported) {
		return "live capture is not supported on this system: read a capture file with -r FILE"
	}
	return strings.TrimPrefix(err.Error(), "capture: ")
}

// printListening writes tcpdump's line that says packets now flow;
// scripts wait for "listening on".
func (c *command) printListening(device string, lt pcap.LinkType, snaplen uint32) {
	if strings.HasPrefix(lt.Name(), "LINKTYPE_") {
		c.errorf("listening on %s, link-type %d, snapshot length %d bytes", device, uint32(lt), snaplen)
		return
	}
	c.errorf("listening on %s, link-type %s (%s), snapshot length %d bytes", device, lt.Name(), lt.Description(), snaplen)
}

// runLive captures from an interface until -c packets, a signal, or an
// error, then reports the kernel's counters as tcpdump does.
func (c *command) runLive(ctx context.Context, expr string) int {
	device, err := resolveDevice(c.system, c.opts.iface)
	if err != nil {
		c.errorf("%s", liveErrorText(err))
		return 1
	}
	src, ok := c.openLive(c.captureConfig(device), expr)
	if !ok {
		return 1
	}
	closeSource := func() {
		if src != nil {
			src.Close()
			src = nil
		}
	}
	defer closeSource()
	if c.opts.linkTypeSet || device == anyDevice.Name {
		c.errorf("data link type %s", src.LinkType().Name())
	}

	loop := &liveLoop{src: src, limit: c.opts.count, flushEach: c.opts.packetBuffered}
	closeOutput, outputName, ok := c.prepareLiveOutput(loop, src)
	if !ok {
		return 1
	}
	if c.opts.user != "" {
		if err := c.system.DropPrivileges(c.opts.user); err != nil {
			c.errorf("%s", err)
			closeOutput()
			return 1
		}
	}
	c.printListening(device, src.LinkType(), src.Snaplen())

	stopWatching := context.AfterFunc(ctx, src.Stop)
	readErr, writeErr := loop.run()
	stopWatching()
	signalled := ctx.Err() != nil

	stats, statsErr := src.Stats()
	closeSource()
	if err := closeOutput(); err != nil && writeErr == nil {
		writeErr = err
	}
	status := 0
	if readErr != nil {
		c.errorf("%s: %s", device, liveErrorText(readErr))
		status = 1
	}
	if writeErr != nil {
		c.errorf("%s: %s", outputName, describe(writeErr))
		status = 1
	}
	if signalled && loop.writer == nil {
		// tcpdump ends the printed lines with an empty one when interrupted.
		io.WriteString(c.stdout, "\n")
	}
	fmt.Fprintf(c.stderr, "%d packet%s captured\n", loop.captured, plural(loop.captured))
	if statsErr != nil {
		c.errorf("pcap_stats: %s", liveErrorText(statsErr))
		return 1
	}
	fmt.Fprintf(c.stderr, "%d packet%s received by filter\n%d packet%s dropped by kernel\n",
		stats.Received, plural64(stats.Received), stats.Dropped, plural64(stats.Dropped))
	return status
}

// prepareLiveOutput opens -w's file or sets up the printer, before any
// privilege is dropped. The returned function flushes and closes.
func (c *command) prepareLiveOutput(loop *liveLoop, src liveSource) (func() error, string, bool) {
	nanos := c.opts.precision == precisionNano
	switch {
	case c.opts.writeFile != "":
		header := pcap.FileHeader{LinkType: src.LinkType(), Snaplen: src.Snaplen(), Nanoseconds: nanos}
		w, name, closeOutput, err := c.openOutput(header)
		if err != nil {
			c.errorf("%s", err)
			return nil, name, false
		}
		if c.opts.packetBuffered {
			// The header goes out now: a reader of a pipe starts at once.
			if err := w.Flush(); err != nil {
				closeOutput()
				c.errorf("%s: %s", name, describe(err))
				return nil, name, false
			}
		}
		loop.writer = w
		return closeOutput, name, true
	case c.opts.countOnly:
		return func() error { return nil }, "stdout", true
	}
	buffered := bufio.NewWriterSize(c.stdout, outputBufferSize)
	loop.printer = newPrinter(buffered, src.LinkType(), nanos, c.opts.lineBuffered)
	return buffered.Flush, "stdout", true
}

func plural64(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// liveLoop writes or prints every packet the capture delivers; the kernel
// has already filtered them.
type liveLoop struct {
	src       liveSource
	limit     int // stop after this many packets; 0 for no limit
	writer    *pcap.Writer
	flushEach bool // -U: each packet reaches the file at once
	printer   *printer

	captured int
}

// infoReader is a live source that fills the caller's CaptureInfo in
// place (*capture.Source is one): the loop then spares copying the
// returned struct on every packet, a stall that costs about as much as
// reading the packet.
type infoReader interface {
	ReadPacketInfo(ci *pcap.CaptureInfo) ([]byte, error)
}

// run returns the error that ended the loop early. The capture's io.EOF
// (after Stop, once the ring is drained) and -c's limit are normal ends.
func (l *liveLoop) run() (readErr, writeErr error) {
	fast, isFast := l.src.(infoReader)
	var ci pcap.CaptureInfo
	for l.limit == 0 || l.captured < l.limit {
		var data []byte
		var err error
		if isFast {
			data, err = fast.ReadPacketInfo(&ci)
		} else {
			data, ci, err = l.src.ReadPacket()
		}
		if err != nil {
			if err == io.EOF {
				return nil, nil
			}
			return err, nil
		}
		l.captured++
		switch {
		case l.writer != nil:
			err = l.writer.WritePacket(ci, data)
			if err == nil && l.flushEach {
				err = l.writer.Flush()
			}
		case l.printer != nil:
			err = l.printer.printPacket(ci, data)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}
