package pcap

// InterfaceMap numbers the interfaces of a pcapng file being copied in
// the copy, which has one section: an interface is known by its section
// and index in the input, and each new one is described to the writer
// the first time one of its packets is copied.
type InterfaceMap struct {
	w     InterfaceAdder
	index map[[2]int]int // (section, input index) -> output index
	first int            // interfaces of the first section numbered as in the input
}

// NewInterfaceMap maps the interfaces of r to w. The first section's
// first interfaces, those r has when the map is made, are taken to be
// w's first interfaces, as when w was created with r.Interfaces().
func NewInterfaceMap(w InterfaceAdder, r *Reader) *InterfaceMap {
	m := &InterfaceMap{w: w, index: map[[2]int]int{}}
	if r.SectionIndex() == 0 {
		m.first = len(r.Interfaces())
	}
	return m
}

// Map sets ci.InterfaceIndex to the copy's index of the packet's
// interface, describing the interface to the writer first if it is new.
func (m *InterfaceMap) Map(r *Reader, ci *CaptureInfo) error {
	if ci.InterfaceIndex < m.first && r.SectionIndex() == 0 {
		return nil // the common case, a packet of the first interfaces: no lookup
	}
	key := [2]int{r.SectionIndex(), ci.InterfaceIndex}
	index, ok := m.index[key]
	if !ok {
		var err error
		if index, err = m.w.AddInterface(r.Interfaces()[ci.InterfaceIndex]); err != nil {
			return err
		}
		m.index[key] = index
	}
	ci.InterfaceIndex = index
	return nil
}
