package capture

// The live packet source. Open, the methods and Interfaces are implemented
// per system (source_linux.go; source_other.go returns ErrNotSupported).
//
//	func Open(cfg Config) (*Source, error)
//	    opens and configures the socket(s) and ring(s), attaches the
//	    filter; errors wrap os.ErrPermission (name CAP_NET_RAW) and
//	    "no such interface" clearly.
//	func (s *Source) ReadPacket() ([]byte, pcap.CaptureInfo, error)
//	    blocks until a packet arrives; the data is valid until the next
//	    call; after Stop it drains what the kernel already delivered and
//	    then returns io.EOF.
//	func (s *Source) LinkType() pcap.LinkType
//	func (s *Source) Snaplen() uint32
//	func (s *Source) Stats() (Stats, error)
//	func (s *Source) Stop()   // safe from another goroutine (signal handler)
//	func (s *Source) Close() error
//	func Interfaces() ([]Interface, error)
//	func DefaultInterface() (string, error) // first up, non-loopback, as tcpdump
//
// Added with the implementation:
//
//	func FilterConfig(iface string) (filter.Config, error)
//	    the filter.Config to compile Config.Filter with for that
//	    interface: link type, netmask, KernelVLAN on Ethernet; the
//	    caller sets Snaplen (and may turn Optimize off).
//	const AnyInterface = "any"
//	var ErrNoSuchInterface  // wrapped: "eth9: no such interface"
//	var ErrInterfaceNotUp   // wrapped: "eth0: interface is not up"
//	type PermissionError    // wraps os.ErrPermission; names CAP_NET_RAW and setcap
//	const DefaultBufferSize, DefaultBlockTimeout // 4 MiB, 1 s
//	func (s *Source) ReadPacketInfo(ci *pcap.CaptureInfo) ([]byte, error)
//	    ReadPacket filling *ci in place: a loop over many packets spares
//	    a copy of the struct per packet (cmd/weir's live loop uses it)
//	func (s *Source) WriteReady(w *pcap.Writer, max int) (n int, readErr, writeErr error)
//	    writes the packets the kernel has handed over straight to a pcap
//	    file, without waiting (cmd/weir's -w loop uses it between waits)
//	func (s *Source) OnWait(f func())
//	    f is called in the reading goroutine before each wait for the
//	    kernel: cmd/weir flushes its file there
//	func (s *Source) FilterRefused() error
//	    a *KernelFilterError when the kernel refused the filter, which
//	    then runs in user space (tcpdump warns then); nil otherwise
//	type KernelFilterError  // interface, size of the refused program, the
//	                        // kernel's reason (wraps the errno)
