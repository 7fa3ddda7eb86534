package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// captureTarget is a resolved interface.
type captureTarget struct {
	name     string
	index    int // 0 for "any"
	linkType pcap.LinkType
}

// resolveInterface finds an interface's index and link type, from its
// hardware type as libpcap's map_arphrd_to_dlt. "any" is LINUX_SLL2, as
// tcpdump 4.99 asks of libpcap.
func resolveInterface(name string) (captureTarget, error) {
	if name == AnyInterface {
		return captureTarget{name: name, linkType: pcap.LinkTypeLinuxSLL2}, nil
	}
	if name == "" {
		return captureTarget{}, errors.New("capture: no interface given")
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return captureTarget{}, noSuchInterface(name)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return captureTarget{}, fmt.Errorf("capture: socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return captureTarget{}, noSuchInterface(name)
		}
		return captureTarget{}, fmt.Errorf("capture: %s: SIOCGIFINDEX: %w", name, err)
	}
	index := int(ifr.Uint32())
	ifr, _ = unix.NewIfreq(name)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return captureTarget{}, noSuchInterface(name)
		}
		return captureTarget{}, fmt.Errorf("capture: %s: SIOCGIFHWADDR: %w", name, err)
	}
	lt, _ := linkTypeForARPHRD(ifr.Uint16()) // sa_family of the hardware address
	return captureTarget{name: name, index: index, linkType: lt}, nil
}

// FilterConfig is how to compile a filter for a live capture on iface:
// its link type, KernelVLAN for Ethernet (the kernel takes VLAN tags out of
// the packets the filter sees), the interface's IPv4 netmask for "ip
// broadcast" (0 when it has none, as tcpdump after pcap_lookupnet fails),
// and the optimizer on. The caller sets Snaplen to Config.Snaplen.
func FilterConfig(iface string) (filter.Config, error) {
	t, err := resolveInterface(iface)
	if err != nil {
		return filter.Config{}, err
	}
	cfg := filter.Config{
		LinkType:   t.linkType,
		KernelVLAN: t.linkType == pcap.LinkTypeEthernet,
		Optimize:   true,
	}
	if t.index != 0 {
		cfg.Netmask = ipv4Netmask(t.name)
	}
	return cfg, nil
}

// ipv4Netmask is the netmask of the interface's primary IPv4 address, 0
// when it has none. As libpcap's pcap_lookupnet, one SIOCGIFNETMASK on an
// IPv4 socket: a netlink dump of every address costs the start more.
func ipv4Netmask(name string) uint32 {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFNETMASK, ifr); err != nil {
		return 0 // EADDRNOTAVAIL: no IPv4 address
	}
	mask, err := ifr.Inet4Addr()
	if err != nil {
		return 0
	}
	return binary.BigEndian.Uint32(mask)
}

// Interfaces lists the interfaces of this network namespace and "any", in
// libpcap's order: up and running ones first, loopback after the others,
// down ones last; by index within each group.
func Interfaces() ([]Interface, error) {
	// One RTM_GETLINK dump, of which only names, aliases and flags are
	// read (a general netlink library decodes every attribute of every
	// link, which costs a capture's start more than opening its ring).
	dump, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("capture: listing interfaces: %w", os.NewSyscallError("netlink", err))
	}
	list, err := parseLinks(dump)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Index < list[j].Index })
	list = append(list, Interface{Name: AnyInterface, Description: anyDescription, Up: true, Running: true})
	sort.SliceStable(list, func(i, j int) bool { return merit(list[i]) < merit(list[j]) })
	return list, nil
}

// DefaultInterface is the interface tcpdump captures on when given none:
// the first up, non-loopback one in Interfaces' order.
func DefaultInterface() (string, error) {
	list, err := Interfaces()
	if err != nil {
		return "", err
	}
	for _, i := range list {
		if i.Up && !i.Loopback && i.Name != AnyInterface {
			return i.Name, nil
		}
	}
	return "", errors.New("capture: no suitable interface found")
}
