package pcap

import (
	"errors"
	"fmt"
	"io"
)

// The buffer starts small, so opening many small files is cheap, and
// doubles each time a stream has gone through all of it, up to
// maxInputBufferSize: big reads keep system calls rare on large files.
const (
	initialInputBufferSize = 8 << 10
	maxInputBufferSize     = 1 << 20
)

// input is a forward-only buffered view of a byte stream that knows the file
// offset of every byte. Slices it hands out stay valid until the next call
// to ensure, so packets are returned without copying.
type input struct {
	r      io.Reader
	buf    []byte
	start  int   // first unread byte in buf
	end    int   // one past the last buffered byte
	offset int64 // file offset of buf[start]
	eof    bool
}

func newInput(r io.Reader) *input {
	return &input{r: r}
}

// ensure buffers at least n bytes if the stream holds them and returns how
// many are buffered (at most n). A short count means the stream ended; err
// is set only for read failures other than the end of the stream. The
// buffer grows no faster than the data that actually arrives, so a lying
// length field cannot make it allocate much more than the file holds.
func (in *input) ensure(n int) (int, error) {
	if in.end-in.start >= n { // the common case, inlined
		return n, nil
	}
	return in.ensureSlow(n)
}

func (in *input) ensureSlow(n int) (int, error) {
	for in.end-in.start < n {
		if in.eof {
			return in.end - in.start, nil
		}
		if err := in.fill(n); err != nil {
			return in.end - in.start, err
		}
	}
	return n, nil
}

// fill makes room for more data and reads once.
func (in *input) fill(n int) error {
	if in.buf == nil {
		in.buf = make([]byte, initialInputBufferSize)
	}
	if in.end == len(in.buf) || in.start > 0 && len(in.buf)-in.start < n {
		in.makeRoom(n)
	}
	for range 100 {
		got, err := in.r.Read(in.buf[in.end:])
		in.end += got
		if errors.Is(err, io.EOF) {
			in.eof = true
			return nil
		}
		if err != nil {
			var fe *FormatError
			if errors.As(err, &fe) { // damage found by a decompressor
				return fe
			}
			return fmt.Errorf("pcap: reading: %w", err)
		}
		if got > 0 {
			return nil
		}
	}
	return fmt.Errorf("pcap: reading: %w", io.ErrNoProgress)
}

// makeRoom moves the unread bytes to the front of the buffer, growing it
// when it is full of them (but not past n, the size needed) or when a long
// stream has gone through it.
func (in *input) makeRoom(n int) {
	unread, size := in.end-in.start, len(in.buf)
	switch {
	case unread == size:
		size = min(n, 2*size)
	case size < maxInputBufferSize:
		size *= 2
	}
	if size == len(in.buf) {
		copy(in.buf, in.buf[in.start:in.end])
	} else {
		grown := make([]byte, size)
		copy(grown, in.buf[in.start:in.end])
		in.buf = grown
	}
	in.start, in.end = 0, unread
}

// peek returns the next n buffered bytes; ensure(n) must have returned n.
func (in *input) peek(n int) []byte {
	return in.buf[in.start : in.start+n : in.start+n]
}

// consume marks n buffered bytes as read.
func (in *input) consume(n int) {
	in.start += n
	in.offset += int64(n)
}
