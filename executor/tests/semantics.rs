//! Per-instruction semantics on hand-encoded programs, with edge values.

mod common;

use common::*;
use zkmips_executor::{ExecError, Mode, TrapKind};

/// Run `inst` with `$t0 = a`, `$t1 = b` (and `$t2 = c` beforehand); return the executor.
fn with3(inst: u32, a: u32, b: u32, c: u32) -> zkmips_executor::Executor {
    let mut body = Vec::new();
    body.extend(li(T0, a));
    body.extend(li(T1, b));
    body.extend(li(T2, c));
    body.push(inst);
    run_both(&body, &[])
}

/// `$t2 = op($t0, $t1)` for an R-type instruction `special(funct, t0, t1, t2, 0)`.
fn rtype(funct: u32, a: u32, b: u32) -> u32 {
    with3(special(funct, T0, T1, T2, 0), a, b, 0xdead_beef).reg(T2 as usize)
}

fn rtype_err(funct: u32, a: u32, b: u32) -> ExecError {
    let mut body = Vec::new();
    body.extend(li(T0, a));
    body.extend(li(T1, b));
    body.push(special(funct, T0, T1, T2, 0));
    run_err(&body, &[])
}

/// `$t2 = op($t0, imm)` for an I-type instruction.
fn itype_op(op: u32, a: u32, imm: i32) -> u32 {
    with3(itype(op, T0, T2, imm), a, 0, 0xdead_beef).reg(T2 as usize)
}

const MIN: u32 = 0x8000_0000;
const MAX: u32 = 0x7fff_ffff;

#[test]
fn add_sub_overflow_traps() {
    assert_eq!(rtype(0x20, 1, 2), 3);
    assert_eq!(rtype(0x20, MIN, MAX), u32::MAX);
    assert_eq!(rtype(0x22, 5, 7), (-2i32) as u32);
    let overflow = |e: ExecError| {
        matches!(
            e,
            ExecError::Trap {
                kind: TrapKind::IntegerOverflow,
                ..
            }
        )
    };
    assert!(overflow(rtype_err(0x20, MAX, 1)));
    assert!(overflow(rtype_err(0x20, MIN, u32::MAX)));
    assert!(overflow(rtype_err(0x22, MIN, 1)));
    assert!(overflow(rtype_err(0x22, MAX, u32::MAX)));
    // ADDI overflows too; ADDIU/ADDU/SUBU wrap.
    let mut body = li(T0, MAX).to_vec();
    body.push(itype(0x08, T0, T2, 1));
    assert!(overflow(run_err(&body, &[])));
    assert_eq!(itype_op(0x08, 5, -6), u32::MAX);
    assert_eq!(itype_op(0x09, MAX, 1), MIN);
    assert_eq!(rtype(0x21, u32::MAX, 2), 1);
    assert_eq!(rtype(0x23, 0, 1), u32::MAX);
}

#[test]
fn overflowing_add_leaves_destination_unchanged() {
    let mut body = li(T0, MAX).to_vec();
    body.extend(li(T2, 0x1234));
    body.push(special(0x20, T0, T0, T2, 0));
    let p = program(&body, &[]);
    let mut e = zkmips_executor::Executor::new(&p, config(Mode::Fast)).unwrap();
    let err = e.run().unwrap_err();
    assert_eq!(
        err,
        ExecError::Trap {
            pc: pc_of(4),
            word: special(0x20, T0, T0, T2, 0),
            kind: TrapKind::IntegerOverflow
        }
    );
    assert_eq!(e.reg(T2 as usize), 0x1234);
}

#[test]
fn logic_and_compare() {
    assert_eq!(rtype(0x24, 0xff00_ff00, 0x0ff0_0ff0), 0x0f00_0f00);
    assert_eq!(rtype(0x25, 0xff00_ff00, 0x0ff0_0ff0), 0xfff0_fff0);
    assert_eq!(rtype(0x26, 0xff00_ff00, 0x0ff0_0ff0), 0xf0f0_f0f0);
    assert_eq!(rtype(0x27, 0xff00_ff00, 0x0ff0_0ff0), 0x000f_000f);
    assert_eq!(rtype(0x2a, u32::MAX, 0), 1); // -1 < 0 signed
    assert_eq!(rtype(0x2b, u32::MAX, 0), 0); // unsigned
    assert_eq!(rtype(0x2a, MIN, MAX), 1);
    assert_eq!(rtype(0x2a, 3, 3), 0);
    // Immediates: SLTI/SLTIU sign-extend, ANDI/ORI/XORI zero-extend.
    assert_eq!(itype_op(0x0a, u32::MAX, 0), 1);
    assert_eq!(itype_op(0x0b, 5, -1), 1); // 5 < 0xffffffff unsigned
    assert_eq!(itype_op(0x0b, u32::MAX, -1), 0);
    assert_eq!(itype_op(0x0c, u32::MAX, 0x8001u16 as i16 as i32), 0x8001);
    assert_eq!(
        itype_op(0x0d, 0x1234_0000, 0xffffu16 as i16 as i32),
        0x1234_ffff
    );
    assert_eq!(
        itype_op(0x0e, 0xffff_ffff, 0x00ffu16 as i16 as i32),
        0xffff_ff00
    );
    assert_eq!(
        with3(lui(T2, 0x8765), 0, 0, 1).reg(T2 as usize),
        0x8765_0000
    );
}

#[test]
fn shifts_and_rotates() {
    let sh = |funct: u32, rs: u32, v: u32, sa: u32| {
        with3(special(funct, rs, T1, T2, sa), 0, v, 0).reg(T2 as usize)
    };
    let v = 0x8000_0001;
    assert_eq!(sh(0x00, 0, v, 0), v);
    assert_eq!(sh(0x00, 0, v, 31), MIN);
    assert_eq!(sh(0x02, 0, v, 31), 1);
    assert_eq!(sh(0x03, 0, v, 31), u32::MAX);
    assert_eq!(sh(0x03, 0, 0x4000_0000, 30), 1);
    assert_eq!(sh(0x02, 1, v, 1), 0xc000_0000); // ROTR by 1
    assert_eq!(sh(0x02, 1, v, 0), v);
    assert_eq!(sh(0x02, 1, 0x1234_5678, 31), 0x2468_acf0);
    // Variable shifts use the low 5 bits of rs ($t0).
    let shv = |funct: u32, sa: u32, v: u32, amount: u32| {
        with3(special(funct, T0, T1, T2, sa), amount, v, 0).reg(T2 as usize)
    };
    assert_eq!(shv(0x04, 0, 1, 33), 2);
    assert_eq!(shv(0x04, 0, 1, 31), MIN);
    assert_eq!(shv(0x06, 0, MIN, 0x3f), 1);
    assert_eq!(shv(0x07, 0, MIN, 31), u32::MAX);
    assert_eq!(shv(0x07, 0, MIN, 32), MIN);
    assert_eq!(shv(0x06, 1, 0x1234_5678, 4), 0x8123_4567); // ROTRV
    assert_eq!(shv(0x06, 1, 0x1234_5678, 32), 0x1234_5678);
}

#[test]
fn movz_movn() {
    // MOVZ t2 = t0 if t1 == 0
    assert_eq!(
        with3(special(0x0a, T0, T1, T2, 0), 7, 0, 9).reg(T2 as usize),
        7
    );
    assert_eq!(
        with3(special(0x0a, T0, T1, T2, 0), 7, 1, 9).reg(T2 as usize),
        9
    );
    assert_eq!(
        with3(special(0x0b, T0, T1, T2, 0), 7, 1, 9).reg(T2 as usize),
        7
    );
    assert_eq!(
        with3(special(0x0b, T0, T1, T2, 0), 7, 0, 9).reg(T2 as usize),
        9
    );
}

#[test]
fn clz_clo() {
    let c = |funct: u32, v: u32| with3(special2(funct, T0, T2, T2), v, 0, 0xdead).reg(T2 as usize);
    assert_eq!(c(0x20, 0), 32);
    assert_eq!(c(0x20, u32::MAX), 0);
    assert_eq!(c(0x20, 1), 31);
    assert_eq!(c(0x21, 0), 0);
    assert_eq!(c(0x21, u32::MAX), 32);
    assert_eq!(c(0x21, 0xfff0_0000), 12);
}

#[test]
fn seb_seh_wsbh() {
    let b = |sa: u32, v: u32| with3(special3(0x20, 0, T1, T2, sa), 0, v, 0).reg(T2 as usize);
    assert_eq!(b(0x10, 0x0000_0080), 0xffff_ff80);
    assert_eq!(b(0x10, 0xffff_ff7f), 0x7f);
    assert_eq!(b(0x18, 0x1234_8000), 0xffff_8000);
    assert_eq!(b(0x18, 0xffff_7fff), 0x7fff);
    assert_eq!(b(0x02, 0x1122_3344), 0x2211_4433);
}

#[test]
fn ext_ins_extremes() {
    // EXT rt=t2, rs=t0, msbd = size-1 in rd, lsb in sa.
    let ext = |v: u32, pos: u32, size: u32| {
        with3(special3(0x00, T0, T2, size - 1, pos), v, 0, 0).reg(T2 as usize)
    };
    assert_eq!(ext(0xdead_beef, 0, 32), 0xdead_beef);
    assert_eq!(ext(0xdead_beef, 31, 1), 1);
    assert_eq!(ext(0xdead_beef, 0, 1), 1);
    assert_eq!(ext(0xdead_beef, 4, 8), 0xee);
    assert_eq!(ext(0xdead_beef, 16, 16), 0xdead);
    // INS rt=t2, rs=t0, msb in rd, lsb in sa.
    let ins = |v: u32, old: u32, pos: u32, size: u32| {
        with3(special3(0x04, T0, T2, pos + size - 1, pos), v, 0, old).reg(T2 as usize)
    };
    assert_eq!(ins(0x1234_5678, 0xffff_ffff, 0, 32), 0x1234_5678);
    assert_eq!(ins(0xffff_ffff, 0, 31, 1), MIN);
    assert_eq!(ins(0, 0xffff_ffff, 0, 1), 0xffff_fffe);
    assert_eq!(ins(0xabcd, 0x1111_1111, 8, 8), 0x1111_cd11);
}

#[test]
fn multiply_and_accumulate() {
    let hilo = |inst: u32, a: u32, b: u32, hi: u32, lo: u32| {
        let mut body = Vec::new();
        body.extend(li(T0, hi));
        body.push(special(0x11, T0, 0, 0, 0)); // mthi
        body.extend(li(T0, lo));
        body.push(special(0x13, T0, 0, 0, 0)); // mtlo
        body.extend(li(T0, a));
        body.extend(li(T1, b));
        body.push(inst);
        body.push(special(0x10, 0, 0, T3, 0)); // mfhi t3
        body.push(special(0x12, 0, 0, T4, 0)); // mflo t4
        let e = run_both(&body, &[]);
        (e.reg(T3 as usize), e.reg(T4 as usize))
    };
    let mult = special(0x18, T0, T1, 0, 0);
    let multu = special(0x19, T0, T1, 0, 0);
    assert_eq!(hilo(mult, u32::MAX, u32::MAX, 9, 9), (0, 1));
    assert_eq!(hilo(mult, MIN, MIN, 0, 0), (0x4000_0000, 0));
    assert_eq!(hilo(mult, MIN, 2, 0, 0), (u32::MAX, 0));
    assert_eq!(hilo(multu, u32::MAX, u32::MAX, 0, 0), (0xffff_fffe, 1));
    // MADD/MADDU carry from LO into HI across 64 bits; MSUB/MSUBU borrow.
    let madd = special2(0x00, T0, T1, 0);
    let maddu = special2(0x01, T0, T1, 0);
    let msub = special2(0x04, T0, T1, 0);
    let msubu = special2(0x05, T0, T1, 0);
    assert_eq!(hilo(maddu, 1, 1, 0, u32::MAX), (1, 0));
    assert_eq!(
        hilo(maddu, u32::MAX, u32::MAX, u32::MAX, u32::MAX),
        (0xffff_fffe, 0)
    );
    assert_eq!(hilo(madd, u32::MAX, 1, 0, 0), (u32::MAX, u32::MAX)); // 0 + (-1)
    assert_eq!(hilo(madd, u32::MAX, 1, 0, 1), (0, 0));
    assert_eq!(hilo(msub, 1, 1, 1, 0), (0, u32::MAX));
    assert_eq!(hilo(msubu, u32::MAX, 2, 0, 0), (0xffff_fffe, 2)); // 0 - 0x1_ffff_fffe
    assert_eq!(hilo(msub, u32::MAX, 1, 0, 0), (0, 1)); // 0 - (-1)
    // MUL writes rd and leaves HI/LO unchanged.
    let mut body = Vec::new();
    body.extend(li(T0, 0x1111));
    body.push(special(0x11, T0, 0, 0, 0));
    body.push(special(0x13, T0, 0, 0, 0));
    body.extend(li(T0, 0x1_0001));
    body.extend(li(T1, 0x1_0001));
    body.push(special2(0x02, T0, T1, T2));
    let e = run_both(&body, &[]);
    assert_eq!(e.reg(T2 as usize), 0x0002_0001);
    assert_eq!((e.hi(), e.lo()), (0x1111, 0x1111));
}

#[test]
fn divide_signs_and_by_zero() {
    let div = |funct: u32, a: u32, b: u32| {
        let e = with3(special(funct, T0, T1, 0, 0), a, b, 0);
        (e.hi(), e.lo())
    };
    let s = |v: i32| v as u32;
    assert_eq!(div(0x1a, s(7), s(2)), (1, 3));
    assert_eq!(div(0x1a, s(-7), s(2)), (s(-1), s(-3)));
    assert_eq!(div(0x1a, s(7), s(-2)), (1, s(-3)));
    assert_eq!(div(0x1a, s(-7), s(-2)), (s(-1), 3));
    assert_eq!(div(0x1a, MIN, u32::MAX), (0, MIN));
    assert_eq!(div(0x1a, s(-5), 0), (s(-5), u32::MAX));
    assert_eq!(div(0x1b, u32::MAX, 2), (1, MAX));
    assert_eq!(div(0x1b, 12345, 0), (12345, u32::MAX));
    assert_eq!(div(0x1b, 0, 0), (0, u32::MAX));
}

#[test]
fn traps() {
    let trap = |inst: u32, a: u32, b: u32| {
        let mut body = Vec::new();
        body.extend(li(T0, a));
        body.extend(li(T1, b));
        body.push(inst);
        let p = program(&body, &[]);
        let mut e = zkmips_executor::Executor::new(&p, config(Mode::Fast)).unwrap();
        match e.run() {
            Ok(_) => None,
            Err(ExecError::Trap { kind, pc, .. }) => {
                assert_eq!(pc, pc_of(4));
                Some(kind)
            }
            Err(other) => panic!("unexpected {other}"),
        }
    };
    let code7 = Some(TrapKind::Conditional { code: 7 });
    let teq = special(0x34, T0, T1, 0, 7);
    assert_eq!(trap(teq, 0, 0), code7);
    assert_eq!(trap(teq, 0, 1), None);
    let tne = special(0x36, T0, T1, 0, 0) | (3 << 6);
    assert_eq!(trap(tne, 0, 1), Some(TrapKind::Conditional { code: 3 }));
    assert_eq!(trap(tne, 5, 5), None);
    let c0 = Some(TrapKind::Conditional { code: 0 });
    assert_eq!(trap(special(0x30, T0, T1, 0, 0), 0, u32::MAX), c0); // tge 0 >= -1
    assert_eq!(trap(special(0x31, T0, T1, 0, 0), 0, u32::MAX), None); // tgeu
    assert_eq!(trap(special(0x32, T0, T1, 0, 0), u32::MAX, 0), c0); // tlt
    assert_eq!(trap(special(0x33, T0, T1, 0, 0), u32::MAX, 0), None); // tltu
    assert_eq!(trap(regimm(0x0c, T0, -1), u32::MAX, 0), c0); // teqi -1
    assert_eq!(trap(regimm(0x0e, T0, -1), u32::MAX, 0), None); // tnei
    assert_eq!(trap(regimm(0x08, T0, 0), 0, 0), c0); // tgei
    assert_eq!(trap(regimm(0x09, T0, -1), 5, 0), None); // tgeiu 5 >= 0xffffffff false
    assert_eq!(trap(regimm(0x0a, T0, 0), MIN, 0), c0); // tlti
    assert_eq!(trap(regimm(0x0b, T0, -1), 5, 0), c0); // tltiu
    let brk = special(0x0d, 0, 0, 0, 0) | (0x12345 << 6);
    assert_eq!(trap(brk, 0, 0), Some(TrapKind::Break { code: 0x12345 }));
}

#[test]
fn byte_and_half_loads_stores() {
    let data = [0x80, 0x7f, 0xff, 0x01, 0, 0, 0, 0];
    let mut body = li(S0, DATA).to_vec();
    body.push(itype(0x20, S0, T0, 0)); // lb
    body.push(itype(0x24, S0, T1, 0)); // lbu
    body.push(itype(0x21, S0, T2, 2)); // lh 0x01ff
    body.push(itype(0x21, S0, T3, 0)); // lh 0x7f80
    body.push(itype(0x25, S0, T4, 2)); // lhu
    body.extend(li(A1, 0xaabb_ccdd));
    body.push(itype(0x28, S0, A1, 5)); // sb at +5
    body.push(itype(0x29, S0, A1, 6)); // sh at +6
    body.push(lw(A2, 4, S0));
    let e = run_both(&body, &data);
    assert_eq!(e.reg(T0 as usize), 0xffff_ff80);
    assert_eq!(e.reg(T1 as usize), 0x80);
    assert_eq!(e.reg(T2 as usize), 0x01ff);
    assert_eq!(e.reg(T3 as usize), 0x7f80);
    assert_eq!(e.reg(T4 as usize), 0x01ff);
    assert_eq!(e.reg(A2 as usize), 0xccdd_dd00);
    let data = [0, 0, 0x80, 0xff];
    let mut body = li(S0, DATA).to_vec();
    body.push(itype(0x21, S0, T0, 2));
    assert_eq!(run_ok(&body, &data).reg(T0 as usize), 0xffff_ff80);
}

/// Byte-level reference models of the little-endian unaligned instructions.
fn ref_lwl(mem: [u8; 4], rt: u32, b: usize) -> u32 {
    // Bytes mem[0..=b] become the top b+1 bytes of the register.
    let mut r = rt.to_le_bytes();
    r[3 - b..].copy_from_slice(&mem[..=b]);
    u32::from_le_bytes(r)
}
fn ref_lwr(mem: [u8; 4], rt: u32, b: usize) -> u32 {
    // Bytes mem[b..4] become the low 4-b bytes of the register.
    let mut r = rt.to_le_bytes();
    r[..4 - b].copy_from_slice(&mem[b..]);
    u32::from_le_bytes(r)
}
fn ref_swl(mem: [u8; 4], rt: u32, b: usize) -> u32 {
    // The top b+1 register bytes go to mem[0..=b].
    let (mut m, r) = (mem, rt.to_le_bytes());
    m[..=b].copy_from_slice(&r[3 - b..]);
    u32::from_le_bytes(m)
}
fn ref_swr(mem: [u8; 4], rt: u32, b: usize) -> u32 {
    // The low 4-b register bytes go to mem[b..4].
    let (mut m, r) = (mem, rt.to_le_bytes());
    m[b..].copy_from_slice(&r[..4 - b]);
    u32::from_le_bytes(m)
}

#[test]
fn lwl_lwr_swl_swr_every_alignment() {
    let mem = [0x11, 0x22, 0x33, 0x44];
    let rt = 0xaabb_ccdd;
    for b in 0..4usize {
        for (op, reference) in [
            (0x22u32, ref_lwl as fn([u8; 4], u32, usize) -> u32),
            (0x26, ref_lwr),
        ] {
            let mut body = li(S0, DATA).to_vec();
            body.extend(li(T0, rt));
            body.push(itype(op, S0, T0, b as i32));
            let got = run_both(&body, &mem).reg(T0 as usize);
            assert_eq!(got, reference(mem, rt, b), "op {op:#x} offset {b}");
        }
        for (op, reference) in [
            (0x2au32, ref_swl as fn([u8; 4], u32, usize) -> u32),
            (0x2e, ref_swr),
        ] {
            let mut body = li(S0, DATA).to_vec();
            body.extend(li(T0, rt));
            body.push(itype(op, S0, T0, b as i32));
            body.push(lw(T1, 0, S0));
            let got = run_both(&body, &mem).reg(T1 as usize);
            assert_eq!(got, reference(mem, rt, b), "op {op:#x} offset {b}");
        }
    }
    // The usual pairs load/store an unaligned word.
    let data: Vec<u8> = (1..=12).collect();
    for a in 0..4 {
        let mut body = li(S0, DATA).to_vec();
        body.push(itype(0x22, S0, T0, a + 3)); // lwl t0, a+3
        body.push(itype(0x26, S0, T0, a)); // lwr t0, a
        body.extend(li(T1, 0xcafe_f00d));
        body.push(itype(0x2a, S0, T1, 4 + a + 3)); // swl t1, 4+a+3
        body.push(itype(0x2e, S0, T1, 4 + a)); // swr t1, 4+a
        body.push(lw(T2, 4, S0));
        body.push(lw(T3, 8, S0));
        let e = run_both(&body, &data);
        let a = a as usize;
        assert_eq!(
            e.reg(T0 as usize),
            u32::from_le_bytes(data[a..a + 4].try_into().unwrap())
        );
        let mut expect = data.clone();
        expect[4 + a..8 + a].copy_from_slice(&0xcafe_f00du32.to_le_bytes());
        assert_eq!(
            e.reg(T2 as usize),
            u32::from_le_bytes(expect[4..8].try_into().unwrap())
        );
        assert_eq!(
            e.reg(T3 as usize),
            u32::from_le_bytes(expect[8..12].try_into().unwrap())
        );
    }
}

#[test]
fn ll_sc() {
    let ll = itype(0x30, S0, T0, 0);
    let sc = itype(0x38, S0, T1, 0);
    let input_len = li(V0, zkmips_abi::syscall::INPUT_LEN);
    // LL; SC succeeds.
    let mut body = li(S0, DATA).to_vec();
    body.extend(li(T1, 77));
    body.extend([ll, sc, lw(T2, 0, S0)]);
    let e = run_both(&body, &[5, 0, 0, 0]);
    assert_eq!(
        (e.reg(T0 as usize), e.reg(T1 as usize), e.reg(T2 as usize)),
        (5, 1, 77)
    );
    // LL; syscall; SC still succeeds: syscalls do not clear LLbit (the zkVM has no exception return).
    let mut body = li(S0, DATA).to_vec();
    body.extend(li(T1, 77));
    body.push(ll);
    body.extend(input_len);
    body.extend([syscall(), sc, lw(T2, 0, S0)]);
    let e = run_both(&body, &[5, 0, 0, 0]);
    assert_eq!((e.reg(T1 as usize), e.reg(T2 as usize)), (1, 77));
    // SC without LL fails; a second SC after a successful one fails too.
    let mut body = li(S0, DATA).to_vec();
    body.extend(li(T1, 77));
    body.extend([sc, ll]);
    body.extend(li(T1, 78));
    body.extend([sc]);
    body.extend(li(T3, 79));
    body.push(itype(0x38, S0, T3, 0));
    body.push(lw(T2, 0, S0));
    let e = run_both(&body, &[5, 0, 0, 0]);
    assert_eq!(
        (e.reg(T1 as usize), e.reg(T3 as usize), e.reg(T2 as usize)),
        (1, 0, 78)
    );
}

#[test]
fn branches_taken_not_taken_and_likely() {
    // li t0,a; li t1,b; BR; addiu t2,zero,5 (slot); addiu t3,zero,7 (skipped if taken); addiu t4,zero,9
    let case = |br: u32, a: u32, b: u32| {
        let mut body = Vec::new();
        body.extend(li(T0, a));
        body.extend(li(T1, b));
        body.extend([
            br,
            addiu(T2, ZERO, 5),
            addiu(T3, ZERO, 7),
            addiu(T4, ZERO, 9),
        ]);
        let e = run_both(&body, &[]);
        (
            e.reg(T2 as usize) == 5,
            e.reg(T3 as usize) == 7,
            e.reg(T4 as usize) == 9,
        )
    };
    let taken = (true, false, true);
    let not_taken = (true, true, true);
    let annulled = (false, true, true);
    let m1 = u32::MAX;
    for (op, likely) in [(0x04, false), (0x14, true)] {
        assert_eq!(case(itype(op, T0, T1, 2), 3, 3), taken);
        assert_eq!(
            case(itype(op, T0, T1, 2), 3, 4),
            if likely { annulled } else { not_taken }
        );
    }
    for (op, likely) in [(0x05, false), (0x15, true)] {
        assert_eq!(case(itype(op, T0, T1, 2), 3, 4), taken);
        assert_eq!(
            case(itype(op, T0, T1, 2), 3, 3),
            if likely { annulled } else { not_taken }
        );
    }
    // blez / bgtz (+likely) on 0, -1, 1
    for (op, likely, on) in [
        (0x06, false, [true, true, false]),
        (0x16, true, [true, true, false]),
        (0x07, false, [false, false, true]),
        (0x17, true, [false, false, true]),
    ] {
        for (v, expect) in [0u32, m1, 1].into_iter().zip(on) {
            let want = if expect {
                taken
            } else if likely {
                annulled
            } else {
                not_taken
            };
            assert_eq!(case(itype(op, T0, 0, 2), v, 0), want, "op {op:#x} v {v:#x}");
        }
    }
    // REGIMM: bltz 0, bgez 1, bltzl 2, bgezl 3
    for (code, likely, on) in [
        (0, false, [false, true, false]),
        (2, true, [false, true, false]),
        (1, false, [true, false, true]),
        (3, true, [true, false, true]),
    ] {
        for (v, expect) in [0u32, m1, 1].into_iter().zip(on) {
            let want = if expect {
                taken
            } else if likely {
                annulled
            } else {
                not_taken
            };
            assert_eq!(
                case(regimm(code, T0, 2), v, 0),
                want,
                "regimm {code} v {v:#x}"
            );
        }
    }
    // Backward branch: a counted loop.
    let body = [
        addiu(T0, ZERO, 10),
        addiu(T1, T1, 3),
        addiu(T0, T0, -1),
        bne(T0, ZERO, -3),
        nop(),
    ];
    assert_eq!(run_both(&body, &[]).reg(T1 as usize), 30);
}

#[test]
fn link_values() {
    // bgezal zero (BAL) at index 0: ra = pc + 8, links even when not taken (bltzal on 0).
    let body = [regimm(0x11, ZERO, 2), nop(), nop(), nop()];
    assert_eq!(run_both(&body, &[]).reg(RA as usize), pc_of(2));
    let body = [regimm(0x10, ZERO, 2), nop(), nop(), nop()];
    assert_eq!(run_both(&body, &[]).reg(RA as usize), pc_of(2));
    // bltzall not taken: links, annuls the slot.
    let body = [regimm(0x12, ZERO, 2), addiu(T2, ZERO, 1), nop(), nop()];
    let e = run_both(&body, &[]);
    assert_eq!((e.reg(RA as usize), e.reg(T2 as usize)), (pc_of(2), 0));
    // jal to index 3; slot executes; t3 at index 2 skipped.
    let body = [
        nop(),
        jal(pc_of(4)),
        addiu(T2, ZERO, 1),
        addiu(T3, ZERO, 1),
        addiu(T4, ZERO, 1),
    ];
    let e = run_both(&body, &[]);
    assert_eq!(
        (
            e.reg(RA as usize),
            e.reg(T2 as usize),
            e.reg(T3 as usize),
            e.reg(T4 as usize)
        ),
        (pc_of(3), 1, 0, 1)
    );
    // j
    let body = [
        j(pc_of(3)),
        addiu(T2, ZERO, 1),
        addiu(T3, ZERO, 1),
        addiu(T4, ZERO, 1),
    ];
    let e = run_both(&body, &[]);
    assert_eq!(
        (e.reg(T2 as usize), e.reg(T3 as usize), e.reg(T4 as usize)),
        (1, 0, 1)
    );
    // jalr t9 with rd = s0; jr back via s0.
    let mut body = li(T9, pc_of(7)).to_vec(); // 0,1
    body.extend([jalr(S0, T9), addiu(T2, ZERO, 1)]); // 2,3
    body.extend([addiu(T3, T3, 1), j(pc_of(9)), nop()]); // 4,5,6: return lands at 4
    body.extend([jr(S0), addiu(T4, ZERO, 1)]); // 7,8: subroutine
    let e = run_both(&body, &[]);
    assert_eq!(e.reg(S0 as usize), pc_of(4));
    assert_eq!(
        (e.reg(T2 as usize), e.reg(T3 as usize), e.reg(T4 as usize)),
        (1, 1, 1)
    );
}

#[test]
fn branch_in_delay_slot_is_an_error() {
    let body = [beq(ZERO, ZERO, 2), j(pc_of(3)), nop(), nop()];
    assert_eq!(
        run_err(&body, &[]),
        ExecError::BranchInDelaySlot {
            pc: pc_of(1),
            word: j(pc_of(3))
        }
    );
    // Also after a not-taken branch.
    let body = [bne(ZERO, ZERO, 2), beq(ZERO, ZERO, 1), nop(), nop()];
    assert!(
        matches!(run_err(&body, &[]), ExecError::BranchInDelaySlot { pc, .. } if pc == pc_of(1))
    );
    // But not in an annulled slot.
    let body = [itype(0x15, ZERO, ZERO, 2), beq(ZERO, ZERO, 1), nop(), nop()];
    run_ok(&body, &[]);
}

#[test]
fn memory_faults() {
    let mut body = li(S0, DATA + 2).to_vec();
    body.push(lw(T0, 0, S0));
    assert_eq!(
        run_err(&body, &[]),
        ExecError::MisalignedAccess {
            pc: pc_of(2),
            word: lw(T0, 0, S0),
            addr: DATA + 2,
            size: 4
        }
    );
    let mut body = li(S0, DATA + 1).to_vec();
    body.push(itype(0x29, S0, T0, 0));
    assert!(matches!(
        run_err(&body, &[]),
        ExecError::MisalignedAccess { size: 2, .. }
    ));
    let body = [lw(T0, 0xffc, ZERO)];
    assert_eq!(
        run_err(&body, &[]),
        ExecError::InvalidAddress {
            pc: pc_of(0),
            word: lw(T0, 0xffc, ZERO),
            addr: 0xffc
        }
    );
    let mut body = li(S0, 0x8000_0000).to_vec();
    body.push(itype(0x20, S0, T0, 0));
    assert!(matches!(
        run_err(&body, &[]),
        ExecError::InvalidAddress {
            addr: 0x8000_0000,
            ..
        }
    ));
    let mut body = li(S0, 0x7fff_ffff).to_vec();
    body.push(itype(0x20, S0, T0, 1));
    assert!(matches!(
        run_err(&body, &[]),
        ExecError::InvalidAddress {
            addr: 0x8000_0000,
            ..
        }
    ));
    // Stores into code, including sub-word and unaligned-pair stores.
    for st in [
        sw(T0, 0, S0),
        itype(0x28, S0, T0, 3),
        itype(0x2a, S0, T0, 1),
        itype(0x2e, S0, T0, 2),
    ] {
        let mut body = li(S0, TEXT).to_vec();
        body.push(st);
        assert!(
            matches!(run_err(&body, &[]), ExecError::WriteToCode { pc, .. } if pc == pc_of(2)),
            "{st:#x}"
        );
    }
}

#[test]
fn control_faults() {
    let mut body = li(T0, DATA).to_vec();
    body.extend([jr(T0), nop()]);
    assert_eq!(run_err(&body, &[]), ExecError::PcOutsideCode { pc: DATA });
    let mut body = li(T0, TEXT + 2).to_vec();
    body.extend([jr(T0), nop()]);
    assert_eq!(
        run_err(&body, &[]),
        ExecError::MisalignedPc { pc: TEXT + 2 }
    );
    // A word that does not decode is an error only when executed.
    let words = [beq(ZERO, ZERO, 2), nop(), 0xffff_ffff, nop()];
    let mut all = words.to_vec();
    all.extend(halt());
    zkmips_executor::Executor::new(&program_raw(&all, &[]), config(Mode::Fast))
        .unwrap()
        .run()
        .unwrap();
    let all = [nop(), 0xffff_ffff];
    assert_eq!(
        run_err_program(&program_raw(&all, &[])),
        ExecError::UnknownInstruction {
            pc: pc_of(1),
            word: 0xffff_ffff,
            reason: "reserved primary opcode",
        }
    );
    // Running off the end of the code.
    assert_eq!(
        run_err_program(&program_raw(&[nop()], &[])),
        ExecError::PcOutsideCode { pc: pc_of(1) }
    );
}

#[test]
fn cycle_limit() {
    let body = [beq(ZERO, ZERO, -1), nop()];
    let p = program(&body, &[]);
    for mode in [Mode::Fast, Mode::Tracing] {
        let cfg = zkmips_executor::ExecutorConfig {
            max_cycles: Some(101),
            mode,
            shard_cycles: 16,
            ..Default::default()
        };
        let mut e = zkmips_executor::Executor::new(&p, cfg).unwrap();
        assert_eq!(
            e.run().unwrap_err(),
            ExecError::CycleLimit {
                pc: pc_of(1),
                limit: 101
            }
        );
        assert_eq!(e.cycles(), 101);
    }
    // Exactly enough cycles is fine: the halt program has 3 instructions.
    let cfg = zkmips_executor::ExecutorConfig {
        max_cycles: Some(3),
        ..Default::default()
    };
    let mut e = zkmips_executor::Executor::new(&program(&[], &[]), cfg).unwrap();
    assert_eq!(e.run().unwrap().cycles, 3);
}

#[test]
fn system_instructions() {
    // SYNC, PREF, SYNCI are no-ops (PREF/SYNCI on an invalid address do not fault).
    let body = [
        special(0x0f, 0, 0, 0, 0),
        itype(0x33, ZERO, 0, 0),
        regimm(0x1f, ZERO, 0),
    ];
    run_both(&body, &[]);
    // RDHWR: $29 = thread pointer set by set_thread_area (4283); $1 = 0; $2 = cycle counter; $3 = 1.
    let mut body = li(A0, 0x1234_5678).to_vec();
    body.extend(li(V0, 4283));
    body.push(syscall());
    body.push(special3(0x3b, 0, T0, 29, 0)); // index 5, clk 6
    body.push(special3(0x3b, 0, T1, 1, 0));
    body.push(special3(0x3b, 0, T2, 2, 0)); // clk 8
    body.push(special3(0x3b, 0, T3, 3, 0));
    let e = run_both(&body, &[]);
    assert_eq!(e.reg(T0 as usize), 0x1234_5678);
    assert_eq!(e.reg(T1 as usize), 0);
    assert_eq!(e.reg(T2 as usize), 8);
    assert_eq!(e.reg(T3 as usize), 1);
}

#[test]
fn register_zero_stays_zero() {
    let body = [
        addiu(ZERO, ZERO, 5),
        addu(T0, ZERO, ZERO),
        lui(ZERO, 0x1234),
        jalr(ZERO, T9),
        nop(),
    ];
    // jalr $zero, $zero jumps to 0: error, but $zero stays 0 meanwhile.
    let err = run_err(&body[..], &[]);
    assert_eq!(err, ExecError::PcOutsideCode { pc: 0 });
    let e = run_both(&body[..3], &[]);
    assert_eq!((e.reg(0), e.reg(T0 as usize)), (0, 0));
}

#[test]
fn exit_code_and_counts() {
    let mut body = li(A0, 42).to_vec();
    body.push(addu(T0, A0, A0));
    let (e, report) = run_report(&body, &[], config(Mode::Fast));
    assert_eq!(report.exit_code, 42);
    assert_eq!(report.cycles, 6);
    assert_eq!(e.exit_code(), Some(42));
    use zkmips_executor::{InstrClass, Opcode};
    assert!(report.opcode_counts.contains(&(Opcode::Lui, 2)));
    assert!(report.opcode_counts.contains(&(Opcode::Ori, 2)));
    assert!(report.opcode_counts.contains(&(Opcode::Addu, 1)));
    assert!(report.class_counts.contains(&(InstrClass::Alu, 5)));
    assert!(report.used_fpu.is_none());
    // Stepping after the exit does nothing.
    let mut e = e;
    assert_eq!(e.step().unwrap(), Some(42));
    assert_eq!(e.cycles(), 6);
}

#[test]
fn step_by_step_matches_run() {
    let body = [
        addiu(T0, ZERO, 3),
        addiu(T1, T1, 2),
        addiu(T0, T0, -1),
        bne(T0, ZERO, -3),
        nop(),
    ];
    let p = program(&body, &[]);
    let mut e = zkmips_executor::Executor::new(&p, config(Mode::Fast)).unwrap();
    let mut pcs = Vec::new();
    loop {
        pcs.push(e.pc());
        if e.step().unwrap().is_some() {
            break;
        }
    }
    assert_eq!(e.reg(T1 as usize), 6);
    assert_eq!(pcs.len() as u64, e.cycles());
    assert_eq!(
        &pcs[..5],
        &[pc_of(0), pc_of(1), pc_of(2), pc_of(3), pc_of(4)]
    );
    assert_eq!(pcs[5], pc_of(1));
}

#[test]
fn trace_pcs_excludes_annulled_slots() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    // bnel not taken (annul), beq taken (slot runs).
    let body = [
        itype(0x15, ZERO, ZERO, 5),
        nop(),
        beq(ZERO, ZERO, 2),
        nop(),
        nop(),
    ];
    let cfg = zkmips_executor::ExecutorConfig {
        trace_pcs: Some(Box::new(sink.clone())),
        ..config(Mode::Fast)
    };
    let (_, report) = run_report(&body, &[], cfg);
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let expect: Vec<String> = [0, 2, 3, 5, 6, 7]
        .iter()
        .map(|i| format!("{:#010x}", pc_of(*i)))
        .collect();
    assert_eq!(text.lines().collect::<Vec<_>>(), expect);
    assert_eq!(report.cycles, 6);
}

#[test]
fn load_errors() {
    use zkmips_executor::{Executor, ExecutorConfig};
    // A segment reaching into kernel space or the null page is refused.
    let mut p = program(&[], &[]);
    p.segments[1].vaddr = 0x7fff_8000;
    assert!(matches!(
        Executor::new(&p, ExecutorConfig::default()).unwrap_err(),
        ExecError::InvalidAddress {
            addr: 0x7fff_8000,
            ..
        }
    ));
    let mut p = program(&[], &[]);
    p.segments[1].vaddr = 0;
    assert!(matches!(
        Executor::new(&p, ExecutorConfig::default()).unwrap_err(),
        ExecError::InvalidAddress { addr: 0, .. }
    ));
    // Arguments a C string cannot hold.
    let cfg = ExecutorConfig {
        args: vec!["a\0b".into()],
        ..ExecutorConfig::default()
    };
    assert!(matches!(
        Executor::new(&program(&[], &[]), cfg).unwrap_err(),
        ExecError::InitialStack(_)
    ));
    // bss beyond the file bytes reads as zero; the stack pointer is set.
    let mut body = li(S0, DATA).to_vec();
    body.extend([lw(T0, 0, S0), lw(T1, 0x100, S0)]);
    let e = run_ok(&body, &[1, 2]);
    assert_eq!((e.reg(T0 as usize), e.reg(T1 as usize)), (0x0201, 0));
    assert_eq!(e.reg(SP as usize) % 16, 0);
    assert!(e.reg(SP as usize) < zkmips_abi::layout::STACK_TOP);
}
