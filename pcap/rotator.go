package pcap

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrFileLimit is returned by Rotator.WritePacket when rotating by time
// has written the number of files asked for (tcpdump -G with -W, which
// then exits with status 0). The packet was not written.
var ErrFileLimit = errors.New("pcap: maximum file limit reached")

// RotateOptions says when a Rotator starts a new file and how it names
// the files, as tcpdump's -w, -C, -G, -W and -z do.
type RotateOptions struct {
	// Name is -w's file name; with RotateSeconds it is a Strftime pattern,
	// expanded with the time each file is opened.
	Name string
	// MaxBytes (tcpdump -C, in bytes: -C N is N*1_000_000): before each
	// packet, a file already larger than this is closed and the next one
	// opened, so a file ends with the packet that took it over. Files
	// are named Name, Name1, Name2...; the size counts bytes before
	// compression.
	MaxBytes int64
	// RotateSeconds (tcpdump -G): before each packet, a file opened at
	// least this many seconds ago (whole seconds of the clock) is closed
	// and the next one opened.
	RotateSeconds int
	// MaxFiles (tcpdump -W): with MaxBytes, a ring of this many files
	// named with a zero-padded number (Name0, Name1...) and reused from
	// the first; with RotateSeconds alone, the number of files after
	// which WritePacket returns ErrFileLimit.
	MaxFiles int
	// Writer says how each file is written. Its Stats are asked at every
	// file's close, so each pcapng file ends with its own statistics.
	Writer WriterOptions
	// OnRotate is called with the name of each file closed by a rotation
	// (tcpdump runs -z's command on it, in parallel with the capture, so
	// OnRotate should not wait for it). Close does not call it, as
	// tcpdump runs -z on rotated files only.
	OnRotate func(path string)
	// Now is the clock; time.Now when nil. Names use its time zone.
	Now func() time.Time
}

// Rotator writes packets to a series of capture files. Every file is
// complete on its own (its own headers, and for pcapng its interface
// descriptions and statistics), and each packet goes to exactly one file.
type Rotator struct {
	opts      RotateOptions
	digits    int // zero padding of file numbers, from MaxFiles
	current   *fileWriter
	path      string
	opened    time.Time // when the current time period began
	sizeCount int       // number of the current file within the period
	timeCount int       // files closed by time rotation
	err       error     // sticky
}

// NewRotator checks the options and opens the first file.
func NewRotator(opts RotateOptions) (*Rotator, error) {
	switch {
	case opts.Name == "":
		return nil, errors.New("pcap: rotation needs a file name")
	case opts.MaxBytes < 0 || opts.RotateSeconds < 0 || opts.MaxFiles < 0:
		return nil, errors.New("pcap: negative rotation limit")
	case opts.MaxFiles > 0 && opts.MaxBytes == 0 && opts.RotateSeconds == 0:
		return nil, errors.New("pcap: a file count needs a size or time limit")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Rotator{opts: opts, digits: fileNumberDigits(opts.MaxFiles)}
	r.opened = opts.Now()
	if err := r.open(r.periodFirstName()); err != nil {
		return nil, err
	}
	return r, nil
}

// fileNumberDigits is how many digits number files of a ring of n, as
// tcpdump pads them (the digits of n-1).
func fileNumberDigits(n int) int {
	digits := 0
	for x := n - 1; x > 0; x /= 10 {
		digits++
	}
	return digits
}

// name is the file name for the current period's file number count, as
// tcpdump's MakeFilename.
func (r *Rotator) name(count, digits int) string {
	base := r.opts.Name
	if r.opts.RotateSeconds > 0 {
		base = Strftime(base, r.opened)
	}
	if count == 0 && digits == 0 {
		return base
	}
	number := strconv.Itoa(count)
	for len(number) < digits {
		number = "0" + number
	}
	return base + number
}

// periodFirstName names the first file of a time period: numbered only
// when files are also rotated by size.
func (r *Rotator) periodFirstName() string {
	if r.opts.MaxBytes > 0 {
		return r.name(0, r.digits)
	}
	return r.name(0, 0)
}

func (r *Rotator) open(path string) error {
	fw, err := createFile(path, r.opts.Writer)
	if err != nil {
		return err
	}
	r.current, r.path = fw, path
	return nil
}

// Path is the name of the file being written.
func (r *Rotator) Path() string { return r.path }

// WritePacket rotates when a limit is reached, then writes the packet to
// the current file.
func (r *Rotator) WritePacket(ci CaptureInfo, data []byte) error {
	if r.err != nil {
		return r.err
	}
	if err := r.rotateIfDue(); err != nil {
		r.err = err
		return err
	}
	return r.current.WritePacket(ci, data)
}

// rotateIfDue closes the current file and opens the next when its time
// is up or its size too large; time first, as tcpdump.
func (r *Rotator) rotateIfDue() error {
	if r.opts.RotateSeconds > 0 {
		now := r.opts.Now()
		if now.Unix()-r.opened.Unix() >= int64(r.opts.RotateSeconds) {
			r.opened = now
			r.timeCount++
			if err := r.closeCurrent(); err != nil {
				return err
			}
			if r.opts.MaxBytes == 0 && r.opts.MaxFiles > 0 && r.timeCount >= r.opts.MaxFiles {
				return ErrFileLimit
			}
			r.sizeCount = 0
			if err := r.open(r.periodFirstName()); err != nil {
				return err
			}
		}
	}
	if r.opts.MaxBytes > 0 && r.current.Size() > r.opts.MaxBytes {
		if err := r.closeCurrent(); err != nil {
			return err
		}
		r.sizeCount++
		if r.opts.MaxFiles > 0 && r.sizeCount >= r.opts.MaxFiles {
			r.sizeCount = 0
		}
		return r.open(r.name(r.sizeCount, r.digits))
	}
	return nil
}

// closeCurrent closes the current file and hands it to OnRotate.
func (r *Rotator) closeCurrent() error {
	fw := r.current
	r.current = nil
	if err := fw.Close(); err != nil {
		return fmt.Errorf("%w (closing %s)", err, r.path)
	}
	if r.opts.OnRotate != nil {
		r.opts.OnRotate(r.path)
	}
	return nil
}

// Flush hands the current file's buffered packets to it.
func (r *Rotator) Flush() error {
	if r.err != nil {
		return r.err
	}
	return r.current.Flush()
}

// Close closes the current file (without calling OnRotate).
func (r *Rotator) Close() error {
	if r.current == nil {
		if r.err == ErrFileLimit {
			return nil // the last file was closed by the rotation
		}
		return r.err
	}
	fw := r.current
	r.current = nil
	if err := fw.Close(); err != nil {
		return err
	}
	if r.err == nil {
		r.err = errClosed
	}
	return nil
}

// AddInterface describes one more interface in the current file and in
// every file after it.
func (r *Rotator) AddInterface(ifc Interface) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	index, err := r.current.AddInterface(ifc)
	if err != nil {
		return 0, err
	}
	if r.opts.Writer.Format == FormatPcapng {
		r.opts.Writer.Interfaces = append(r.opts.Writer.Interfaces[:len(r.opts.Writer.Interfaces):len(r.opts.Writer.Interfaces)], ifc)
	}
	return index, nil
}
