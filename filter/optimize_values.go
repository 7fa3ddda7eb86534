package filter

// Value numbering, as libpcap's optimizer: every value a statement
// computes gets a number, equal numbers meaning equal values on every
// packet. A number is the identity of (opcode, operand numbers); loads of
// constants are numbered by the constant, so constants are known. Number 0
// is "unknown" (values merging from paths that disagree).

const valUnknown = 0

type valueKey struct {
	code   int32
	v0, v1 uint32
}

type valueTable struct {
	ids    map[valueKey]uint32
	consts []uint32 // the constant of each number
	known  []bool   // whether the number is a constant
}

func (t *valueTable) reset() {
	if t.ids == nil {
		t.ids = map[valueKey]uint32{}
	}
	clear(t.ids)
	t.consts = append(t.consts[:0], 0)
	t.known = append(t.known[:0], false)
}

// number returns the value number of code applied to v0 and v1, making a
// new one the first time (libpcap's F).
func (t *valueTable) number(code int32, v0, v1 uint32) uint32 {
	key := valueKey{code, v0, v1}
	if v, ok := t.ids[key]; ok {
		return v
	}
	v := uint32(len(t.consts))
	t.ids[key] = v
	isConst := (code&0xe0) == int32(ModeImm) && (code&7 == int32(ClassLd) || code&7 == int32(ClassLdx))
	t.consts = append(t.consts, v0)
	t.known = append(t.known, isConst)
	return v
}

// constant numbers the constant k.
func (t *valueTable) constant(k uint32) uint32 {
	return t.number(int32(ClassLd|ModeImm|SizeW), k, 0)
}

func (t *valueTable) isConst(v uint32) bool { return t.known[v] }

// optError aborts optimizing with a message, as libpcap's opt_error.
type optError struct{ msg string }

func (o *optimizer) fail(msg string) { panic(optError{msg}) }

// changed records a simplification that is not a branch move.
func (o *optimizer) changed() {
	o.nonBranchMove = true
	o.done = false
}

// vstore records that s sets *slot to v; when altering, a statement that
// stores the value already there is deleted.
func vstore(s *ostmt, slot *uint32, v uint32, alter bool) {
	if alter && v != valUnknown && *slot == v {
		s.code = opNop
	} else {
		*slot = v
	}
}

// foldOp replaces s by a load of the constant its operation yields on the
// numbers v0 and v1 (libpcap's fold_op).
func (o *optimizer) foldOp(s *ostmt, v0, v1 uint32) {
	a, b := o.values.consts[v0], o.values.consts[v1]
	switch uint16(s.code) & 0xf0 {
	case AluAdd:
		a += b
	case AluSub:
		a -= b
	case AluMul:
		a *= b
	case AluDiv:
		if b == 0 {
			o.fail("division by zero")
		}
		a /= b
	case AluMod:
		if b == 0 {
			o.fail("modulus by zero")
		}
		a %= b
	case AluAnd:
		a &= b
	case AluOr:
		a |= b
	case AluXor:
		a ^= b
	case AluLsh:
		if b < 32 {
			a <<= b
		} else {
			a = 0
		}
	case AluRsh:
		if b < 32 {
			a >>= b
		} else {
			a = 0
		}
	default:
		panic("filter: folding an unknown operation")
	}
	s.k = a
	s.code = int32(ClassLd | ModeImm)
	o.changed()
}

// Opcodes as the optimizer's statements hold them (int32, so that opNop
// fits); the C marks the optimizer's copy of the VM's names.
const (
	opLdImmC  = int32(ClassLd | ModeImm)
	opLdxImmC = int32(ClassLdx | ModeImm)
	opLdMemC  = int32(ClassLd | ModeMem)
	opLdxMemC = int32(ClassLdx | ModeMem)
	opLdLenC  = int32(ClassLd | ModeLen)
	opLdxMshC = int32(ClassLdx | ModeMsh | SizeB)
	opStC     = int32(ClassSt)
	opStxC    = int32(ClassStx)
	opTaxC    = int32(ClassMisc | MiscTax)
	opTxaC    = int32(ClassMisc | MiscTxa)
	opNegC    = int32(ClassAlu | AluNeg)
)

// optStmt computes the value numbers a statement defines into val and,
// when alter is set, simplifies it with what is known (libpcap's
// opt_stmt): constant operands folded, indexed loads from a constant
// index made absolute, loads of a value already in place deleted.
func (o *optimizer) optStmt(s *ostmt, val *[nAtoms]uint32, alter bool) {
	vt := &o.values
	switch c := s.code; {
	case c == int32(ClassLd|ModeAbs|SizeW), c == int32(ClassLd|ModeAbs|SizeH), c == int32(ClassLd|ModeAbs|SizeB):
		vstore(s, &val[atomA], vt.number(c, s.k, 0), alter)
	case c == int32(ClassLd|ModeInd|SizeW), c == int32(ClassLd|ModeInd|SizeH), c == int32(ClassLd|ModeInd|SizeB):
		v := val[atomX]
		if alter && vt.isConst(v) {
			s.code = int32(ClassLd|ModeAbs) | c&0x18
			s.k += vt.consts[v]
			v = vt.number(s.code, s.k, 0)
			o.changed()
		} else {
			v = vt.number(c, s.k, v)
		}
		vstore(s, &val[atomA], v, alter)
	case c == opLdLenC:
		vstore(s, &val[atomA], vt.number(c, 0, 0), alter)
	case c == opLdImmC:
		vstore(s, &val[atomA], vt.constant(s.k), alter)
	case c == opLdxImmC:
		vstore(s, &val[atomX], vt.constant(s.k), alter)
	case c == opLdxMshC:
		vstore(s, &val[atomX], vt.number(c, s.k, 0), alter)
	case c == opNegC:
		if alter && vt.isConst(val[atomA]) {
			s.code = opLdImmC
			s.k = -vt.consts[val[atomA]]
			val[atomA] = vt.constant(s.k)
		} else {
			val[atomA] = vt.number(c, val[atomA], 0)
		}
	case isBinaryAlu(c, SrcK):
		o.optAluK(s, val, alter)
	case isBinaryAlu(c, SrcX):
		o.optAluX(s, val, alter)
	case c == opTxaC:
		vstore(s, &val[atomA], val[atomX], alter)
	case c == opLdMemC, c == opLdxMemC:
		atom := atomA
		if c == opLdxMemC {
			atom = atomX
		}
		v := val[s.k]
		if alter && vt.isConst(v) {
			s.code = int32(Class(uint16(c))) | int32(ModeImm)
			s.k = vt.consts[v]
			o.changed()
		}
		vstore(s, &val[atom], v, alter)
	case c == opTaxC:
		vstore(s, &val[atomX], val[atomA], alter)
	case c == opStC:
		vstore(s, &val[s.k], val[atomA], alter)
	case c == opStxC:
		vstore(s, &val[s.k], val[atomX], alter)
	}
}

// isBinaryAlu tells whether c is one of the two-operand ALU operations
// libpcap's optimizer knows, with the given operand source.
func isBinaryAlu(c int32, src uint16) bool {
	if c < 0 || uint16(c)&^0xf8 != ClassAlu || uint16(c)&SrcX != src {
		return false
	}
	switch uint16(c) & 0xf0 {
	case AluAdd, AluSub, AluMul, AluDiv, AluMod, AluAnd, AluOr, AluXor, AluLsh, AluRsh:
		return true
	}
	return false
}

func (o *optimizer) optAluK(s *ostmt, val *[nAtoms]uint32, alter bool) {
	vt := &o.values
	op := uint16(s.code) & 0xf0
	if alter {
		if s.k == 0 {
			switch op {
			case AluAdd, AluLsh, AluRsh, AluOr, AluXor:
				s.code = opNop
				return
			case AluMul, AluAnd:
				s.code = opLdImmC
				val[atomA] = vt.constant(s.k)
				return
			case AluDiv:
				o.fail("division by zero")
			case AluMod:
				o.fail("modulus by zero")
			}
		}
		if vt.isConst(val[atomA]) {
			o.foldOp(s, val[atomA], vt.constant(s.k))
			val[atomA] = vt.constant(s.k)
			return
		}
	}
	val[atomA] = vt.number(s.code, val[atomA], vt.constant(s.k))
}

func (o *optimizer) optAluX(s *ostmt, val *[nAtoms]uint32, alter bool) {
	vt := &o.values
	op := uint16(s.code) & 0xf0
	if alter && vt.isConst(val[atomX]) {
		if vt.isConst(val[atomA]) {
			o.foldOp(s, val[atomA], val[atomX])
			val[atomA] = vt.constant(s.k)
		} else {
			s.code = int32(ClassAlu | SrcK | op)
			s.k = vt.consts[val[atomX]]
			if (op == AluLsh || op == AluRsh) && s.k > 31 {
				o.fail("shift by more than 31 bits")
			}
			o.changed()
			val[atomA] = vt.number(s.code, val[atomA], vt.constant(s.k))
		}
		return
	}
	if alter && vt.isConst(val[atomA]) && vt.consts[val[atomA]] == 0 {
		switch op {
		case AluAdd, AluOr, AluXor:
			s.code = opTxaC
			vstore(s, &val[atomA], val[atomX], alter)
			return
		case AluMul, AluDiv, AluMod, AluAnd, AluLsh, AluRsh:
			s.code = opLdImmC
			s.k = 0
			vstore(s, &val[atomA], vt.constant(s.k), alter)
			return
		}
	}
	val[atomA] = vt.number(s.code, val[atomA], val[atomX])
}
