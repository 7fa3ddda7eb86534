module github.com/weircap/weir

go 1.26.0

require golang.org/x/sys v0.50.0

require (
	github.com/klauspost/compress v1.20.4
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	golang.org/x/net v0.62.0
)

require github.com/cilium/ebpf v0.22.0

require github.com/goccy/go-yaml v1.19.2
