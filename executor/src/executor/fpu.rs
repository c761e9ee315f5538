//! The FPU (coprocessor 1), executed so unmodified static glibc binaries run; it can never be proven.
//!
//! Model: 32 x 32-bit registers with `Status.FR = 0`, as the o32 ABI uses them: a double lives in an
//! even/odd pair (low word in the even register). FCSR/FIR/FCCR/FEXR/FENR are readable with CFC1.
//!
//! Arithmetic uses the host's IEEE-754 `f32`/`f64`, round-to-nearest only: an arithmetic instruction
//! with another rounding mode selected in FCSR stops with `UnsupportedInstruction` rather than give a
//! silently different result (conversions to integer honour all four modes). FPU exceptions never trap;
//! NaN results are the legacy-MIPS default NaN (`0x7fbf_ffff` / `0x7ff7_ffff_ffff_ffff`), and invalid
//! float-to-int conversions give `0x7fff_ffff`, what MIPS produces with exceptions disabled. The 64-bit
//! fixed-point (L) format needs FR = 1 and is not supported, nor is paired single.
//!
//! Besides COP1 words, `FpuArith` carries MOVF/MOVT (the GPR move on a condition code, SPECIAL funct 1)
//! and COP1X words (indexed loads/stores, PREFX, unfused MADD/MSUB/NMADD/NMSUB); this module reads their
//! operands from the word.

use crate::error::ExecError;
use crate::events::SLOT_MEM;
use crate::instruction::{Instruction, Opcode};
use crate::memory::MemFault;

use super::Machine;

/// FIR: has single, double and word formats, no 64-bit FPU (FR = 0 only).
pub const FIR: u32 = (1 << 16) | (1 << 17) | (1 << 20);

const FMT_D: u32 = 0x11;
/// Primary opcode of the COP1X instructions (indexed loads/stores, MADD/MSUB/NMADD/NMSUB).
const COP1X: u32 = 0x13;
const FMT_W: u32 = 0x14;
const FMT_L: u32 = 0x15;

const DEFAULT_NAN_S: u32 = 0x7fbf_ffff;
const DEFAULT_NAN_D: u64 = 0x7ff7_ffff_ffff_ffff;
/// Result of an invalid float-to-word conversion.
const INVALID_WORD: u32 = 0x7fff_ffff;

/// FPU registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fpu {
    pub fpr: [u32; 32],
    pub fcsr: u32,
}

impl Fpu {
    /// Condition code `cc` (0..=7): FCSR bit 23 for cc 0, bits 25..=31 for cc 1..=7.
    pub fn condition(&self, cc: u8) -> bool {
        let bit = if cc == 0 { 23 } else { 24 + cc as u32 };
        self.fcsr & (1 << bit) != 0
    }

    fn set_condition(&mut self, cc: u8, value: bool) {
        let bit = if cc == 0 { 23 } else { 24 + cc as u32 };
        self.fcsr = (self.fcsr & !(1 << bit)) | ((value as u32) << bit);
    }

    fn single(&self, r: u32) -> f32 {
        f32::from_bits(self.fpr[r as usize])
    }

    fn double(&self, r: u32) -> f64 {
        f64::from_bits(
            ((self.fpr[(r | 1) as usize] as u64) << 32) | self.fpr[(r & !1) as usize] as u64,
        )
    }

    fn set_single(&mut self, r: u32, v: f32) {
        self.fpr[r as usize] = if v.is_nan() {
            DEFAULT_NAN_S
        } else {
            v.to_bits()
        };
    }

    fn set_double(&mut self, r: u32, v: f64) {
        let bits = if v.is_nan() {
            DEFAULT_NAN_D
        } else {
            v.to_bits()
        };
        self.set_double_bits(r, bits);
    }

    fn set_double_bits(&mut self, r: u32, bits: u64) {
        self.fpr[(r & !1) as usize] = bits as u32;
        self.fpr[(r | 1) as usize] = (bits >> 32) as u32;
    }

    fn rounding_mode(&self) -> u32 {
        self.fcsr & 3
    }

    fn read_control(&self, fcr: u8) -> u32 {
        let f = self.fcsr;
        match fcr {
            0 => FIR,
            // FCCR: cc7..cc1 from FCSR bits 31..25, cc0 from bit 23.
            25 => ((f >> 24) & 0xfe) | ((f >> 23) & 1),
            // FEXR: cause and flag fields.
            26 => f & 0x0003_f07c,
            // FENR: enables, FS (bit 24 -> bit 2), rounding mode.
            28 => (f & 0x0f83) | ((f >> 22) & 4),
            _ => f,
        }
    }

    fn write_control(&mut self, fcr: u8, v: u32) {
        let f = self.fcsr;
        self.fcsr = match fcr {
            25 => (f & !0xfe80_0000) | ((v & 0xfe) << 24) | ((v & 1) << 23),
            26 => (f & !0x0003_f07c) | (v & 0x0003_f07c),
            28 => (f & !0x0100_0f83) | (v & 0x0f83) | ((v & 4) << 22),
            _ => v,
        };
    }
}

fn unsupported(m: &Machine, inst: Instruction, what: &'static str) -> ExecError {
    ExecError::UnsupportedInstruction {
        pc: m.pc,
        word: inst.word,
        what,
    }
}

fn fault(m: &Machine, inst: Instruction, f: MemFault) -> ExecError {
    f.at(m.pc, inst.word)
}

/// Execute a COP1 load/store/move/arithmetic instruction or MOVF/MOVT (not the BC1 branches).
pub(super) fn exec<const T: bool>(
    m: &mut Machine,
    fpu: &mut Fpu,
    inst: Instruction,
) -> Result<(), ExecError> {
    use Opcode::*;
    let ft = inst.rd as u32; // FPU register for loads/stores/moves
    match inst.opcode {
        Lwc1 | Swc1 => {
            let addr = m
                .r::<T>(inst.rs, crate::events::SLOT_RS)
                .wrapping_add(inst.imm);
            if inst.opcode == Lwc1 {
                let v = m.mem.load_word(addr).map_err(|f| fault(m, inst, f))?;
                if T {
                    m.rec.mem(addr, v, v, SLOT_MEM);
                }
                fpu.fpr[ft as usize] = v;
            } else {
                let v = fpu.fpr[ft as usize];
                let prev = m.mem.store_word(addr, v).map_err(|f| fault(m, inst, f))?;
                if T {
                    m.rec.mem(addr, prev, v, SLOT_MEM);
                }
            }
        }
        Ldc1 | Sdc1 => {
            if ft & 1 != 0 {
                return Err(unsupported(
                    m,
                    inst,
                    "LDC1/SDC1 of an odd FPU register (FR = 0)",
                ));
            }
            let addr = m
                .r::<T>(inst.rs, crate::events::SLOT_RS)
                .wrapping_add(inst.imm);
            if addr & 7 != 0 {
                return Err(fault(m, inst, MemFault::Misaligned { addr, size: 8 }));
            }
            for half in 0..2u32 {
                let a = addr.wrapping_add(4 * half);
                let r = (ft + half) as usize;
                if inst.opcode == Ldc1 {
                    let v = m.mem.load_word(a).map_err(|f| fault(m, inst, f))?;
                    if T {
                        m.rec.mem(a, v, v, SLOT_MEM + half as u64);
                    }
                    fpu.fpr[r] = v;
                } else {
                    let prev = m
                        .mem
                        .store_word(a, fpu.fpr[r])
                        .map_err(|f| fault(m, inst, f))?;
                    if T {
                        m.rec.mem(a, prev, fpu.fpr[r], SLOT_MEM + half as u64);
                    }
                }
            }
        }
        Mfc1 => {
            let v = fpu.fpr[ft as usize];
            m.w::<T>(inst.rt, v);
        }
        Mtc1 => fpu.fpr[ft as usize] = m.r::<T>(inst.rt, crate::events::SLOT_RT),
        Mfhc1 | Mthc1 => {
            if ft & 1 != 0 {
                return Err(unsupported(
                    m,
                    inst,
                    "MFHC1/MTHC1 of an odd FPU register (FR = 0)",
                ));
            }
            if inst.opcode == Mfhc1 {
                let v = fpu.fpr[(ft + 1) as usize];
                m.w::<T>(inst.rt, v);
            } else {
                fpu.fpr[(ft + 1) as usize] = m.r::<T>(inst.rt, crate::events::SLOT_RT);
            }
        }
        Cfc1 => {
            let v = fpu.read_control(inst.rd);
            m.w::<T>(inst.rt, v);
        }
        Ctc1 => {
            let v = m.r::<T>(inst.rt, crate::events::SLOT_RT);
            fpu.write_control(inst.rd, v);
        }
        // MOVF/MOVT, the GPR move on an FPU condition code, sits in the SPECIAL opcode space.
        FpuArith if inst.word >> 26 == 0 => {
            let w = inst.word;
            let (rs, rd) = (((w >> 21) & 31) as u8, ((w >> 11) & 31) as u8);
            let (cc, on_true) = (((w >> 18) & 7) as u8, w & (1 << 16) != 0);
            let source = m.r::<T>(rs, crate::events::SLOT_RS);
            let old = m.regs[rd as usize];
            // The destination is written either way, with its old value when the condition fails.
            m.w::<T>(
                rd,
                if fpu.condition(cc) == on_true {
                    source
                } else {
                    old
                },
            );
        }
        FpuArith if inst.word >> 26 == COP1X => cop1x::<T>(m, fpu, inst)?,
        FpuArith => arith::<T>(m, fpu, inst)?,
        _ => return Err(unsupported(m, inst, "not a COP1 instruction")),
    }
    Ok(())
}

/// COP1X: indexed FPU loads/stores and the multiply-add family. MADD/MSUB/NMADD/NMSUB are *unfused*
/// before Release 6 (the product is rounded before the addition), as qemu implements them too.
fn cop1x<const T: bool>(
    m: &mut Machine,
    fpu: &mut Fpu,
    inst: Instruction,
) -> Result<(), ExecError> {
    let w = inst.word;
    let (fr, ft, fs, fd, funct) = (
        (w >> 21) & 31,
        (w >> 16) & 31,
        (w >> 11) & 31,
        (w >> 6) & 31,
        w & 63,
    );
    match funct {
        // LWXC1, LDXC1, LUXC1, SWXC1, SDXC1, SUXC1: address = GPR[base (fr field)] + GPR[index (ft field)].
        0x00 | 0x01 | 0x05 | 0x08 | 0x09 | 0x0d => {
            let base = m.r::<T>(fr as u8, crate::events::SLOT_RS);
            let index = m.r::<T>(ft as u8, crate::events::SLOT_RT);
            let mut addr = base.wrapping_add(index);
            let store = funct & 0x08 != 0;
            let reg = if store { fs } else { fd };
            let words = if funct & 7 == 0 { 1 } else { 2 };
            if funct & 7 == 5 {
                // LUXC1/SUXC1 ignore the low three address bits.
                addr &= !7;
            }
            if words == 2 && reg & 1 != 0 {
                return Err(unsupported(
                    m,
                    inst,
                    "indexed doubleword FPU access of an odd register (FR = 0)",
                ));
            }
            if addr & (4 * words - 1) != 0 {
                return Err(fault(
                    m,
                    inst,
                    MemFault::Misaligned {
                        addr,
                        size: 4 * words,
                    },
                ));
            }
            for half in 0..words {
                let a = addr.wrapping_add(4 * half);
                let r = (reg + half) as usize;
                if store {
                    let prev = m
                        .mem
                        .store_word(a, fpu.fpr[r])
                        .map_err(|f| fault(m, inst, f))?;
                    if T {
                        m.rec.mem(a, prev, fpu.fpr[r], SLOT_MEM + half as u64);
                    }
                } else {
                    let v = m.mem.load_word(a).map_err(|f| fault(m, inst, f))?;
                    if T {
                        m.rec.mem(a, v, v, SLOT_MEM + half as u64);
                    }
                    fpu.fpr[r] = v;
                }
            }
        }
        // PREFX: a hint.
        0x0f => {}
        0x20 | 0x21 | 0x28 | 0x29 | 0x30 | 0x31 | 0x38 | 0x39 => {
            if fpu.rounding_mode() != 0 {
                return Err(unsupported(
                    m,
                    inst,
                    "FPU multiply-add with a rounding mode other than round-to-nearest",
                ));
            }
            let double = funct & 7 == 1;
            if double && (fr | ft | fs | fd) & 1 != 0 {
                return Err(unsupported(
                    m,
                    inst,
                    "double-precision operand in an odd FPU register (FR = 0)",
                ));
            }
            let subtract = funct & 0x08 != 0;
            let negate = funct & 0x10 != 0;
            if double {
                let product = fpu.double(fs) * fpu.double(ft);
                let sum = if subtract {
                    product - fpu.double(fr)
                } else {
                    product + fpu.double(fr)
                };
                fpu.set_double(fd, if negate { -sum } else { sum });
            } else {
                let product = fpu.single(fs) * fpu.single(ft);
                let sum = if subtract {
                    product - fpu.single(fr)
                } else {
                    product + fpu.single(fr)
                };
                fpu.set_single(fd, if negate { -sum } else { sum });
            }
        }
        _ => {
            return Err(unsupported(
                m,
                inst,
                "this COP1X instruction (paired single is not supported)",
            ));
        }
    }
    Ok(())
}

/// A float-to-word conversion with rounding mode `rm` (0 nearest-even, 1 toward zero, 2 up, 3 down).
fn to_word(v: f64, rm: u32) -> u32 {
    let r = match rm {
        0 => v.round_ties_even(),
        1 => v.trunc(),
        2 => v.ceil(),
        _ => v.floor(),
    };
    // NaN is outside every range, so it lands here too.
    if !(-2147483648.0..2147483648.0).contains(&r) {
        INVALID_WORD
    } else {
        r as i32 as u32
    }
}

fn arith<const T: bool>(
    m: &mut Machine,
    fpu: &mut Fpu,
    inst: Instruction,
) -> Result<(), ExecError> {
    let w = inst.word;
    let fmt = (w >> 21) & 31;
    let ft = (w >> 16) & 31;
    let fs = (w >> 11) & 31;
    let fd = (w >> 6) & 31;
    let funct = w & 63;
    let double = fmt == FMT_D;
    if fmt == FMT_L {
        return Err(unsupported(
            m,
            inst,
            "64-bit fixed-point (L) FPU format (needs FR = 1)",
        ));
    }
    if odd_double_operand(fmt, funct, fd, fs, ft) {
        return Err(unsupported(
            m,
            inst,
            "double-precision operand in an odd FPU register (FR = 0)",
        ));
    }
    if fmt == FMT_W {
        let v = fpu.fpr[fs as usize] as i32;
        match funct {
            0x20 => fpu.set_single(fd, v as f32),
            0x21 => fpu.set_double(fd, v as f64),
            _ => return Err(unsupported(m, inst, "FPU operation on format W")),
        }
        return Ok(());
    }
    let needs_default_rounding = matches!(funct, 0x00..=0x04 | 0x20 | 0x21);
    if needs_default_rounding && fpu.rounding_mode() != 0 {
        return Err(unsupported(
            m,
            inst,
            "FPU arithmetic with a rounding mode other than round-to-nearest",
        ));
    }
    let get = |fpu: &Fpu, r: u32| {
        if double {
            fpu.double(r)
        } else {
            fpu.single(r) as f64
        }
    };
    // Results are computed in the operation's own precision (f32 ops on f32 values) to get IEEE single
    // rounding, not double rounding through f64.
    macro_rules! binop {
        ($op:tt) => {
            if double {
                let v = fpu.double(fs) $op fpu.double(ft);
                fpu.set_double(fd, v);
            } else {
                let v = fpu.single(fs) $op fpu.single(ft);
                fpu.set_single(fd, v);
            }
        };
    }
    match funct {
        0x00 => binop!(+),
        0x01 => binop!(-),
        0x02 => binop!(*),
        0x03 => binop!(/),
        0x04 => {
            if double {
                fpu.set_double(fd, fpu.double(fs).sqrt());
            } else {
                fpu.set_single(fd, fpu.single(fs).sqrt());
            }
        }
        // ABS/MOV/NEG only touch the sign bit (no arithmetic, so NaNs pass through).
        0x05..=0x07 => {
            if double {
                let bits = fpu.double(fs).to_bits();
                let sign = 1u64 << 63;
                let r = match funct {
                    0x05 => bits & !sign,
                    0x06 => bits,
                    _ => bits ^ sign,
                };
                fpu.set_double_bits(fd, r);
            } else {
                let bits = fpu.fpr[fs as usize];
                let sign = 1u32 << 31;
                fpu.fpr[fd as usize] = match funct {
                    0x05 => bits & !sign,
                    0x06 => bits,
                    _ => bits ^ sign,
                };
            }
        }
        0x08..=0x0b => {
            return Err(unsupported(
                m,
                inst,
                "conversion to 64-bit fixed point (needs FR = 1)",
            ));
        }
        0x0c..=0x0f => {
            // ROUND, TRUNC, CEIL, FLOOR map onto rounding modes 0, 1, 2, 3.
            fpu.fpr[fd as usize] = to_word(get(fpu, fs), funct - 0x0c);
        }
        0x11 => {
            let cc = (ft >> 2) as u8;
            let on_true = ft & 1 != 0;
            if fpu.condition(cc) == on_true {
                move_fmt(fpu, fd, fs, double);
            }
        }
        0x12 | 0x13 => {
            let g = m.r::<T>(ft as u8, crate::events::SLOT_RT);
            if (g == 0) == (funct == 0x12) {
                move_fmt(fpu, fd, fs, double);
            }
        }
        0x20 => {
            if double {
                fpu.set_single(fd, fpu.double(fs) as f32);
            } else {
                return Err(unsupported(m, inst, "CVT.S.S"));
            }
        }
        0x21 => {
            if double {
                return Err(unsupported(m, inst, "CVT.D.D"));
            }
            fpu.set_double(fd, fpu.single(fs) as f64);
        }
        0x24 => fpu.fpr[fd as usize] = to_word(get(fpu, fs), fpu.rounding_mode()),
        0x30..=0x3f => {
            let (a, b) = (get(fpu, fs), get(fpu, ft));
            let cond = funct & 15;
            let unordered = a.is_nan() || b.is_nan();
            let result = (unordered && cond & 1 != 0)
                || (!unordered && a == b && cond & 2 != 0)
                || (!unordered && a < b && cond & 4 != 0);
            fpu.set_condition((fd >> 2) as u8, result);
        }
        _ => return Err(unsupported(m, inst, "this FPU arithmetic operation")),
    }
    Ok(())
}

/// With FR = 0 a double occupies an even/odd pair, so naming an odd register for one is invalid.
fn odd_double_operand(fmt: u32, funct: u32, fd: u32, fs: u32, ft: u32) -> bool {
    let double = fmt == FMT_D;
    let (fd_d, fs_d, ft_d) = match funct {
        0x00..=0x03 => (double, double, double),
        0x04..=0x07 | 0x11..=0x13 => (double, double, false),
        0x0c..=0x0f | 0x20 | 0x24 => (false, double, false),
        0x21 => (true, double, false),
        0x30..=0x3f => (false, double, double),
        _ => (false, false, false),
    };
    (fd_d && fd & 1 != 0) || (fs_d && fs & 1 != 0) || (ft_d && ft & 1 != 0)
}

fn move_fmt(fpu: &mut Fpu, fd: u32, fs: u32, double: bool) {
    if double {
        let bits = fpu.double(fs).to_bits();
        fpu.set_double_bits(fd, bits);
    } else {
        fpu.fpr[fd as usize] = fpu.fpr[fs as usize];
    }
}

/// These run the slow path directly on hand-made `FpuArith` instructions (the operands come from the
/// word). Expected values were checked against qemu-mipsel.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Memory;
    use crate::record::Recorder;

    fn machine() -> Machine {
        Machine {
            regs: [0; 32],
            hi: 0,
            lo: 0,
            pc: 0x40_0000,
            next_pc: 0x40_0004,
            llbit: false,
            mem: Memory::new(),
            word: 0,
            tracing: false,
            rec: Recorder::new(false),
        }
    }

    fn run(m: &mut Machine, fpu: &mut Fpu, word: u32) -> Result<(), ExecError> {
        let inst = Instruction {
            opcode: Opcode::FpuArith,
            rs: 0,
            rt: 0,
            rd: 0,
            sa: 0,
            imm: 0,
            word,
        };
        exec::<false>(m, fpu, inst)
    }

    fn set_d(fpu: &mut Fpu, r: u32, v: f64) {
        fpu.set_double_bits(r, v.to_bits());
    }

    #[test]
    fn movf_movt_on_condition_codes() {
        let (mut m, mut fpu) = (machine(), Fpu::default());
        m.regs[4] = 77;
        m.regs[5] = 5;
        // movf a1, a0, $fcc7 (0x001c2801 is `movf a1,zero,$fcc7`; here rs = a0).
        let movf_cc7 = (4 << 21) | (7 << 18) | (5 << 11) | 1;
        run(&mut m, &mut fpu, movf_cc7).unwrap();
        assert_eq!(m.regs[5], 77, "cc7 clear: MOVF moves");
        m.regs[5] = 5;
        fpu.set_condition(7, true);
        run(&mut m, &mut fpu, movf_cc7).unwrap();
        assert_eq!(m.regs[5], 5, "cc7 set: MOVF keeps");
        run(&mut m, &mut fpu, movf_cc7 | (1 << 16)).unwrap();
        assert_eq!(m.regs[5], 77, "cc7 set: MOVT moves");
    }

    #[test]
    fn multiply_add_is_unfused() {
        let (mut m, mut fpu) = (machine(), Fpu::default());
        let x = 1.0 + 2f64.powi(-30);
        let c = -(1.0 + 2f64.powi(-29));
        set_d(&mut fpu, 0, x);
        set_d(&mut fpu, 2, x);
        set_d(&mut fpu, 4, c);
        run(&mut m, &mut fpu, 0x4c8201a1).unwrap(); // madd.d $f6, $f4, $f0, $f2
        assert_eq!(fpu.double(6), 0.0); // a fused operation would give 2^-60
        run(&mut m, &mut fpu, 0x4c820039).unwrap(); // nmsub.d $f0, $f4, $f0, $f2
        assert_eq!(fpu.double(0), -(2.0 + 2f64.powi(-28)));
        // Single precision: 2*3+1, 2*3-1, -(2*3+1), -(2*3-1).
        fpu.fpr[1] = 2f32.to_bits();
        fpu.fpr[2] = 3f32.to_bits();
        fpu.fpr[3] = 1f32.to_bits();
        let cop1x =
            |funct: u32| (COP1X << 26) | (3 << 21) | (2 << 16) | (1 << 11) | (8 << 6) | funct;
        for (funct, want) in [(0x20, 7.0f32), (0x28, 5.0), (0x30, -7.0), (0x38, -5.0)] {
            run(&mut m, &mut fpu, cop1x(funct)).unwrap();
            assert_eq!(f32::from_bits(fpu.fpr[8]), want, "funct {funct:#x}");
        }
        // Paired single is refused by name.
        assert!(matches!(
            run(&mut m, &mut fpu, cop1x(0x26)),
            Err(ExecError::UnsupportedInstruction { .. })
        ));
    }

    #[test]
    fn indexed_loads_and_stores() {
        let (mut m, mut fpu) = (machine(), Fpu::default());
        m.mem.poke_bytes(0x2000, &(1..=16).collect::<Vec<u8>>());
        m.regs[8] = 0x1ff8; // base
        m.regs[9] = 8; // index
        let cop1x = |funct: u32, fs: u32, fd: u32| {
            (COP1X << 26) | (8 << 21) | (9 << 16) | (fs << 11) | (fd << 6) | funct
        };
        run(&mut m, &mut fpu, cop1x(0x01, 0, 2)).unwrap(); // ldxc1 $f2, t1(t0)
        assert_eq!((fpu.fpr[2], fpu.fpr[3]), (0x0403_0201, 0x0807_0605));
        run(&mut m, &mut fpu, cop1x(0x00, 0, 5)).unwrap(); // lwxc1 $f5
        assert_eq!(fpu.fpr[5], 0x0403_0201);
        m.regs[9] = 12; // 0x2004: LUXC1 rounds down to 0x2000
        run(&mut m, &mut fpu, cop1x(0x05, 0, 6)).unwrap();
        assert_eq!((fpu.fpr[6], fpu.fpr[7]), (0x0403_0201, 0x0807_0605));
        // LDXC1 needs 8-byte alignment; SWXC1 stores.
        assert!(matches!(
            run(&mut m, &mut fpu, cop1x(0x01, 0, 2)),
            Err(ExecError::MisalignedAccess { size: 8, .. })
        ));
        run(&mut m, &mut fpu, cop1x(0x08, 5, 0)).unwrap(); // swxc1 $f5 at 0x2004
        assert_eq!(m.mem.peek_word(0x2004), 0x0403_0201);
        m.regs[9] = 16;
        run(&mut m, &mut fpu, cop1x(0x09, 2, 0)).unwrap(); // sdxc1 $f2 at 0x2008
        assert_eq!(
            (m.mem.peek_word(0x2008), m.mem.peek_word(0x200c)),
            (0x0403_0201, 0x0807_0605)
        );
    }
}
