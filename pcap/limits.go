package pcap

// defaultMaxSnaplen is libpcap's MAXIMUM_SNAPLEN: no packet of an ordinary
// link type is captured longer than this, so a longer record is damage.
const defaultMaxSnaplen = 262144

// Link types whose packets may legitimately exceed defaultMaxSnaplen.
const (
	linkTypeDBus    LinkType = 231
	linkTypeUSBPcap LinkType = 249
	linkTypeEBHSCR  LinkType = 279
)

// maxSnaplen is the largest sane captured length for the link type, as
// libpcap's max_snaplen_for_dlt.
func maxSnaplen(lt LinkType) uint32 {
	switch lt {
	case linkTypeDBus:
		return 128 << 20
	case linkTypeEBHSCR:
		return 8 << 20
	case linkTypeUSBPcap:
		return 1 << 20
	}
	return defaultMaxSnaplen
}

// effectiveSnaplen is the snap length packets are cut to: the file's, or
// the link type's maximum when the file's is 0 or larger than that, as
// libpcap's pcap_adjust_snapshot.
func effectiveSnaplen(lt LinkType, snaplen uint32) uint32 {
	limit := maxSnaplen(lt)
	if snaplen == 0 || snaplen > limit {
		return limit
	}
	return snaplen
}

// pcapng block size limits, as libpcap's sf-pcapng.c: any block up to
// 16 MiB, more only for link types with huge packets, and an SHB up to
// 1 MiB.
const (
	defaultMaxBlockLength       = 16 << 20
	maxSectionHeaderBlockLength = 1 << 20
)

// maxBlockLengthFor is the length of an enhanced packet block carrying the
// largest packet of the link type plus 128 KiB of options.
func maxBlockLengthFor(lt LinkType) uint32 {
	return blockOverhead + epbFixedLength + maxSnaplen(lt) + 128<<10
}
