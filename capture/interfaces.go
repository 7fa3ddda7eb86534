package capture

// AnyInterface is the pseudo-interface that captures on all interfaces.
const AnyInterface = "any"

// anyDescription is how libpcap describes "any".
const anyDescription = "Pseudo-device that captures on all interfaces"

// merit ranks interfaces as libpcap's get_figure_of_merit: lower first.
func merit(i Interface) int {
	n := 0
	if !i.Up {
		n |= 4
	}
	if !i.Running {
		n |= 2
	}
	if i.Loopback {
		n |= 1
	}
	return n
}
