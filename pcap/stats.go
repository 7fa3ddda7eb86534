package pcap

import "time"

// InterfaceStats are the counters of one capture interface, as a pcapng
// interface statistics block carries them. Counters count from the start
// of the capture, so the statistics written at the close of each file of
// a rotated set are the totals so far.
type InterfaceStats struct {
	Start time.Time // isb_starttime: when the capture began; zero: not given
	End   time.Time // isb_endtime: when these counts were taken; zero: not given

	Received         uint64 // isb_ifrecv: packets the interface received
	InterfaceDropped uint64 // isb_ifdrop: packets dropped before the capture saw them
	FilterAccepted   uint64 // isb_filteraccept: packets the filter accepted
	OSDropped        uint64 // isb_osdrop: packets the operating system dropped
	Delivered        uint64 // isb_usrdeliv: packets handed to the application
	Known            StatsCounters

	Comment string
}

// StatsCounters is a set of InterfaceStats counters: those that are known
// and written.
type StatsCounters uint8

// The counters of InterfaceStats.
const (
	CounterReceived StatsCounters = 1 << iota
	CounterInterfaceDropped
	CounterFilterAccepted
	CounterOSDropped
	CounterDelivered
)

// CaptureStats are the statistics of a live capture in tcpdump's terms:
// receivedByFilter packets passed the kernel filter ("received by
// filter"), droppedByKernel of them found no room in the buffer ("dropped
// by kernel") and captured reached the program. The kernel's drops go in
// isb_osdrop, where the pcapng specification puts drops by the operating
// system, and in isb_ifdrop too, because that is the one count Wireshark
// shows as "Dropped packets" (dumpcap writes its kernel drops there).
func CaptureStats(start, end time.Time, receivedByFilter, droppedByKernel, captured uint64) InterfaceStats {
	return InterfaceStats{
		Start:            start,
		End:              end,
		InterfaceDropped: droppedByKernel,
		FilterAccepted:   receivedByFilter,
		OSDropped:        droppedByKernel,
		Delivered:        captured,
		Known:            CounterInterfaceDropped | CounterFilterAccepted | CounterOSDropped | CounterDelivered,
	}
}

// statsCounterOptions pairs each counter with its option code.
var statsCounterOptions = [...]struct {
	counter StatsCounters
	code    uint16
}{
	{CounterReceived, optionISBIfRecv},
	{CounterInterfaceDropped, optionISBIfDrop},
	{CounterFilterAccepted, optionISBFilterAccept},
	{CounterOSDropped, optionISBOSDrop},
	{CounterDelivered, optionISBUsrDeliv},
}

// counter returns a pointer to the field of a counter.
func (st *InterfaceStats) counter(c StatsCounters) *uint64 {
	switch c {
	case CounterReceived:
		return &st.Received
	case CounterInterfaceDropped:
		return &st.InterfaceDropped
	case CounterFilterAccepted:
		return &st.FilterAccepted
	case CounterOSDropped:
		return &st.OSDropped
	}
	return &st.Delivered
}

// setCounter records the counter an option code names; unknown codes are
// ignored.
func (st *InterfaceStats) setCounter(code uint16, v uint64) {
	for _, c := range statsCounterOptions {
		if c.code == code {
			*st.counter(c.counter) = v
			st.Known |= c.counter
			return
		}
	}
}

// interfaceStatsSeen is the latest statistics block read for an interface.
type interfaceStatsSeen struct {
	stats InterfaceStats
	seen  bool
}
