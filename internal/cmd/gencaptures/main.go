package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/weircap/weir/pcap"
)

// baseTime is the timestamp of the first packet of every capture.
var baseTime = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// A capture is one small file: the catalog on one link type.
type capture struct {
	file     string
	linkType pcap.LinkType
}

var captures = []capture{
	{"en10mb.pcap", pcap.LinkTypeEthernet},
	{"linux_sll.pcap", pcap.LinkTypeLinuxSLL},
	{"linux_sll2.pcap", pcap.LinkTypeLinuxSLL2},
	{"raw.pcap", pcap.LinkTypeRaw},
	{"ipv4.pcap", pcap.LinkTypeIPv4},
	{"ipv6.pcap", pcap.LinkTypeIPv6},
	{"null.pcap", pcap.LinkTypeNull},
	{"loop.pcap", pcap.LinkTypeLoop},
}

func main() {
	out := flag.String("out", "testdata/captures", "directory for the small captures and their README")
	big := flag.Int("big", 0, "write this many packets of benchmark traffic to -o instead")
	bigFile := flag.String("o", "", "output file for -big")
	flag.Parse()
	if err := run(*out, *big, *bigFile); err != nil {
		fmt.Fprintln(os.Stderr, "gencaptures:", err)
		os.Exit(1)
	}
}

func run(out string, big int, bigFile string) error {
	if big > 0 {
		if bigFile == "" {
			return fmt.Errorf("-big needs -o FILE")
		}
		return writeBig(bigFile, big)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	frames := catalog()
	for _, c := range captures {
		if err := writeCapture(filepath.Join(out, c.file), c.linkType, frames); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(out, "README.md"), []byte(readme(frames)), 0o644)
}

// timestamp gives catalog entry i the same time in every file.
func timestamp(i int) time.Time { return baseTime.Add(time.Duration(i) * 10 * time.Millisecond) }

func writeCapture(path string, lt pcap.LinkType, frames []frame) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := pcap.NewWriter(f, pcap.FileHeader{LinkType: lt})
	if err != nil {
		return err
	}
	for i, fr := range frames {
		data, wireLen, ok := wrap(lt, fr, i)
		if !ok {
			continue
		}
		ci := pcap.CaptureInfo{Timestamp: timestamp(i), CaptureLength: len(data), Length: wireLen}
		if err := w.WritePacket(ci, data); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
