package pcap

import (
	"strconv"
	"strings"
	"time"
)

// Strftime formats t with a C strftime pattern, as tcpdump names -G files:
// the C locale's conversions and glibc's flags "-" (no padding), "_"
// (spaces), "0" (zeros) and "^" (upper case). The E and O modifiers are
// accepted and ignored, as in the C locale; an unknown conversion is
// copied as it is, as glibc does.
func Strftime(pattern string, t time.Time) string {
	var out strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' || i+1 == len(pattern) {
			out.WriteByte(c)
			continue
		}
		start := i
		i++
		var flag byte
		for i < len(pattern) && strings.IndexByte("-_0^#", pattern[i]) >= 0 {
			flag = pattern[i]
			i++
		}
		for i < len(pattern) && (pattern[i] == 'E' || pattern[i] == 'O') {
			i++
		}
		if i == len(pattern) {
			out.WriteString(pattern[start:])
			break
		}
		text, ok := strftimeConversion(pattern[i], t, flag)
		if !ok {
			out.WriteString(pattern[start : i+1])
			continue
		}
		out.WriteString(text)
	}
	return out.String()
}

var (
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// strftimeConversion expands one conversion character.
func strftimeConversion(c byte, t time.Time, flag byte) (string, bool) {
	num := func(v, width int, pad byte) (string, bool) {
		return padNumber(v, width, pad, flag), true
	}
	text := func(s string) (string, bool) {
		if flag == '^' || flag == '#' {
			s = strings.ToUpper(s)
		}
		return s, true
	}
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	isoYear, isoWeek := t.ISOWeek()
	switch c {
	case 'a':
		return text(shortDays[t.Weekday()])
	case 'A':
		return text(t.Weekday().String())
	case 'b', 'h':
		return text(shortMonths[t.Month()-1])
	case 'B':
		return text(t.Month().String())
	case 'c':
		return text(Strftime("%a %b %e %H:%M:%S %Y", t))
	case 'C':
		return num(t.Year()/100, 2, '0')
	case 'd':
		return num(t.Day(), 2, '0')
	case 'D', 'x':
		return Strftime("%m/%d/%y", t), true
	case 'e':
		return num(t.Day(), 2, ' ')
	case 'F':
		return Strftime("%Y-%m-%d", t), true
	case 'g':
		return num(isoYear%100, 2, '0')
	case 'G':
		return num(isoYear, 1, '0')
	case 'H':
		return num(t.Hour(), 2, '0')
	case 'I':
		return num(hour12, 2, '0')
	case 'j':
		return num(t.YearDay(), 3, '0')
	case 'k':
		return num(t.Hour(), 2, ' ')
	case 'l':
		return num(hour12, 2, ' ')
	case 'm':
		return num(int(t.Month()), 2, '0')
	case 'M':
		return num(t.Minute(), 2, '0')
	case 'n':
		return "\n", true
	case 'p':
		return text(amPM(t, "AM", "PM"))
	case 'P':
		return amPM(t, "am", "pm"), true
	case 'r':
		return Strftime("%I:%M:%S %p", t), true
	case 'R':
		return Strftime("%H:%M", t), true
	case 's':
		return strconv.FormatInt(t.Unix(), 10), true
	case 'S':
		return num(t.Second(), 2, '0')
	case 't':
		return "\t", true
	case 'T', 'X':
		return Strftime("%H:%M:%S", t), true
	case 'u':
		return num((int(t.Weekday())+6)%7+1, 1, '0')
	case 'U':
		return num((t.YearDay()+6-int(t.Weekday()))/7, 2, '0')
	case 'V':
		return num(isoWeek, 2, '0')
	case 'w':
		return num(int(t.Weekday()), 1, '0')
	case 'W':
		return num((t.YearDay()+6-(int(t.Weekday())+6)%7)/7, 2, '0')
	case 'y':
		return num(t.Year()%100, 2, '0')
	case 'Y':
		return num(t.Year(), 1, '0')
	case 'z':
		return t.Format("-0700"), true
	case 'Z':
		name, _ := t.Zone()
		return text(name)
	case '%':
		return "%", true
	}
	return "", false
}

func amPM(t time.Time, am, pm string) string {
	if t.Hour() < 12 {
		return am
	}
	return pm
}

// padNumber writes v in at least width digits, padded with pad unless a
// flag says otherwise.
func padNumber(v, width int, pad, flag byte) string {
	switch flag {
	case '-':
		width = 0
	case '_':
		pad = ' '
	case '0':
		pad = '0'
	}
	s := strconv.Itoa(v)
	if len(s) >= width {
		return s
	}
	return strings.Repeat(string(pad), width-len(s)) + s
}
