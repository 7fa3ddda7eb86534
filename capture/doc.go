// Package capture reads live packets from network interfaces: an AF_PACKET
// socket with a TPACKET_V3 receive ring and the classic BPF filter attached
// in the kernel, so only matching packets are copied to user space.
//
// Everything computable from bytes (ring geometry, the block walker) is
// plain code tested without privileges; the syscalls live in *_linux.go
// files, and other systems get ErrNotSupported.
package capture
