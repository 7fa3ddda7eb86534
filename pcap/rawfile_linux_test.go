package pcap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestFastWriterOnlyForRegularFiles: regular files get raw writes that
// land whole; a pipe, which may block, keeps the os.File.
func TestFastWriterOnlyForRegularFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := fastWriter(f)
	if _, ok := w.(localFile); !ok {
		t.Fatalf("regular file: %T, want localFile", w)
	}
	data := bytes.Repeat([]byte("weir"), 300_000) // more than one write may take
	if n, err := w.Write(data); n != len(data) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file holds %d bytes (%v), want the %d written", len(got), err, len(data))
	}
	if err := w.(localFile).Truncate(4); err != nil {
		t.Fatalf("Truncate through localFile: %v", err)
	}

	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer pw.Close()
	if w := fastWriter(pw); w != pw {
		t.Errorf("pipe: %T, want the *os.File itself", w)
	}
}

// TestFastWriterNamesTheFileOnError: a failed raw write reports the path.
func TestFastWriterNamesTheFileOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path) // read-only: write fails with EBADF
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = localFile{f}.Write([]byte("x"))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(path)) {
		t.Fatalf("write to a read-only file: %v, want an error naming %s", err, path)
	}
}
