package filter

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// systemResolver resolves host names through the system resolver and
// network names through /etc/networks, only when an expression names one.
type systemResolver struct{}

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
