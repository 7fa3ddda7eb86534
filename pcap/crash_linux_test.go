package pcap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
)

// Environment of the write loop run in a child process.
const (
	writeLoopEnv      = "WEIR_PCAP_WRITE_LOOP"       // the file to write
	writeLoopFlushEnv = "WEIR_PCAP_WRITE_LOOP_FLUSH" // "1": flush each packet
)

// loopPacket is the i-th packet of the write loop: sizes vary so records
// straddle buffer boundaries.
func loopPacket(i int) wantPacket {
	data := payload(40+(i*131)%1400, byte(i))
	return wantPacket{data: data, ci: CaptureInfo{
		Timestamp:      time.Unix(1_700_000_000, 0).Add(time.Duration(i) * time.Microsecond),
		Length:         len(data),
		InterfaceIndex: i % 2,
		Direction:      Direction(1 + i%2),
	}}
}

var loopInterfaces = []Interface{{LinkType: LinkTypeEthernet, Name: "a", TimestampResolution: 1e6}, {LinkType: LinkTypeEthernet, Name: "b", TimestampResolution: 1e6}}

// TestWriteLoopChild is the child of TestKilledWriter: it writes packets
// until killed, printing the number of each packet once WritePacket
// returns.
func TestWriteLoopChild(t *testing.T) {
	path := os.Getenv(writeLoopEnv)
	if path == "" {
		t.Skip("run by TestKilledWriter")
	}
	format, _ := ParseFormat(filepath.Ext(path)[1:])
	w, err := CreateFile(path, WriterOptions{Format: format, Interfaces: loopInterfaces, FlushEachPacket: os.Getenv(writeLoopFlushEnv) == "1"})
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		p := loopPacket(i)
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(out, i)
		out.Flush()
	}
}

// TestKilledWriter kills a process writing in a loop with SIGKILL and
// reads its file: every packet written before the kill with -U (and
// a prefix of them without) reads back, and nothing worse than a cut-off
// tail is there, for us and for tshark.
func TestKilledWriter(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark", "tshark")
	dir := t.TempDir()
	for _, tc := range []struct {
		file  string
		flush bool
	}{{"flushed.pcap", true}, {"flushed.pcapng", true}, {"buffered.pcapng", false}} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tc.file)
			cmd := exec.Command(os.Args[0], "-test.run=^TestWriteLoopChild$")
			cmd.Env = append(os.Environ(), writeLoopEnv+"="+path)
			if tc.flush {
				cmd.Env = append(cmd.Env, writeLoopFlushEnv+"=1")
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			written := -1
			for written < 1000 && lines.Scan() {
				written, _ = strconv.Atoi(lines.Text())
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, stdout)
			cmd.Wait()
			if written < 1000 {
				t.Fatalf("the writer stopped after packet %d: %s", written, stderr.String())
			}
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(r)
			var fe *FormatError
			if err != io.EOF && !(errors.As(err, &fe) && strings.HasPrefix(fe.Msg, "truncated") && fe.Offset > int64(len(file))-2000) {
				t.Errorf("after %d packets: %v, want the end or a cut-off last packet", len(got), err)
			}
			if tc.flush && len(got) < written+1 {
				t.Errorf("%d packets read, but packet %d had been written", len(got), written)
			}
			if len(got) < written+1-200 { // 64 KiB hold fewer than 200 of these packets
				t.Errorf("%d packets read of %d written", len(got), written+1)
			}
			for i := range got {
				p := loopPacket(i)
				want := expectWritten(WriterOptions{Format: FormatFromName(path), Interfaces: loopInterfaces}, []wantPacket{p})
				if !bytes.Equal(got[i].data, want[0].data) || !got[i].ci.Timestamp.Equal(want[0].ci.Timestamp) {
					t.Fatalf("packet %d differs from the one written", i)
				}
			}
			// tshark reads the same packets, noting at most a cut-off tail.
			var tsharkErr bytes.Buffer
			list := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.number")
			list.Stderr = &tsharkErr
			out, _ := list.Output()
			if n := strings.Count(string(out), "\n"); n != len(got) {
				t.Errorf("tshark read %d packets, we read %d", n, len(got))
			}
			for _, line := range strings.Split(strings.TrimSpace(tsharkErr.String()), "\n") {
				if line != "" && !strings.Contains(line, "Running as user") && !strings.Contains(line, "cut short in the middle of a packet") {
					t.Errorf("tshark: %s", line)
				}
			}
		})
	}
}

// TestFullDiskFile fills a small tmpfs: the write fails with ENOSPC named,
// and the file holds every packet written before, whole, for us and for
// tshark.
func TestFullDiskFile(t *testing.T) {
	testutil.RequireRoot(t, "CAP_SYS_ADMIN")
	tshark := testutil.RequireTool(t, "tshark", "tshark")
	for _, tc := range []struct {
		file  string
		flush bool
	}{{"flushed.pcap", true}, {"buffered.pcap", false}, {"flushed.pcapng", true}, {"buffered.pcapng", false}} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(testutil.SmallTmpfs(t, "256k"), tc.file)
			opts := WriterOptions{Format: FormatFromName(path), Interfaces: loopInterfaces, FlushEachPacket: tc.flush}
			w, err := CreateFile(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			accepted := 0
			for ; accepted < 100_000; accepted++ {
				p := loopPacket(accepted)
				if err = w.WritePacket(p.ci, p.data); err != nil {
					break
				}
			}
			if err == nil {
				err = w.Close()
			} else if cerr := w.Close(); cerr == nil {
				t.Error("Close after a full disk succeeded")
			}
			if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left on device") {
				t.Fatalf("after %d packets: %v, want ENOSPC", accepted, err)
			}
			_, got := readFile(t, path) // whole: io.EOF at the end
			if tc.flush && len(got) != accepted {
				t.Errorf("%d packets in the file, %d written", len(got), accepted)
			}
			var want []wantPacket
			for i := range got {
				want = append(want, loopPacket(i))
			}
			checkPackets(t, got, expectWritten(opts, want))
			if out := run(t, tshark, "-r", path, "-T", "fields", "-e", "frame.number"); strings.Count(out, "\n") != len(got) {
				t.Errorf("tshark read %d packets, we read %d", strings.Count(out, "\n"), len(got))
			}
		})
	}
}
