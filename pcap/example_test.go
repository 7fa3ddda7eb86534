package pcap_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/weircap/weir/pcap"
)

// A capture written as -w capture.pcapng.gz would be: format and
// compression from the name, the filter in the interface description,
// statistics at the close.
func ExampleCreateFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "capture.pcapng.gz")
	start := time.Unix(1_700_000_000, 0)
	w, err := pcap.CreateFile(name, pcap.WriterOptions{
		Format:      pcap.FormatFromName(name),
		Compression: pcap.CompressionFromName(name),
		Interfaces:  []pcap.Interface{{LinkType: pcap.LinkTypeEthernet, Name: "eth0", Filter: "tcp port 443", Snaplen: 262144}},
		Section:     pcap.Section{Application: "weir"},
		Stats: func() []pcap.InterfaceStats {
			return []pcap.InterfaceStats{pcap.CaptureStats(start, start.Add(time.Minute), 12, 1, 11)}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	packet := make([]byte, 60)
	ci := pcap.CaptureInfo{Timestamp: start, Length: 60, Direction: pcap.DirectionInbound, Comment: "rule web"}
	if err := w.WritePacket(ci, packet); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	f, _ := os.Open(name)
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	_, got, _ := r.ReadPacket()
	fmt.Println(r.Format(), r.Compression(), r.Interfaces()[0].Filter)
	fmt.Println(got.Direction, got.Comment)
	// Output:
	// pcapng gzip tcp port 443
	// in rule web
}

// Files rotated as tcpdump -C 1 -W 3 -w ring rotates them.
func ExampleNewRotator() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	r, err := pcap.NewRotator(pcap.RotateOptions{
		Name:     filepath.Join(dir, "ring"),
		MaxBytes: 1 * 1_000_000,
		MaxFiles: 3,
		Writer:   pcap.WriterOptions{Interfaces: []pcap.Interface{{LinkType: pcap.LinkTypeEthernet}}},
		OnRotate: func(path string) { fmt.Println("closed", filepath.Base(path)) },
	})
	if err != nil {
		log.Fatal(err)
	}
	packet := make([]byte, 1500)
	for range 2100 {
		if err := r.WritePacket(pcap.CaptureInfo{Timestamp: time.Unix(1, 0), Length: 1500}, packet); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("writing", filepath.Base(r.Path()))
	if err := r.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// closed ring0
	// closed ring1
	// closed ring2
	// writing ring0
}
