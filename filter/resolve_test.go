package filter

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

// offlineResolver knows a few names and never asks the network, so tests
// and fuzzing stay on this machine.
type offlineResolver struct{}

var errNoSuchName = errors.New("no such name")

func (offlineResolver) LookupHost(name string) ([]netip.Addr, error) {
	switch name {
	case "localhost":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
	case "v4only":
		return []netip.Addr{netip.MustParseAddr("198.18.0.1")}, nil
	case "v6only":
		return []netip.Addr{netip.MustParseAddr("fd00:beef::1")}, nil
	case "gw":
		return []netip.Addr{netip.MustParseAddr("198.18.0.254"), netip.MustParseAddr("fd00:beef::fe")}, nil
	case "gw2":
		return []netip.Addr{netip.MustParseAddr("198.18.0.254"), netip.MustParseAddr("198.19.0.254")}, nil
	}
	return nil, errNoSuchName
}

func (offlineResolver) LookupNetwork(name string) (uint32, error) {
	if name == "loopback" {
		return 0x7f000000, nil
	}
	return 0, errNoSuchName
}

func (offlineResolver) LookupEther(name string) ([]byte, error) {
	switch name {
	case "gw", "gw2", "ethonly", "v6only":
		return []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}, nil
	}
	return nil, errNoSuchName
}

// TestSystemResolverReadsEthers reads an ethers file in glibc's format;
// the machine's own /etc/ethers plays no part.
func TestSystemResolverReadsEthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ethers")
	content := "# hosts on the lab segment\n" +
		"00:11:22:33:44:55 alpha   # the router\n" +
		"0:1:2:a:B:ff\tBeta.example\n" +
		"\n" +
		"this line is not an entry\n" +
		"00:11:22:33:44 short\n" +
		"00:11:22:33:44:100 wide\n" +
		"00:11:22:33:44:66\n" +
		"  02:00:00:00:00:07   indented extra words\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	r := systemResolver{ethers: path}
	for _, tc := range []struct {
		name string
		want []byte // nil: not found
	}{
		{"alpha", []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}},
		{"ALPHA", []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}},
		{"beta.example", []byte{0x00, 0x01, 0x02, 0x0a, 0x0b, 0xff}},
		{"indented", []byte{0x02, 0, 0, 0, 0, 0x07}},
		{"extra", nil},
		{"short", nil},
		{"wide", nil},
		{"router", nil},
		{"gamma", nil},
	} {
		got, err := r.LookupEther(tc.name)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%q: found %x, want not found", tc.name, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%q: %x, %v; want %x", tc.name, got, err, tc.want)
		}
	}
	if _, err := (systemResolver{ethers: filepath.Join(t.TempDir(), "none")}).LookupEther("alpha"); err == nil {
		t.Error("a missing ethers file found a name")
	}
	cfg := Config{LinkType: pcap.LinkTypeEthernet, Resolver: r}
	named, err := Compile("ether src Alpha", cfg)
	if err != nil {
		t.Fatal(err)
	}
	addressed, err := Compile("ether src 00:11:22:33:44:55", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(named, addressed) {
		t.Errorf("ether src Alpha:\n%s\nwant:\n%s", Dump(named, DumpAssembly), Dump(addressed, DumpAssembly))
	}
	if _, err := Compile("ether host gamma", cfg); err == nil || !strings.Contains(err.Error(), "unknown ether host 'gamma'") {
		t.Errorf("ether host gamma: %v, want unknown ether host", err)
	}
}
