package main

import (
	"testing"
	"time"

	"github.com/weircap/weir/pcap"
)

// flushCounter is a PacketWriter that counts what reaches it.
type flushCounter struct{ packets, flushes int }

func (w *flushCounter) WritePacket(pcap.CaptureInfo, []byte) error { w.packets++; return nil }
func (w *flushCounter) Flush() error                               { w.flushes++; return nil }
func (w *flushCounter) Close() error                               { return nil }

// TestFlushWaitingOnlyWhenSomethingWaits: a capture waiting for packets
// flushes the file once per batch of new packets, never for nothing (a
// compressed file would gain an empty block at each wait).
func TestFlushWaitingOnlyWhenSomethingWaits(t *testing.T) {
	w := &flushCounter{}
	o := &liveOutput{writer: w}
	o.flushWaiting(nil)
	if w.flushes != 0 {
		t.Fatalf("%d flushes before any packet", w.flushes)
	}
	ci := pcap.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: 1, Length: 1}
	for range 3 {
		if _, err := o.output(0, &ci, []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	o.flushWaiting(nil)
	o.flushWaiting(nil)
	if w.packets != 3 || w.flushes != 1 {
		t.Fatalf("%d packets, %d flushes; want 3 and one flush", w.packets, w.flushes)
	}
	if _, err := o.output(0, &ci, []byte{1}); err != nil {
		t.Fatal(err)
	}
	o.flushWaiting(nil)
	if w.flushes != 2 {
		t.Fatalf("%d flushes after a fourth packet, want 2", w.flushes)
	}
}
