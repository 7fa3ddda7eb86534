package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// NgOptions describes the pcapng file an NgWriter writes.
type NgOptions struct {
	Section Section // the section header's options
	// Interfaces get one interface description block each, in order;
	// CaptureInfo.InterfaceIndex refers to them. A TimestampResolution of
	// 0, or one finer than nanoseconds, is written as nanoseconds; others
	// must be powers of 10 or 2, as if_tsresol can say. Snaplen 0 writes
	// "no limit".
	Interfaces []Interface
	// Stats, when set, is asked by Close for each interface's statistics
	// (indexed like Interfaces; missing entries are skipped), which are
	// written as interface statistics blocks before the file ends.
	Stats func() []InterfaceStats
	// BufferSize is how many bytes of whole blocks wait before they go to
	// the file; 0 means 64 KiB.
	BufferSize int
}

// ngInterface is what NgWriter needs per interface to write packets.
type ngInterface struct {
	snaplen    uint32
	resolution uint64
	offset     int64
}

// NgWriter writes a pcapng file: one section, little-endian, with an
// interface description block per interface, enhanced packet blocks with
// epb_flags (direction) and opt_comment when a packet has them, and
// interface statistics blocks.
//
// Like Writer, it hands the underlying writer whole blocks only and keeps
// at most 64 KiB of them (see Flush); after a failed write every call
// returns the same error, and the torn block is cut off when the
// underlying writer has a Truncate method, so the file ends cleanly after
// the last complete block.
type NgWriter struct {
	w          io.Writer
	opts       NgOptions
	interfaces []ngInterface
	buf        []byte // whole blocks not yet written
	written    int64  // bytes the underlying writer took, a block boundary
	err        error
}

// NewNgWriter prepares the section header and interface descriptions for
// w. Nothing reaches w before the first Flush or a full buffer.
func NewNgWriter(w io.Writer, opts NgOptions) (*NgWriter, error) {
	nw := &NgWriter{w: w, opts: opts, buf: newBuffer(bufferSizeOr(opts.BufferSize))}
	nw.opts.Interfaces = nil
	nw.buf = appendSectionHeader(nw.buf, opts.Section)
	for _, ifc := range opts.Interfaces {
		if _, err := nw.AddInterface(ifc); err != nil {
			return nil, err
		}
	}
	return nw, nil
}

// Interfaces returns the interfaces written so far, with the defaults
// filled in (TimestampResolution).
func (nw *NgWriter) Interfaces() []Interface { return nw.opts.Interfaces }

// AddInterface writes an interface description block and returns the
// index packets of that interface give as CaptureInfo.InterfaceIndex.
// Interfaces may be added at any time, as when copying a file whose later
// sections bring new ones.
func (nw *NgWriter) AddInterface(ifc Interface) (int, error) {
	if nw.err != nil {
		return 0, nw.err
	}
	if ifc.TimestampResolution == 0 || ifc.TimestampResolution > 1_000_000_000 {
		// Finer units hold nothing more: time.Time stops at nanoseconds.
		ifc.TimestampResolution = 1_000_000_000
	}
	tsresol, ok := encodeTimestampResolution(ifc.TimestampResolution)
	if !ok {
		return 0, fmt.Errorf("pcap: timestamp resolution %d is neither a power of 10 nor of 2", ifc.TimestampResolution)
	}
	if ifc.LinkType > 0xffff {
		return 0, fmt.Errorf("pcap: link type %d does not fit a pcapng interface description", uint32(ifc.LinkType))
	}
	nw.buf = appendInterfaceDescription(nw.buf, ifc, tsresol)
	nw.interfaces = append(nw.interfaces, ngInterface{snaplen: ifc.Snaplen, resolution: ifc.TimestampResolution, offset: ifc.TimestampOffset})
	nw.opts.Interfaces = append(nw.opts.Interfaces, ifc)
	return len(nw.interfaces) - 1, nil
}

// WritePacket appends an enhanced packet block for ci.InterfaceIndex.
// Data longer than the interface's snap length is cut to it.
func (nw *NgWriter) WritePacket(ci CaptureInfo, data []byte) error {
	if nw.err != nil {
		return nw.err
	}
	if ci.InterfaceIndex < 0 || ci.InterfaceIndex >= len(nw.interfaces) {
		return fmt.Errorf("pcap: packet for interface %d, but %d defined", ci.InterfaceIndex, len(nw.interfaces))
	}
	ifc := &nw.interfaces[ci.InterfaceIndex]
	if ifc.snaplen != 0 && uint32(len(data)) > ifc.snaplen {
		data = data[:ifc.snaplen]
	}
	flags := ci.Flags&^epbFlagsDirectionMask | uint32(ci.Direction)&epbFlagsDirectionMask
	optionsLength := 0
	if flags != 0 {
		optionsLength += 8
	}
	if ci.Comment != "" {
		optionsLength += 4 + pad4(len(ci.Comment))
	}
	if optionsLength != 0 {
		optionsLength += 4 // opt_endofopt
	}
	length := blockOverhead + epbFixedLength + pad4(len(data)) + optionsLength
	if uint64(length) > 1<<32-4 || len(ci.Comment) > 0xffff {
		return fmt.Errorf("pcap: packet of %d bytes with a %d-byte comment does not fit a block", len(data), len(ci.Comment))
	}
	if err := nw.makeRoom(length); err != nil {
		return err
	}
	ticks := timestampTicks(ci.Timestamp, ifc.resolution, ifc.offset)
	b := nw.buf
	b = appendBlockHeader(b, blockTypeEnhancedPacket, length)
	b = binary.LittleEndian.AppendUint32(b, uint32(ci.InterfaceIndex))
	b = binary.LittleEndian.AppendUint32(b, uint32(ticks>>32))
	b = binary.LittleEndian.AppendUint32(b, uint32(ticks))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = binary.LittleEndian.AppendUint32(b, uint32(max(ci.Length, len(data))))
	b = appendPadded(b, data)
	if optionsLength != 0 {
		if flags != 0 {
			b = appendOptionHeader(b, optionEPBFlags, 4)
			b = binary.LittleEndian.AppendUint32(b, flags)
		}
		if ci.Comment != "" {
			b = appendStringOption(b, optionComment, ci.Comment)
		}
		b = appendOptionHeader(b, optionEndOfOptions, 0)
	}
	nw.buf = binary.LittleEndian.AppendUint32(b, uint32(length))
	return nil
}

// WriteStats appends an interface statistics block for the interface with
// the given index. Its timestamp is st.End (or the Start, or 0).
func (nw *NgWriter) WriteStats(index int, st InterfaceStats) error {
	if nw.err != nil {
		return nw.err
	}
	if index < 0 || index >= len(nw.interfaces) {
		return fmt.Errorf("pcap: statistics for interface %d, but %d defined", index, len(nw.interfaces))
	}
	if len(st.Comment) > 0xffff {
		return fmt.Errorf("pcap: statistics comment of %d bytes too long", len(st.Comment))
	}
	block := appendInterfaceStatistics(nil, index, st, &nw.interfaces[index])
	if err := nw.makeRoom(len(block)); err != nil {
		return err
	}
	nw.buf = append(nw.buf, block...)
	return nil
}

// makeRoom flushes first when a block of n bytes would not fit the
// buffer with the blocks already there.
func (nw *NgWriter) makeRoom(n int) error {
	if len(nw.buf) > 0 && len(nw.buf)+n > cap(nw.buf) {
		return nw.Flush()
	}
	return nil
}

// Flush writes the buffered blocks to the underlying writer. Blocks are
// written when 64 KiB have gathered, on Flush and on Close: call Flush
// after each packet for tcpdump's -U, so a reader of a pipe sees every
// packet at once and a killed process loses none it had written.
func (nw *NgWriter) Flush() error {
	if nw.err != nil {
		return nw.err
	}
	if len(nw.buf) == 0 {
		return nil
	}
	n, err := nw.w.Write(nw.buf)
	if err == nil && n < len(nw.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		nw.err = fmt.Errorf("pcap: writing: %w", err)
		cutTornBlock(nw.w, nw.written, nw.buf, n)
		return nw.err
	}
	nw.written += int64(n)
	nw.buf = nw.buf[:0]
	return nil
}

// Close writes the statistics Stats gives, if set, and flushes. It does
// not close the underlying writer.
func (nw *NgWriter) Close() error {
	if nw.opts.Stats != nil && nw.err == nil {
		for i, st := range nw.opts.Stats() {
			if i >= len(nw.interfaces) {
				break
			}
			if err := nw.WriteStats(i, st); err != nil {
				return err
			}
		}
	}
	return nw.Flush()
}

// Written is the number of bytes the underlying writer has taken.
func (nw *NgWriter) Written() int64 { return nw.written }

// Size is the file's size once the buffered blocks are written.
func (nw *NgWriter) Size() int64 { return nw.written + int64(len(nw.buf)) }

// cutTornBlock truncates the underlying file, when it can be, to the last
// block boundary among the n bytes of buf a failed write got out; written
// is where buf started.
func cutTornBlock(w io.Writer, written int64, buf []byte, n int) {
	t, ok := w.(interface{ Truncate(size int64) error })
	if !ok || n <= 0 {
		return
	}
	whole := 0
	for whole+8 <= n {
		length := int(binary.LittleEndian.Uint32(buf[whole+4:]))
		if length < blockOverhead || whole+length > n {
			break
		}
		whole += length
	}
	_ = t.Truncate(written + int64(whole)) // best effort: the write error is what matters
}

// timestampTicks converts t to units of 1/resolution seconds since the
// epoch plus offset seconds; times before that are written as 0. Decimal
// units truncate, as tcpdump's microseconds do; binary fractions round
// up, so a time read from a file (which rounds down to nanoseconds) is
// written back as the same ticks.
func timestampTicks(t time.Time, resolution uint64, offset int64) uint64 {
	sec := t.Unix() - offset
	if sec < 0 {
		return 0
	}
	nsec := uint64(t.Nanosecond())
	switch resolution { // the common cases multiply by constants
	case 1_000_000_000:
		return uint64(sec)*1_000_000_000 + nsec
	case 1_000_000:
		return uint64(sec)*1_000_000 + nsec/1000
	}
	hi, lo := bits.Mul64(nsec, resolution)
	frac, rem := bits.Div64(hi, lo, 1_000_000_000) // nsec < 1e9: no overflow
	if rem != 0 && 1_000_000_000%resolution != 0 {
		frac++
	}
	return uint64(sec)*resolution + frac
}

// encodeTimestampResolution is the if_tsresol byte for a resolution.
func encodeTimestampResolution(resolution uint64) (byte, bool) {
	p := uint64(1)
	for e := range byte(20) {
		if p == resolution {
			return e, true
		}
		if e < 19 {
			p *= 10
		}
	}
	if bits.OnesCount64(resolution) == 1 {
		return 0x80 | byte(bits.TrailingZeros64(resolution)), true
	}
	return 0, false
}
