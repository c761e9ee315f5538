//! The FPU slow path: moves, loads/stores (FR = 0 register pairs), arithmetic, compares and BC1 branches.

mod common;

use common::*;
use zkmips_executor::{ExecError, Mode};

const COP1: u32 = 0x11 << 26;
const S: u32 = 0x10;
const D: u32 = 0x11;
const W: u32 = 0x14;

fn mfc1(rt: u32, fs: u32) -> u32 {
    COP1 | (rt << 16) | (fs << 11)
}
fn mtc1(rt: u32, fs: u32) -> u32 {
    COP1 | (4 << 21) | (rt << 16) | (fs << 11)
}
fn mfhc1(rt: u32, fs: u32) -> u32 {
    COP1 | (3 << 21) | (rt << 16) | (fs << 11)
}
fn mthc1(rt: u32, fs: u32) -> u32 {
    COP1 | (7 << 21) | (rt << 16) | (fs << 11)
}
fn cfc1(rt: u32, fcr: u32) -> u32 {
    COP1 | (2 << 21) | (rt << 16) | (fcr << 11)
}
fn ctc1(rt: u32, fcr: u32) -> u32 {
    COP1 | (6 << 21) | (rt << 16) | (fcr << 11)
}
fn arith(fmt: u32, funct: u32, fd: u32, fs: u32, ft: u32) -> u32 {
    COP1 | (fmt << 21) | (ft << 16) | (fs << 11) | (fd << 6) | funct
}
fn compare(fmt: u32, cond: u32, cc: u32, fs: u32, ft: u32) -> u32 {
    arith(fmt, 0x30 | cond, cc << 2, fs, ft)
}
fn bc1(cc: u32, likely: bool, on_true: bool, off: i32) -> u32 {
    COP1 | (8 << 21)
        | (cc << 18)
        | ((likely as u32) << 17)
        | ((on_true as u32) << 16)
        | (off as u32 & 0xffff)
}

/// Put `bits` (a double) into FPU pair `f`, `f+1` via $t0/$t1.
fn set_d(f: u32, v: f64) -> Vec<u32> {
    let bits = v.to_bits();
    let mut w = li(T0, bits as u32).to_vec();
    w.extend(li(T1, (bits >> 32) as u32));
    w.extend([mtc1(T0, f), mthc1(T1, f)]);
    w
}
fn set_s(f: u32, v: f32) -> Vec<u32> {
    let mut w = li(T0, v.to_bits()).to_vec();
    w.push(mtc1(T0, f));
    w
}
/// Read FPU pair `f` into ($t2 low, $t3 high) and return the double after running.
fn get_d(body: &[u32], f: u32) -> f64 {
    let mut b = body.to_vec();
    b.extend([mfc1(T2, f), mfhc1(T3, f)]);
    let e = run_both(&b, &[]);
    f64::from_bits(((e.reg(T3 as usize) as u64) << 32) | e.reg(T2 as usize) as u64)
}
fn get_w(body: &[u32], f: u32) -> u32 {
    let mut b = body.to_vec();
    b.push(mfc1(T2, f));
    run_both(&b, &[]).reg(T2 as usize)
}

#[test]
fn moves_loads_stores_and_pairs() {
    let data: Vec<u8> = (1..=16).collect();
    let mut body = li(S0, DATA).to_vec();
    body.push(itype(0x35, S0, 2, 0)); // ldc1 $f2, 0(s0)
    body.push(itype(0x31, S0, 5, 8)); // lwc1 $f5, 8(s0)
    body.push(itype(0x3d, S0, 2, 8)); // sdc1 $f2, 8(s0)
    body.push(itype(0x39, S0, 5, 4)); // swc1 $f5, 4(s0)
    body.extend([
        mfc1(T2, 2),
        mfc1(T3, 3),
        lw(T4, 4, S0),
        lw(A1, 8, S0),
        lw(A2, 12, S0),
    ]);
    let e = run_both(&body, &data);
    let word = |i: usize| u32::from_le_bytes(data[i..i + 4].try_into().unwrap());
    assert_eq!(e.reg(T2 as usize), word(0)); // low word in the even register
    assert_eq!(e.reg(T3 as usize), word(4));
    assert_eq!(e.reg(T4 as usize), word(8));
    assert_eq!((e.reg(A1 as usize), e.reg(A2 as usize)), (word(0), word(4)));
    assert_eq!(e.fpu().fpr[5], word(8));
    // LDC1 needs 8-byte alignment and an even register.
    let mut body = li(S0, DATA + 4).to_vec();
    body.push(itype(0x35, S0, 2, 0));
    assert!(matches!(
        run_err(&body, &[]),
        ExecError::MisalignedAccess { size: 8, .. }
    ));
    let mut body = li(S0, DATA).to_vec();
    body.push(itype(0x35, S0, 3, 0));
    assert!(matches!(
        run_err(&body, &[]),
        ExecError::UnsupportedInstruction { .. }
    ));
}

#[test]
fn arithmetic_single_and_double() {
    let mut b = set_d(2, 1.5);
    b.extend(set_d(4, 2.25));
    for (funct, expect) in [(0, 3.75), (1, -0.75), (2, 3.375), (3, 1.5 / 2.25)] {
        let mut body = b.clone();
        body.push(arith(D, funct, 6, 2, 4));
        assert_eq!(get_d(&body, 6), expect, "funct {funct}");
    }
    let mut body = set_d(2, 2.0);
    body.push(arith(D, 4, 6, 2, 0)); // sqrt.d
    assert_eq!(get_d(&body, 6), 2f64.sqrt());
    let mut body = set_d(2, -2.0);
    body.push(arith(D, 5, 6, 2, 0)); // abs.d
    body.push(arith(D, 7, 8, 6, 0)); // neg.d
    body.push(arith(D, 6, 10, 8, 0)); // mov.d
    assert_eq!(get_d(&body, 10), -2.0);
    // Single precision rounds as f32, not via f64.
    let mut body = set_s(1, 16777216.0);
    body.extend(set_s(2, 1.0));
    body.push(arith(S, 0, 3, 1, 2));
    assert_eq!(f32::from_bits(get_w(&body, 3)), 16777216.0f32 + 1.0f32);
    // Division by zero gives infinity; 0/0 gives the legacy-MIPS default NaN.
    let mut body = set_s(1, 1.0);
    body.extend(set_s(2, 0.0));
    body.push(arith(S, 3, 3, 1, 2));
    body.push(arith(S, 3, 4, 2, 2));
    let mut with_read = body.clone();
    with_read.push(mfc1(T3, 4));
    let e = run_both(&with_read, &[]);
    assert_eq!(e.fpu().fpr[3], f32::INFINITY.to_bits());
    assert_eq!(e.reg(T3 as usize), 0x7fbf_ffff);
}

#[test]
fn conversions() {
    // cvt.d.w, cvt.s.d, cvt.d.s
    let mut body = li(T0, (-7i32) as u32).to_vec();
    body.push(mtc1(T0, 1));
    body.push(arith(W, 0x21, 2, 1, 0));
    assert_eq!(get_d(&body, 2), -7.0);
    body.push(arith(D, 0x20, 4, 2, 0));
    assert_eq!(f32::from_bits(get_w(&body, 4)), -7.0);
    body.push(arith(S, 0x21, 6, 4, 0));
    assert_eq!(get_d(&body, 6), -7.0);
    // round/trunc/ceil/floor.w.d on -2.5 and 2.5; out of range and NaN give 0x7fffffff.
    for (v, expect) in [
        (-2.5, [-2i32, -2, -2, -3]),
        (2.5, [2, 2, 3, 2]),
        (3.5, [4, 3, 4, 3]),
    ] {
        for (i, want) in expect.iter().enumerate() {
            let mut body = set_d(2, v);
            body.push(arith(D, 0x0c + i as u32, 4, 2, 0));
            assert_eq!(get_w(&body, 4) as i32, *want, "v {v} op {i}");
        }
    }
    for v in [3e9, f64::NAN, -3e9] {
        let mut body = set_d(2, v);
        body.push(arith(D, 0x0d, 4, 2, 0));
        assert_eq!(get_w(&body, 4), 0x7fff_ffff, "v {v}");
    }
    // cvt.w.d follows FCSR.RM: 1 = toward zero, 3 = down.
    for (rm, want) in [(0u32, -2i32), (1, -2), (2, -2), (3, -3)] {
        let mut body = li(T4, rm).to_vec();
        body.push(ctc1(T4, 31));
        body.extend(set_d(2, -2.5));
        body.push(arith(D, 0x24, 4, 2, 0));
        assert_eq!(get_w(&body, 4) as i32, want, "rm {rm}");
    }
}

#[test]
fn compares_and_bc1_branches() {
    // c.lt.d 1.0 < 2.0 -> true; bc1t taken skips t3.
    let case = |cond: u32, a: f64, b: f64, br: u32| {
        let mut body = set_d(2, a);
        body.extend(set_d(4, b));
        body.push(compare(D, cond, 0, 2, 4));
        body.extend([
            br,
            addiu(T2, ZERO, 5),
            addiu(T3, ZERO, 7),
            addiu(T4, ZERO, 9),
        ]);
        let e = run_both(&body, &[]);
        (e.reg(T2 as usize) == 5, e.reg(T3 as usize) == 7)
    };
    let taken = (true, false);
    let not_taken = (true, true);
    let annulled = (false, true);
    assert_eq!(case(0xc, 1.0, 2.0, bc1(0, false, true, 2)), taken); // c.lt, bc1t
    assert_eq!(case(0xc, 2.0, 1.0, bc1(0, false, true, 2)), not_taken);
    assert_eq!(case(0xc, 2.0, 1.0, bc1(0, false, false, 2)), taken); // bc1f
    assert_eq!(case(0xc, 1.0, 2.0, bc1(0, true, false, 2)), annulled); // bc1fl not taken
    assert_eq!(case(0x2, 1.0, 1.0, bc1(0, false, true, 2)), taken); // c.eq
    assert_eq!(case(0xe, 1.0, 1.0, bc1(0, false, true, 2)), taken); // c.le
    assert_eq!(case(0x1, f64::NAN, 1.0, bc1(0, false, true, 2)), taken); // c.un
    assert_eq!(case(0xc, f64::NAN, 1.0, bc1(0, false, true, 2)), not_taken); // c.lt unordered
    assert_eq!(case(0x5, f64::NAN, 1.0, bc1(0, false, true, 2)), taken); // c.ult
    // Condition codes 1..7 live in FCSR bits 25..31.
    let mut body = set_s(1, 1.0);
    body.push(compare(S, 0x2, 3, 1, 1));
    body.push(cfc1(T2, 31));
    body.push(cfc1(T3, 25));
    let e = run_both(&body, &[]);
    assert_eq!(e.reg(T2 as usize), 1 << 27);
    assert_eq!(e.reg(T3 as usize), 1 << 3);
}

#[test]
fn control_registers_and_fpu_use_report() {
    let mut body = vec![cfc1(T2, 0)];
    body.extend(li(T0, 0x0100_0003));
    body.extend([ctc1(T0, 31), cfc1(T3, 31), cfc1(T4, 28)]);
    let (e, report) = run_report(&body, &[], config(Mode::Fast));
    assert_eq!(e.reg(T2 as usize), (1 << 16) | (1 << 17) | (1 << 20));
    assert_eq!(e.reg(T3 as usize), 0x0100_0003);
    assert_eq!(e.reg(T4 as usize), 0x3 | 4);
    assert_eq!(
        report.used_fpu,
        Some(zkmips_executor::FpuUse {
            pc: pc_of(0),
            word: cfc1(T2, 0)
        })
    );
    // Arithmetic under a non-default rounding mode is refused rather than silently wrong.
    let mut body = li(T0, 1).to_vec();
    body.push(ctc1(T0, 31));
    body.push(arith(S, 0, 3, 1, 2));
    assert!(
        matches!(run_err(&body, &[]), ExecError::UnsupportedInstruction { pc, .. } if pc == pc_of(3))
    );
}
