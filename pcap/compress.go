package pcap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Compression is how a capture file is compressed as a whole, as Wireshark
// reads and writes them.
type Compression uint8

// Compressions.
const (
	CompressionNone Compression = iota
	CompressionGzip
	CompressionZstd
)

func (c Compression) String() string {
	switch c {
	case CompressionGzip:
		return "gzip"
	case CompressionZstd:
		return "zstd"
	}
	return "none"
}

// CompressionFromName is the compression a file name asks for: gzip for
// ".gz", zstd for ".zst", none otherwise.
func CompressionFromName(name string) Compression {
	switch {
	case strings.HasSuffix(name, ".gz"):
		return CompressionGzip
	case strings.HasSuffix(name, ".zst"):
		return CompressionZstd
	}
	return CompressionNone
}

// Magic numbers of compressed streams.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// zstdMaxWindow is the largest window a zstd stream may ask for: libzstd's
// default limit, so anything the zstd tool decompresses without --long.
const zstdMaxWindow = 1 << 27

// compressionOf tells a compressed stream by its first bytes.
func compressionOf(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, zstdMagic):
		return CompressionZstd
	case bytes.HasPrefix(head, gzipMagic):
		return CompressionGzip
	}
	return CompressionNone
}

// decompress replaces the input's source with the decompressed stream;
// the bytes already buffered are the start of the compressed one.
func (in *input) decompress(c Compression) error {
	source := &sourceReader{r: in.r}
	compressed := io.MultiReader(bytes.NewReader(bytes.Clone(in.buf[in.start:in.end])), source)
	var r io.Reader
	switch c {
	case CompressionGzip:
		gz, err := gzip.NewReader(compressed)
		if err != nil {
			return decompressionFailure(c, err, 0)
		}
		r = gz
	case CompressionZstd:
		zr, err := zstd.NewReader(compressed, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return decompressionFailure(c, err, 0)
		}
		r = zr
	}
	*in = input{r: &decompressedReader{r: r, compression: c}}
	return nil
}

// sourceReader marks the errors of the file under a decompressor, so they
// stay read failures rather than damage.
type sourceReader struct{ r io.Reader }

type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &sourceError{err}
	}
	return n, err
}

// decompressedReader turns a decompressor's own errors into damage found
// at the offset reached in the decompressed stream.
type decompressedReader struct {
	r           io.Reader
	compression Compression
	offset      int64 // decompressed bytes so far
}

func (d *decompressedReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.offset += int64(n)
	if err != nil && err != io.EOF {
		err = decompressionFailure(d.compression, err, d.offset)
	}
	return n, err
}

// decompressionFailure is a failing read for an error of the file under
// the decompressor, and a *FormatError for damaged compressed data.
func decompressionFailure(c Compression, err error, offset int64) error {
	var se *sourceError
	if errors.As(err, &se) {
		return se.err
	}
	return formatErrorf(offset, "%s data: %v", c, err)
}

// compressor is a compressing writer.
type compressor interface {
	io.WriteCloser
	Flush() error
}

// newCompressor compresses into w. gzip uses its fastest level, so
// compressing keeps up with a capture; zstd's default level is both fast
// and smaller.
func newCompressor(w io.Writer, c Compression) (compressor, error) {
	switch c {
	case CompressionGzip:
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	case CompressionZstd:
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
	}
	return nil, fmt.Errorf("pcap: unknown compression %d", c)
}
