package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/weircap/weir/pcap"
)

// liveOutput is where captured packets go: -w's file, the printed lines,
// or only the count (--count). With several interfaces, one reader per
// interface writes to it in turn.
type liveOutput struct {
	name   string
	writer pcap.PacketWriter
	// infoWriter is writer when it takes the CaptureInfo by pointer.
	infoWriter packetInfoWriter
	printers   []*printer // one per capture, sharing one buffered stdout
	closeFn    func() error
	limit      uint64 // -c; 0 for no limit
	start      time.Time

	// Counts, changed by the readers with mu held (one reader needs no
	// lock) and read by the file's statistics, which the writer asks for
	// from within WritePacket or at close.
	mu           sync.Mutex
	capturedN    uint64
	perInterface []uint64
	flushErr     error  // of a flush while a capture waited
	flushedN     uint64 // capturedN at that flush
}

// captured is the number of packets written or printed.
func (o *liveOutput) captured() uint64 { return o.capturedN }

func (o *liveOutput) close() error {
	if o.closeFn == nil {
		return nil
	}
	fn := o.closeFn
	o.closeFn = nil
	return fn()
}

// statsFunc gives the pcapng statistics of each interface: the kernel's
// counters and the packets written since the capture began.
func (o *liveOutput) statsFunc(captures []*liveCapture) func() []pcap.InterfaceStats {
	o.perInterface = make([]uint64, len(captures))
	return func() []pcap.InterfaceStats {
		now := time.Now()
		stats := make([]pcap.InterfaceStats, len(captures))
		for i, l := range captures {
			kernel, _ := l.src.Stats()
			stats[i] = pcap.CaptureStats(o.start, now, kernel.Received, kernel.Dropped, o.perInterface[i])
		}
		return stats
	}
}

// run reads every capture until each ends (io.EOF after Stop), -c is
// reached, or an error; stopAll stops them all.
func (o *liveOutput) run(captures []*liveCapture, stopAll func()) (readErr, writeErr error) {
	o.infoWriter, _ = o.writer.(packetInfoWriter)
	if len(captures) == 1 {
		return o.read(0, captures[0], nil)
	}
	// The first reader to end, for whatever reason, ends them all.
	var wg sync.WaitGroup
	var errMu sync.Mutex
	for i, l := range captures {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, w := o.read(i, l, &o.mu)
			stopAll()
			errMu.Lock()
			if readErr == nil && writeErr == nil {
				readErr, writeErr = r, w
			}
			errMu.Unlock()
		}()
	}
	wg.Wait()
	return readErr, writeErr
}

// waitNotifier is a live source that calls f before it waits for
// packets (*capture.Source and *capture.HookSource are): the file is
// flushed then, so its system calls come while the capture has nothing
// else to do.
type waitNotifier interface {
	OnWait(f func())
}

// flushWaiting hands the packets gathered so far to -w's file; mu, when
// several captures share the output, is held.
func (o *liveOutput) flushWaiting(mu *sync.Mutex) {
	if mu != nil {
		mu.Lock()
		defer mu.Unlock()
	}
	if o.flushedN == o.capturedN {
		return // nothing new: a compressed file would gain an empty block
	}
	o.flushedN = o.capturedN
	if err := o.writer.Flush(); err != nil && o.flushErr == nil {
		o.flushErr = err
	}
}

// packetInfoWriter is a writer taking the CaptureInfo by pointer (those
// of pcap.CreateFile are), which spares a copy of the struct per packet.
type packetInfoWriter interface {
	WritePacketInfo(ci *pcap.CaptureInfo, data []byte) error
}

// infoReader is a live source that fills the caller's CaptureInfo in
// place (*capture.Source is one): the loop then spares copying the
// returned struct on every packet, a stall that costs about as much as
// reading the packet.
type infoReader interface {
	ReadPacketInfo(ci *pcap.CaptureInfo) ([]byte, error)
}

// readyWriter is a live source that writes the packets it holds straight
// to a pcap file (*capture.Source is one, for one ring).
type readyWriter interface {
	WriteReady(w *pcap.Writer, max int) (n int, readErr, writeErr error)
}

// recordsWriter is an output whose pcap records readyWriter can write:
// pcap.CreateFile's, unless it writes pcapng or flushes every packet.
type recordsWriter interface {
	Records() *pcap.Writer
}

// read writes or prints the packets of capture number index; the kernel
// has already filtered them. mu, when several captures share the output,
// is held around each packet's output.
func (o *liveOutput) read(index int, l *liveCapture, mu *sync.Mutex) (readErr, writeErr error) {
	src := l.src
	fast, isFast := src.(infoReader)
	if n, ok := src.(waitNotifier); ok && o.writer != nil {
		n.OnWait(func() { o.flushWaiting(mu) })
	}
	ready, records := o.directWriter(src, mu)
	var ci pcap.CaptureInfo
	for {
		if records != nil {
			// The packets the kernel has handed over, in one go; the
			// loop below waits for more.
			done, readErr, writeErr := o.writeReady(index, ready, records)
			if readErr != nil {
				return fmt.Errorf("%s: %w", l.device, readErr), nil
			}
			if done || writeErr != nil {
				return nil, writeErr
			}
		}
		var data []byte
		var err error
		if isFast {
			data, err = fast.ReadPacketInfo(&ci)
		} else {
			data, ci, err = src.ReadPacket()
		}
		if err != nil {
			if err == io.EOF {
				return nil, nil
			}
			return fmt.Errorf("%s: %w", l.device, err), nil
		}
		ci.InterfaceIndex = index
		if mu != nil {
			mu.Lock()
		}
		done, err := o.output(index, &ci, data)
		if mu != nil {
			mu.Unlock()
		}
		if err != nil || done {
			if errors.Is(err, pcap.ErrFileLimit) {
				err = nil
			}
			return nil, err
		}
	}
}

// directWriter is src as a readyWriter and the output's pcap writer when
// src can write to it itself: one capture (several share the output
// under mu, packet by packet) and a pcap file; nils otherwise.
func (o *liveOutput) directWriter(src liveSource, mu *sync.Mutex) (readyWriter, *pcap.Writer) {
	ready, ok := src.(readyWriter)
	rw, isRecords := o.writer.(recordsWriter)
	if !ok || !isRecords || mu != nil {
		return nil, nil
	}
	if w := rw.Records(); w != nil {
		return ready, w
	}
	return nil, nil
}

// writeReady writes the packets src holds, as output would one by one;
// done is true once -c's count is reached.
func (o *liveOutput) writeReady(index int, src readyWriter, w *pcap.Writer) (done bool, readErr, writeErr error) {
	if o.flushErr != nil {
		return true, nil, o.flushErr
	}
	max := math.MaxInt
	if o.limit > 0 {
		if o.capturedN >= o.limit {
			return true, nil, nil
		}
		max = int(min(o.limit-o.capturedN, math.MaxInt))
	}
	n, readErr, writeErr := src.WriteReady(w, max)
	o.capturedN += uint64(n)
	if o.perInterface != nil {
		o.perInterface[index] += uint64(n)
	}
	return o.limit > 0 && o.capturedN >= o.limit, readErr, writeErr
}

// output writes or prints one packet; done is true once -c's count is
// reached.
func (o *liveOutput) output(index int, ci *pcap.CaptureInfo, data []byte) (done bool, err error) {
	if o.limit > 0 && o.capturedN >= o.limit {
		return true, nil
	}
	if o.flushErr != nil {
		return true, o.flushErr
	}
	switch {
	case o.infoWriter != nil:
		err = o.infoWriter.WritePacketInfo(ci, data)
	case o.writer != nil:
		err = o.writer.WritePacket(*ci, data)
	case o.printers != nil:
		err = o.printers[index].printPacket(*ci, data)
	}
	if err != nil {
		return true, err
	}
	o.capturedN++
	if o.perInterface != nil {
		o.perInterface[index]++
	}
	return o.limit > 0 && o.capturedN >= o.limit, nil
}
