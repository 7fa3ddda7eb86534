package pcap

import (
	"bytes"
	"testing"
	"time"
)

// buildNg encodes a file as another writer in the given byte order would:
// the section, the interfaces, the packets (with their options) and the
// statistics of NgOptions, every option in the order's own integers.
func buildNg(order endian, opts NgOptions, packets []wantPacket) *fileBuilder {
	s := opts.Section
	b := ngFile(order, option{optionComment, []byte(s.Comment)}, option{optionSHBHardware, []byte(s.Hardware)},
		option{optionSHBOS, []byte(s.OS)}, option{optionSHBApplication, []byte(s.Application)})
	w, _ := NewNgWriter(nil, opts) // for the defaults it fills in
	for _, ifc := range w.Interfaces() {
		tsresol, _ := encodeTimestampResolution(ifc.TimestampResolution)
		ifcOpts := []option{{optionName, []byte(ifc.Name)}, {optionDescription, []byte(ifc.Description)},
			{optionFilter, append([]byte{0}, ifc.Filter...)}, {optionOS, []byte(ifc.OS)}, {optionTSResol, []byte{tsresol}},
			{optionTSOffset, order.AppendUint64(nil, uint64(ifc.TimestampOffset))}, {optionComment, []byte(ifc.Comment)}}
		if ifc.FCSLength > 0 {
			ifcOpts = append(ifcOpts, option{optionFCSLength, []byte{byte(ifc.FCSLength)}})
		}
		b.idb(uint16(ifc.LinkType), ifc.Snaplen, ifcOpts...)
	}
	for _, p := range packets {
		ifc := w.Interfaces()[p.ci.InterfaceIndex]
		data := p.data
		if ifc.Snaplen != 0 && uint32(len(data)) > ifc.Snaplen {
			data = data[:ifc.Snaplen]
		}
		var pktOpts []option
		if p.ci.Comment != "" {
			pktOpts = append(pktOpts, option{optionComment, []byte(p.ci.Comment)})
		}
		if flags := p.ci.Flags | uint32(p.ci.Direction); flags != 0 {
			pktOpts = append(pktOpts, option{optionEPBFlags, order.AppendUint32(nil, flags)})
		}
		ticks := timestampTicks(p.ci.Timestamp, ifc.TimestampResolution, ifc.TimestampOffset)
		b.epb(uint32(p.ci.InterfaceIndex), ticks, uint32(len(data)), uint32(max(p.ci.Length, len(data))), data, pktOpts...)
	}
	for i, st := range opts.Stats() {
		ifc := w.Interfaces()[i]
		ticks := func(t time.Time) []byte {
			v := timestampTicks(t, ifc.TimestampResolution, ifc.TimestampOffset)
			return order.AppendUint32(order.AppendUint32(nil, uint32(v>>32)), uint32(v))
		}
		body := order.AppendUint32(nil, uint32(i))
		body = append(body, ticks(st.End)...)
		isbOpts := []option{{optionComment, []byte(st.Comment)}}
		if !st.Start.IsZero() {
			isbOpts = append(isbOpts, option{optionISBStartTime, ticks(st.Start)}, option{optionISBEndTime, ticks(st.End)})
		}
		for _, c := range statsCounterOptions {
			if st.Known&c.counter != 0 {
				isbOpts = append(isbOpts, option{c.code, order.AppendUint64(nil, *st.counter(c.counter))})
			}
		}
		b.block(blockTypeInterfaceStats, append(body, b.options(isbOpts)...))
	}
	return b
}

// TestRoundTripBothByteOrders: a file in either byte order with every
// block type and option reads as what it encodes; NgWriter's copy of what
// was read reads the same again, statistics included.
func TestRoundTripBothByteOrders(t *testing.T) {
	opts := ngTestOptions()
	packets := ngTestPackets(60)
	_, want, _ := writeNg(t, opts, packets)
	for _, bo := range byteOrders {
		t.Run(bo.name, func(t *testing.T) {
			r, got := mustRead(t, buildNg(bo.order, opts, packets).bytes())
			checkPackets(t, got, want)
			if r.Section() != opts.Section || len(r.Interfaces()) != len(opts.Interfaces) {
				t.Fatalf("section %+v, %d interfaces", r.Section(), len(r.Interfaces()))
			}
			var stats []InterfaceStats
			for i := range r.Interfaces() {
				st, ok := r.Stats(i)
				if !ok {
					t.Fatalf("no statistics for interface %d", i)
				}
				stats = append(stats, st)
			}
			// Write what was read, and read it again.
			copyOpts := NgOptions{Section: r.Section(), Interfaces: r.Interfaces(), Stats: func() []InterfaceStats { return stats }}
			var out bytes.Buffer
			w, err := NewNgWriter(&out, copyOpts)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range got {
				if err := w.WritePacket(p.ci, p.data); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			again, gotAgain := mustRead(t, out.Bytes())
			checkPackets(t, gotAgain, want)
			for i, ifc := range again.Interfaces() {
				if ifc != r.Interfaces()[i] {
					t.Errorf("interface %d: %+v, first read %+v", i, ifc, r.Interfaces()[i])
				}
				if st, _ := again.Stats(i); !st.Start.Equal(stats[i].Start) || !st.End.Equal(stats[i].End) || st.Known != stats[i].Known ||
					st.InterfaceDropped != stats[i].InterfaceDropped || st.Comment != stats[i].Comment {
					t.Errorf("statistics %d: %+v, first read %+v", i, st, stats[i])
				}
			}
		})
	}
}
