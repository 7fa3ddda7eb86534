package filter

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// systemResolver resolves host names through the system resolver, network
// names through /etc/networks and Ethernet host names through /etc/ethers,
// only when an expression names one.
type systemResolver struct {
	ethers string // the ethers file; "" means /etc/ethers
}

func (systemResolver) LookupHost(name string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(context.Background(), "ip", name)
}

func (systemResolver) LookupNetwork(name string) (uint32, error) {
	f, err := os.Open("/etc/networks")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		for _, alias := range append([]string{fields[0]}, fields[2:]...) {
			if alias == name {
				return parseNetworkNumber(fields[1])
			}
		}
	}
	return 0, fmt.Errorf("unknown network %q", name)
}

// parseNetworkNumber reads a network number as inet_network: dotted parts
// packed from the right ("127.0.0.0" is 0x7f000000, "10" is 10).
func parseNetworkNumber(s string) (uint32, error) {
	v, _, ok := parseDotted(s)
	if !ok {
		return 0, fmt.Errorf("bad network number %q", s)
	}
	return v, nil
}

func (g *gen) resolver() Resolver {
	if g.cfg.Resolver != nil {
		return g.cfg.Resolver
	}
	return systemResolver{}
}

// LookupEther reads the ethers file as glibc's ether_hostton does: lines
// of "MAC name", '#' starting a comment, names compared without case.
func (r systemResolver) LookupEther(name string) ([]byte, error) {
	path := r.ethers
	if path == "" {
		path = "/etc/ethers"
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		mac, host, ok := parseEthersLine(sc.Text())
		if ok && strings.EqualFold(host, name) {
			return mac, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("unknown ether host %q", name)
}

// parseEthersLine reads one line of an ethers file as glibc's files
// backend does: six hex numbers up to 0xff separated by ':', then the
// host name up to white space.
func parseEthersLine(line string) (mac []byte, name string, ok bool) {
	line, _, _ = strings.Cut(line, "#")
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return nil, "", false
	}
	groups := strings.Split(fields[0], ":")
	if len(groups) != 6 {
		return nil, "", false
	}
	for _, grp := range groups {
		v, err := strconv.ParseUint(grp, 16, 8)
		if err != nil {
			return nil, "", false
		}
		mac = append(mac, byte(v))
	}
	return mac, fields[1], true
}
