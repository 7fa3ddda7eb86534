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
	"time"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// printBlockTimeout is how long the kernel may hold a partly filled ring
// block when weir prints the packets: tcpdump's 100 ms when it prints to
// a terminal, rather than the second a file gets.
const printBlockTimeout = 100 * time.Millisecond

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
		Nanoseconds: c.liveNanoseconds(),
		Fanout:      c.opts.fanout,
	}
	switch {
	case c.opts.immediate || c.opts.packetBuffered:
		cfg.BlockTimeout = immediateBlockTimeout
	case c.opts.writeFile == "" && !c.opts.countOnly:
		cfg.BlockTimeout = printBlockTimeout
	}
	return cfg
}

// reportOpenError explains why a capture could not start, naming the
// capability when privilege is missing.
func (c *command) reportOpenError(device string, err error) {
	text := liveErrorText(err)
	if !strings.Contains(text, device) {
		text = device + ": " + text
	}
	c.errorf("%s", text)
	if errors.Is(err, os.ErrPermission) && !strings.Contains(text, "CAP_NET_RAW") && !strings.Contains(text, "CAP_BPF") {
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

// liveCapture is one interface being captured.
type liveCapture struct {
	device string
	src    liveSource
	closed bool
}

func (l *liveCapture) close() {
	if !l.closed {
		l.closed = true
		l.src.Close()
	}
}

// openLiveCaptures opens every -i (or the default interface) with the
// filter in its kernel. Errors are reported; nothing stays open then.
func (c *command) openLiveCaptures(expr string) ([]*liveCapture, bool) {
	names := c.opts.ifaces
	if len(names) == 0 {
		names = []string{""}
	}
	var captures []*liveCapture
	for _, name := range names {
		device, err := resolveDevice(c.system, name)
		if err == nil && slices.ContainsFunc(captures, func(l *liveCapture) bool { return l.device == device }) {
			continue // "-i 1 -i eth0" may name one interface twice
		}
		var src liveSource
		ok := err == nil
		if !ok {
			c.errorf("%s", liveErrorText(err))
		} else {
			src, ok = c.openLive(c.captureConfig(device), expr)
		}
		if !ok {
			for _, l := range captures {
				l.close()
			}
			return nil, false
		}
		captures = append(captures, &liveCapture{device: device, src: src})
	}
	return captures, true
}

// runLive captures from the interfaces until -c packets, a signal, or an
// error, then reports the kernel's counters as tcpdump does.
func (c *command) runLive(ctx context.Context, expr string) int {
	if c.opts.watch && (len(c.opts.sets) == 0 && c.opts.rulesFile == "" || c.opts.backend != backendXDP && c.opts.backend != backendTC && c.opts.backend != backendEBPF) {
		c.errorf("--watch reloads sets held in kernel maps: use it with --set or --rules, and --xdp, --tc or --ebpf")
		return 1
	}
	// Reloads and periodic statistics write from their own goroutines.
	c.stderr = &lockedWriter{w: c.stderr}
	captures, ok := c.openLiveCaptures(expr)
	if !ok {
		return 1
	}
	if len(c.reloadables) > 0 {
		reload := func() { c.reloadSets(c.reloadables) }
		reloader.Store(&reload)
		defer reloader.Store(nil)
	}
	defer func() {
		for _, l := range captures {
			l.close()
		}
	}()
	for _, l := range captures {
		if c.opts.linkTypeSet || l.device == anyDevice.Name {
			c.errorf("data link type %s", l.src.LinkType().Name())
		}
	}

	out, ok := c.prepareLiveOutput(captures, expr)
	if !ok {
		return 1
	}
	if c.opts.user != "" {
		if err := c.system.DropPrivileges(c.opts.user); err != nil {
			c.errorf("%s", err)
			out.close()
			return 1
		}
	}
	stopAll := func() {
		for _, l := range captures {
			l.src.Stop()
		}
	}
	done := make(chan struct{})
	watching := stopOnCancel(ctx, stopAll, done)
	settleHeap()
	parkSpareThread()
	for _, l := range captures {
		c.printListening(l.device, l.src.LinkType(), l.src.Snaplen())
	}
	out.start = time.Now()

	if c.opts.statsInterval > 0 {
		go c.printStatsEvery(c.opts.statsInterval, captures, out, done)
	}
	if c.opts.watch && len(c.reloadables) > 0 {
		go c.watchSets(done)
	}
	readErr, writeErr := out.run(captures, stopAll)
	close(done)
	<-watching
	signalled := ctx.Err() != nil
	return c.finishLive(captures, out, readErr, writeErr, signalled)
}

// finishLive closes the captures and the output and prints tcpdump's
// closing lines.
func (c *command) finishLive(captures []*liveCapture, out *liveOutput, readErr, writeErr error, signalled bool) int {
	var total capture.Stats
	var statsErr error
	var ruleStats []capture.RuleStats
	for _, l := range captures {
		st, err := l.src.Stats()
		if err != nil && statsErr == nil {
			statsErr = err
		}
		total.Received += st.Received
		total.Dropped += st.Dropped
		if r, ok := l.src.(interface {
			RuleStats() ([]capture.RuleStats, error)
		}); ok {
			rs, err := r.RuleStats()
			if err != nil && statsErr == nil {
				statsErr = err
			}
			ruleStats = append(ruleStats, rs...)
		}
	}
	// The file's statistics are read from the captures as it closes.
	if err := out.close(); err != nil && writeErr == nil {
		writeErr = err
	}
	for _, l := range captures {
		l.close()
	}
	c.waitPostRotate()
	status := 0
	if readErr != nil {
		c.errorf("%s", liveErrorText(readErr))
		status = 1
	}
	if writeErr != nil && !errors.Is(writeErr, pcap.ErrFileLimit) {
		c.errorf("%s: %s", out.name, describe(writeErr))
		status = 1
	}
	if signalled && out.writer == nil {
		// tcpdump ends the printed lines with an empty one when interrupted.
		io.WriteString(c.stdout, "\n")
	}
	captured := out.captured()
	fmt.Fprintf(c.stderr, "%d packet%s captured\n", captured, plural64(captured))
	if statsErr != nil {
		c.errorf("pcap_stats: %s", liveErrorText(statsErr))
		return 1
	}
	fmt.Fprintf(c.stderr, "%d packet%s received by filter\n%d packet%s dropped by kernel\n",
		total.Received, plural64(total.Received), total.Dropped, plural64(total.Dropped))
	c.printRuleStats(ruleStats)
	return status
}

// liveInterfaces describes the captured interfaces for the output file.
func (c *command) liveInterfaces(captures []*liveCapture, expr string) []pcap.Interface {
	descriptions := map[string]string{}
	if list, err := c.system.Interfaces(); err == nil {
		for _, ifc := range list {
			descriptions[ifc.Name] = ifc.Description
		}
	}
	resolution := uint64(1e6)
	if c.liveNanoseconds() {
		resolution = 1e9
	}
	ifaces := make([]pcap.Interface, len(captures))
	for i, l := range captures {
		ifaces[i] = pcap.Interface{
			LinkType:            l.src.LinkType(),
			Snaplen:             l.src.Snaplen(),
			Name:                l.device,
			Description:         descriptions[l.device],
			Filter:              strings.TrimSpace(expr),
			OS:                  osDescription(),
			TimestampResolution: resolution,
			FCSLength:           -1,
		}
	}
	return ifaces
}

// liveNanoseconds reports whether to capture nanosecond timestamps: when
// asked, and for pcapng files unless microseconds are asked for.
func (c *command) liveNanoseconds() bool {
	switch c.opts.precision {
	case precisionNano:
		return true
	case precisionMicro:
		return false
	}
	return c.opts.writeFile != "" && c.outputFormat() == pcap.FormatPcapng
}

// prepareLiveOutput opens -w's file or sets up the printers, before any
// privilege is dropped.
func (c *command) prepareLiveOutput(captures []*liveCapture, expr string) (*liveOutput, bool) {
	out := &liveOutput{name: "stdout", limit: uint64(c.opts.count)}
	switch {
	case c.opts.writeFile != "":
		w, name, err := c.openPacketOutput(outputSpec{
			interfaces: c.liveInterfaces(captures, expr),
			section:    sectionInfo(),
			stats:      out.statsFunc(captures),
		})
		out.name = name
		if err != nil {
			c.errorf("%s", err)
			return nil, false
		}
		out.writer, out.closeFn = w, w.Close
		return out, true
	case c.opts.countOnly:
		return out, true
	}
	buffered := bufio.NewWriterSize(c.stdout, outputBufferSize)
	for _, l := range captures {
		out.printers = append(out.printers, newPrinter(buffered, l.src.LinkType(), c.liveNanoseconds(), c.opts.lineBuffered))
	}
	out.closeFn = buffered.Flush
	return out, true
}

func plural64(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// stopOnCancel calls stop when ctx is cancelled, until done is closed; the
// returned channel closes when it no longer watches. Unlike
// context.AfterFunc, its goroutine exists before the capture starts: a
// goroutine made at a signal would take its stack from fresh pages on
// the capture's core, faulting them in while the capture stops.
func stopOnCancel(ctx context.Context, stop func(), done <-chan struct{}) <-chan struct{} {
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		select {
		case <-ctx.Done():
			stop()
		case <-done:
		}
	}()
	return watching
}
