package pcap

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestStrftime(t *testing.T) {
	at := time.Date(2024, time.March, 5, 7, 8, 9, 0, time.UTC)
	for _, tc := range []struct{ pattern, want string }{
		{"capture-%Y%m%d-%H%M%S.pcap", "capture-20240305-070809.pcap"},
		{"%a %A %b %B %h", "Tue Tuesday Mar March Mar"},
		{"%c", "Tue Mar  5 07:08:09 2024"},
		{"%C %d %D %e %F", "20 05 03/05/24  5 2024-03-05"},
		{"%g %G %V %j", "24 2024 10 065"},
		{"%H %I %k %l %M %S %p %P", "07 07  7  7 08 09 AM am"},
		{"%r %R %T %x %X", "07:08:09 AM 07:08 07:08:09 03/05/24 07:08:09"},
		{"%s %u %w %U %W", "1709622489 2 2 09 10"},
		{"%y %Y %z %Z %%", "24 2024 +0000 UTC %"},
		{"%-d %_m %0e %^a %^B", "5  3 05 TUE MARCH"},
		{"%Ey %OH", "24 07"},
		{"%q %", "%q %"},
		{"no conversions", "no conversions"},
	} {
		if got := Strftime(tc.pattern, at); got != tc.want {
			t.Errorf("Strftime(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
}

// TestStrftimeMatchesDate compares every conversion with GNU date, whose
// formats are C strftime's, over dates chosen for week-number edges.
func TestStrftimeMatchesDate(t *testing.T) {
	date, err := exec.LookPath("date")
	if err != nil {
		t.Skip("no date command")
	}
	var conversions []string
	for _, c := range "aAbBcCdDeFgGhHIjklmMnpPrRsStTuUVwWxXyYZ" {
		conversions = append(conversions, "%"+string(c), "%-"+string(c), "%_"+string(c), "%^"+string(c))
	}
	conversions = append(conversions, "%z", "%%") // flags on these differ between date and glibc
	pattern := strings.Join(conversions, "|")
	zone := time.FixedZone("EST", -5*3600)
	for _, at := range []time.Time{
		time.Date(2021, time.January, 1, 0, 0, 0, 0, zone),      // a Friday in ISO week 53 of 2020
		time.Date(2024, time.December, 30, 12, 30, 59, 0, zone), // ISO week 1 of 2025
		time.Date(2023, time.July, 16, 23, 59, 1, 0, zone),      // a Sunday
		time.Date(1999, time.October, 31, 13, 5, 0, 0, zone),
	} {
		cmd := exec.Command(date, "-d", "@"+strings.TrimSpace(Strftime("%s", at)), "+"+pattern)
		cmd.Env = []string{"TZ=EST5", "LC_ALL=C"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("date: %v", err)
		}
		want := strings.Split(strings.TrimSuffix(string(out), "\n"), "|")
		got := strings.Split(Strftime(pattern, at), "|")
		for i := range conversions {
			if got[i] != want[i] {
				t.Errorf("%v: %s gives %q, date gives %q", at, conversions[i], got[i], want[i])
			}
		}
	}
}
