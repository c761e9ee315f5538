//! The random program generator of `random_isa.rs`: seeded, deterministic blocks of MIPS32r2 integer
//! instructions, emitted as GNU assembly, that avoid every UNPREDICTABLE case (so qemu and zkmips must agree
//! bit for bit) and never trap.
//!
//! A case is a list of [`Unit`]s. A unit is one instruction, or a few that only make sense together (a
//! division and the guard that makes its divisor nonzero, a branch with its delay slot, the instructions it
//! may skip and its target label, an LL/SC pair). Any prefix of a case's units is itself a valid program,
//! which is what lets the test bisect a mismatch down to the first unit that produces it.

use std::fmt::Write as _;

/// splitmix64: tiny, seedable, good enough to pick instructions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5a4d_4950_535f_4953) // "ZMIPS_IS": different seeds, different streams
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() % u64::from(n)) as u32
    }

    /// True with probability `percent`%.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }

    /// A register value biased towards the boundaries where implementations get sign, carry and width
    /// handling wrong.
    pub fn edge_value(&mut self) -> u32 {
        const EDGES: [u32; 20] = [
            0,
            1,
            2,
            0xffff_ffff,
            0xffff_fffe,
            0x8000_0000,
            0x8000_0001,
            0x7fff_ffff,
            0x7f,
            0x80,
            0xff,
            0x7fff,
            0x8000,
            0xffff,
            0x1_0000,
            0xffff_ff80,
            0xffff_8000,
            31,
            32,
            0x00ff_00ff,
        ];
        match self.below(8) {
            0..=3 => self.pick(&EDGES),
            4 => (self.below(600) as i32 - 300) as u32, // small, either sign
            5 => 1u32.rotate_left(self.below(32)) ^ (self.below(2).wrapping_neg()), // one bit set or clear
            _ => self.next_u32(),
        }
    }

    /// A 16-bit immediate field (raw bits), biased the same way.
    pub fn edge_imm16(&mut self) -> u16 {
        const EDGES: [u16; 9] = [0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 0xff, 0x80, 0xfffe];
        if self.chance(40) {
            self.pick(&EDGES)
        } else {
            self.next_u32() as u16
        }
    }
}

/// The register that holds the scratch buffer's address for the whole block (`$fp`, saved by the case).
pub const BASE: u8 = 30;
/// Bytes of scratch memory at `BASE` that loads and stores may touch.
pub const SCRATCH_BYTES: u32 = 256;
/// Registers the block may read and write: everything but `$zero`, `$k0`/`$k1` (kernel-owned), `$sp`
/// (its value differs between qemu and zkmips) and `BASE`. `$gp` and `$ra` are saved by the case.
pub const FREE_REGS: [u8; 27] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 28,
    31,
];

/// One or more instructions that belong together; see the module docs.
#[derive(Clone, Debug)]
pub struct Unit {
    pub lines: Vec<String>,
}

/// One generated test case.
#[derive(Clone, Debug)]
pub struct Case {
    pub seed: u64,
    /// Initial values of [`FREE_REGS`], in that order.
    pub init: Vec<u32>,
    pub hi: u32,
    pub lo: u32,
    /// Seeds the C harness's fill of the scratch buffer.
    pub memory_seed: u32,
    pub units: Vec<Unit>,
}

/// Every mnemonic the generator can emit, for the coverage list in the test's docs and report.
pub const MNEMONICS: &[&str] = &[
    "add", "addu", "sub", "subu", "and", "or", "xor", "nor", "slt", "sltu", "sll", "srl", "sra",
    "sllv", "srlv", "srav", "rotr", "rotrv", "movz", "movn", "clz", "clo", "seb", "seh", "wsbh",
    "ext", "ins", "addi", "addiu", "slti", "sltiu", "andi", "ori", "xori", "lui", "mul", "mult",
    "multu", "madd", "maddu", "msub", "msubu", "div", "divu", "mfhi", "mflo", "mthi", "mtlo",
    "beq", "bne", "blez", "bgtz", "bltz", "bgez", "bltzal", "bgezal", "beql", "bnel", "blezl",
    "bgtzl", "bltzl", "bgezl", "bltzall", "bgezall", "j", "jal", "jr", "jalr", "lb", "lbu", "lh",
    "lhu", "lw", "lwl", "lwr", "ll", "sb", "sh", "sw", "swl", "swr", "sc", "teq", "tne", "tge",
    "tgeu", "tlt", "tltu", "teqi", "tnei", "tgei", "tgeiu", "tlti", "tltiu", "sync", "pref",
    "rdhwr",
];

struct Gen {
    rng: Rng,
    /// Prefix for this case's labels (unique within one assembly file).
    label_prefix: String,
    labels: u32,
}

fn r(reg: u8) -> String {
    format!("${reg}")
}

impl Gen {
    fn free(&mut self) -> u8 {
        self.rng.pick(&FREE_REGS)
    }

    /// A destination: usually a free register, sometimes `$zero` (the write must be discarded).
    fn dest(&mut self) -> u8 {
        if self.rng.chance(3) { 0 } else { self.free() }
    }

    /// A source: usually a free register, sometimes `$zero`.
    fn src(&mut self) -> u8 {
        if self.rng.chance(5) { 0 } else { self.free() }
    }

    fn new_label(&mut self) -> String {
        self.labels += 1;
        format!("{}_{}", self.label_prefix, self.labels)
    }

    fn load_const(&mut self, reg: u8, value: u32) -> Vec<String> {
        vec![
            format!("lui {}, {:#x}", r(reg), value >> 16),
            format!("ori {}, {}, {:#x}", r(reg), r(reg), value & 0xffff),
        ]
    }

    /// A scratch-buffer offset for an access of `width` bytes, naturally aligned.
    fn offset(&mut self, width: u32) -> u32 {
        self.rng.below(SCRATCH_BYTES / width) * width
    }

    /// One instruction that is valid anywhere, including a delay slot: no control flow, no division, no
    /// LL/SC, nothing that can trap.
    fn simple(&mut self) -> String {
        let g = &mut *self;
        match g.rng.below(100) {
            0..=17 => {
                let op = g.rng.pick(&[
                    "addu", "subu", "and", "or", "xor", "nor", "slt", "sltu", "movz", "movn", "mul",
                ]);
                let (d, s, t) = (g.dest(), g.src(), g.src());
                format!("{op} {}, {}, {}", r(d), r(s), r(t))
            }
            18..=25 => {
                let op = g.rng.pick(&["sllv", "srlv", "srav", "rotrv"]);
                let (d, t, s) = (g.dest(), g.src(), g.src());
                format!("{op} {}, {}, {}", r(d), r(t), r(s))
            }
            26..=33 => {
                let op = g.rng.pick(&["sll", "srl", "sra", "rotr"]);
                let sa = if g.rng.chance(30) {
                    g.rng.pick(&[0, 1, 31, 16])
                } else {
                    g.rng.below(32)
                };
                let (d, t) = (g.dest(), g.src());
                format!("{op} {}, {}, {sa}", r(d), r(t))
            }
            34..=45 => {
                let (d, s) = (g.dest(), g.src());
                let imm = g.rng.edge_imm16();
                match g.rng.below(6) {
                    0 => format!("addiu {}, {}, {}", r(d), r(s), imm as i16),
                    1 => format!("slti {}, {}, {}", r(d), r(s), imm as i16),
                    2 => format!("sltiu {}, {}, {}", r(d), r(s), imm as i16),
                    3 => format!("andi {}, {}, {imm:#x}", r(d), r(s)),
                    4 => format!("ori {}, {}, {imm:#x}", r(d), r(s)),
                    _ => format!("xori {}, {}, {imm:#x}", r(d), r(s)),
                }
            }
            46..=47 => format!("lui {}, {:#x}", r(g.dest()), g.rng.edge_imm16()),
            48..=53 => {
                let op = g.rng.pick(&["clz", "clo", "seb", "seh", "wsbh"]);
                format!("{op} {}, {}", r(g.dest()), r(g.src()))
            }
            54..=59 => {
                let pos = if g.rng.chance(25) {
                    g.rng.pick(&[0, 31, 16])
                } else {
                    g.rng.below(32)
                };
                let size = if g.rng.chance(25) {
                    32 - pos
                } else {
                    1 + g.rng.below(32 - pos)
                };
                let op = g.rng.pick(&["ext", "ins"]);
                format!("{op} {}, {}, {pos}, {size}", r(g.dest()), r(g.src()))
            }
            60..=69 => {
                let op = g
                    .rng
                    .pick(&["mult", "multu", "madd", "maddu", "msub", "msubu"]);
                format!("{op} {}, {}", r(g.src()), r(g.src()))
            }
            70..=75 => {
                let op = g.rng.pick(&["mfhi", "mflo", "mthi", "mtlo"]);
                let reg = if op.starts_with("mf") {
                    g.dest()
                } else {
                    g.src()
                };
                format!("{op} {}", r(reg))
            }
            76..=85 => {
                let (op, width) = g.rng.pick(&[
                    ("lb", 1),
                    ("lbu", 1),
                    ("lh", 2),
                    ("lhu", 2),
                    ("lw", 4),
                    ("lwl", 1),
                    ("lwr", 1),
                ]);
                let off = g.offset(width);
                format!("{op} {}, {off}({})", r(g.dest()), r(BASE))
            }
            86..=93 => {
                let (op, width) =
                    g.rng
                        .pick(&[("sb", 1), ("sh", 2), ("sw", 4), ("swl", 1), ("swr", 1)]);
                let off = g.offset(width);
                format!("{op} {}, {off}({})", r(g.src()), r(BASE))
            }
            94..=96 => {
                // Conditional traps whose condition is false for any operand value.
                let s = g.src();
                match g.rng.below(5) {
                    0 => format!("tne {}, {}", r(s), r(s)),
                    1 => format!("tlt {}, {}", r(s), r(s)),
                    2 => format!("tltu {}, {}", r(s), r(s)),
                    3 => format!("tltu {}, $0", r(s)),
                    _ => format!("tltiu {}, 0", r(s)),
                }
            }
            97 => "sync".to_string(),
            98 => format!("pref {}, {}({})", g.rng.below(32), g.offset(1), r(BASE)),
            _ => format!("rdhwr {}, $29", r(g.free())),
        }
    }

    fn unit(&mut self) -> Unit {
        let lines = match self.rng.below(100) {
            0..=59 => vec![self.simple()],
            60..=66 => self.trapping_arith(),
            67..=71 => self.division(),
            72..=74 => self.ll_sc(),
            75..=78 => self.trap_on_constants(),
            79..=80 => {
                let reg = self.free();
                let value = self.rng.edge_value();
                self.load_const(reg, value)
            }
            81..=83 => self.derived_base_access(),
            84..=85 => self.counted_loop(),
            _ => self.branch(),
        };
        Unit { lines }
    }

    /// A load or store through a second base register pointing into the scratch buffer, with an offset
    /// that may be negative (the sign extension of the offset field).
    fn derived_base_access(&mut self) -> Vec<String> {
        let base = self.free();
        let shift = self.rng.below(SCRATCH_BYTES / 4) * 4;
        let mut lines = vec![format!("addiu {}, {}, {shift}", r(base), r(BASE))];
        let (op, width) = self.rng.pick(&[
            ("lb", 1),
            ("lbu", 1),
            ("lh", 2),
            ("lhu", 2),
            ("lw", 4),
            ("lwl", 1),
            ("lwr", 1),
            ("sb", 1),
            ("sh", 2),
            ("sw", 4),
            ("swl", 1),
            ("swr", 1),
        ]);
        let off = self.offset(width) as i32 - shift as i32;
        // A load may overwrite its own base register; a store's data may be the base.
        let reg = if op.starts_with('l') {
            self.dest()
        } else {
            self.src()
        };
        lines.push(format!("{op} {}, {off}({})", r(reg), r(base)));
        lines
    }

    /// A loop counting a register down from 1..=4 to zero, closed by a backward BNE or BNEL, whose body
    /// and delay slot never write the counter. With BNEL the slot runs only while the loop repeats.
    fn counted_loop(&mut self) -> Vec<String> {
        let counter = self.free();
        let top = self.new_label();
        // Conservative: anything naming the counter first (its destination, or a store's data) is redrawn.
        let counter_first = format!(" {},", r(counter));
        let keeps_counter = |g: &mut Gen| loop {
            let line = g.simple();
            if !line.contains(&counter_first) && !line.ends_with(&format!(" {}", r(counter))) {
                return line;
            }
        };
        let mut lines = vec![
            format!("addiu {}, $0, {}", r(counter), 1 + self.rng.below(4)),
            format!("{top}:"),
        ];
        for _ in 0..1 + self.rng.below(4) {
            lines.push(keeps_counter(self));
        }
        lines.push(format!("addiu {}, {}, -1", r(counter), r(counter)));
        let op = self.rng.pick(&["bne", "bnel"]);
        lines.push(format!("{op} {}, $0, {top}", r(counter)));
        lines.push(keeps_counter(self));
        lines
    }

    /// ADD/ADDI/SUB, which trap on signed overflow: either on operands halved first (so the result always
    /// fits), or on edge constants chosen not to overflow.
    fn trapping_arith(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        let d = self.dest();
        let op = self.rng.pick(&["add", "sub", "addi"]);
        if self.rng.chance(70) {
            let (a, b) = (self.free(), self.free());
            lines.push(format!("sra {}, {}, 1", r(a), r(self.src())));
            lines.push(format!("sra {}, {}, 1", r(b), r(self.src())));
            lines.push(match op {
                "addi" => format!("addi {}, {}, {}", r(d), r(a), self.rng.edge_imm16() as i16),
                _ => format!("{op} {}, {}, {}", r(d), r(a), r(b)),
            });
        } else {
            let (a, b) = (self.free(), self.free());
            loop {
                let x = self.rng.edge_value() as i32;
                let y = match op {
                    "addi" => i32::from(self.rng.edge_imm16() as i16),
                    // One register holds both operands.
                    _ if a == b => x,
                    _ => self.rng.edge_value() as i32,
                };
                let fits = match op {
                    "sub" => x.checked_sub(y).is_some(),
                    _ => x.checked_add(y).is_some(),
                };
                if !fits {
                    continue;
                }
                lines.extend(self.load_const(a, x as u32));
                if op == "addi" {
                    lines.push(format!("addi {}, {}, {y}", r(d), r(a)));
                } else {
                    lines.extend(self.load_const(b, y as u32));
                    lines.push(format!("{op} {}, {}, {}", r(d), r(a), r(b)));
                }
                break;
            }
        }
        lines
    }

    /// DIV/DIVU after forcing the divisor nonzero (division by zero is UNPREDICTABLE).
    fn division(&mut self) -> Vec<String> {
        let op = self.rng.pick(&["div", "divu"]);
        let (s, t) = (self.src(), self.free());
        let guard = match self.rng.below(4) {
            0 => format!("ori {}, {}, 1", r(t), r(t)),
            1 => format!("lui {}, {:#x}", r(t), 1 + self.rng.below(0xffff)),
            2 => format!(
                "addiu {}, $0, {}",
                r(t),
                self.rng.pick(&[-1, 1, 2, -2, 3, 7, -7, 255, 32767, -32768])
            ),
            _ => format!("ori {}, {}, {:#x}", r(t), r(t), 1u32 << self.rng.below(16)),
        };
        // `div $zero, rs, rt` is the plain instruction; the two-operand form would be a checking macro.
        let mut lines = vec![guard, format!("{op} $0, {}, {}", r(s), r(t))];
        if self.rng.chance(60) {
            lines.push(format!("mflo {}", r(self.dest())));
            lines.push(format!("mfhi {}", r(self.dest())));
        }
        lines
    }

    /// LL, a few ALU instructions, SC to the same word, which must succeed. No store in between: qemu's SC
    /// also compares the loaded value. Never an SC without its LL: whether a second SC after a successful
    /// one fails is not specified by the manual, and qemu (no link bit, only address and value) lets it
    /// succeed while zkmips clears the link bit on SC.
    fn ll_sc(&mut self) -> Vec<String> {
        let off = self.offset(4);
        let mut lines = vec![format!("ll {}, {off}({})", r(self.dest()), r(BASE))];
        for _ in 0..self.rng.below(3) {
            let (d, s, t) = (self.dest(), self.src(), self.src());
            lines.push(format!("addu {}, {}, {}", r(d), r(s), r(t)));
        }
        lines.push(format!("sc {}, {off}({})", r(self.free()), r(BASE)));
        lines
    }

    /// A conditional trap on operands loaded with known constants, chosen so that the trap does not fire.
    fn trap_on_constants(&mut self) -> Vec<String> {
        let (a, b) = (self.free(), self.free());
        let immediate = self.rng.chance(50);
        let mut lines = Vec::new();
        loop {
            let x = self.rng.edge_value();
            if immediate {
                let op = self
                    .rng
                    .pick(&["teqi", "tnei", "tgei", "tgeiu", "tlti", "tltiu"]);
                // Half the time compare against the value itself (truncated), to exercise equality.
                let imm = if self.rng.chance(50) {
                    x as u16
                } else {
                    self.rng.edge_imm16()
                };
                let y = imm as i16 as i32 as u32;
                let fires = match op {
                    "teqi" => x == y,
                    "tnei" => x != y,
                    "tgei" => x as i32 >= y as i32,
                    "tgeiu" => x >= y,
                    "tlti" => (x as i32) < y as i32,
                    _ => x < y,
                };
                if fires {
                    continue;
                }
                lines.extend(self.load_const(a, x));
                lines.push(format!("{op} {}, {}", r(a), imm as i16));
            } else {
                if a == b {
                    return vec![format!("tne {}, {}", r(a), r(a))];
                }
                let op = self.rng.pick(&["teq", "tne", "tge", "tgeu", "tlt", "tltu"]);
                let y = if self.rng.chance(30) {
                    x
                } else {
                    self.rng.edge_value()
                };
                let fires = match op {
                    "teq" => x == y,
                    "tne" => x != y,
                    "tge" => x as i32 >= y as i32,
                    "tgeu" => x >= y,
                    "tlt" => (x as i32) < y as i32,
                    _ => x < y,
                };
                if fires {
                    continue;
                }
                lines.extend(self.load_const(a, x));
                lines.extend(self.load_const(b, y));
                lines.push(format!("{op} {}, {}", r(a), r(b)));
            }
            return lines;
        }
    }

    /// A forward branch or jump with a real delay slot, up to three instructions it may skip, and its target.
    fn branch(&mut self) -> Vec<String> {
        let target = self.new_label();
        let mut lines = Vec::new();
        // Linking branches with rs = $31 are UNPREDICTABLE (not restartable): never generate them.
        let not_ra = |g: &mut Gen| loop {
            let reg = g.src();
            if reg != 31 {
                return reg;
            }
        };
        // The register the branch decides on, which the slot may then overwrite: the decision (and a
        // register jump's target) must use the value from before the slot.
        let mut decided_on = 0;
        let branch = match self.rng.below(22) {
            k @ 0..=3 => {
                let op = ["beq", "bne", "beql", "bnel"][k as usize];
                let s = self.src();
                decided_on = s;
                // Equal operands now and then, so the equal path is taken often enough.
                let t = if self.rng.chance(25) { s } else { self.src() };
                format!("{op} {}, {}, {target}", r(s), r(t))
            }
            k @ 4..=11 => {
                let op = [
                    "blez", "bgtz", "bltz", "bgez", "blezl", "bgtzl", "bltzl", "bgezl",
                ][k as usize - 4];
                decided_on = self.src();
                format!("{op} {}, {target}", r(decided_on))
            }
            k @ 12..=15 => {
                let op = ["bltzal", "bgezal", "bltzall", "bgezall"][k as usize - 12];
                decided_on = not_ra(self);
                format!("{op} {}, {target}", r(decided_on))
            }
            16 => format!("j {target}"),
            17 => format!("jal {target}"),
            18 => format!("b {target}"),
            19 => format!("bal {target}"),
            _ => {
                let reg = self.free();
                decided_on = reg;
                lines.push(format!("lui {}, %hi({target})", r(reg)));
                lines.push(format!("addiu {}, {}, %lo({target})", r(reg), r(reg)));
                if self.rng.chance(40) {
                    format!("jr {}", r(reg))
                } else {
                    // JALR with rd == rs is UNPREDICTABLE.
                    let link = loop {
                        let d = self.dest();
                        if d != reg {
                            break d;
                        }
                    };
                    format!("jalr {}, {}", r(link), r(reg))
                }
            }
        };
        let op = branch.split_whitespace().next().unwrap_or("");
        let links = matches!(
            op,
            "bltzal" | "bgezal" | "bltzall" | "bgezall" | "jal" | "bal" | "jalr"
        );
        lines.push(branch);
        // The slot sees the link the branch just wrote: read $31 there often.
        let clobber = decided_on != 0 && self.rng.chance(20);
        if clobber {
            lines.push(format!("addiu {}, {}, 4", r(decided_on), r(decided_on)));
        } else if links && self.rng.chance(30) {
            lines.push(format!("addu {}, $31, {}", r(self.dest()), r(self.src())));
        } else {
            lines.push(self.simple());
        }
        // At least one instruction to skip, so a target taken from the clobbered register shows.
        for _ in 0..self.rng.below(4).max(u32::from(clobber)) {
            lines.push(self.simple());
        }
        lines.push(format!("{target}:"));
        lines
    }
}

/// Generates case `seed` with `len` units.
pub fn generate(seed: u64, len: usize) -> Case {
    generate_inner(seed, len).0
}

fn generate_inner(seed: u64, len: usize) -> (Case, Gen) {
    let mut g = Gen {
        rng: Rng::new(seed),
        label_prefix: format!(".Lzk{seed:x}"),
        labels: 0,
    };
    let init = FREE_REGS.iter().map(|_| g.rng.edge_value()).collect();
    let hi = g.rng.edge_value();
    let lo = g.rng.edge_value();
    let memory_seed = g.rng.next_u32() | 1;
    let units = (0..len).map(|_| g.unit()).collect();
    (
        Case {
            seed,
            init,
            hi,
            lo,
            memory_seed,
            units,
        },
        g,
    )
}

/// The label the trapping instruction of [`generate_trapping`] carries.
pub const TRAP_LABEL: &str = "zk_trap";

/// Case `seed` with `len` units followed by one that must trap: ADD/ADDI/SUB on constants that overflow, a
/// conditional trap on constants that satisfy it, or BREAK. The trapping instruction is at [`TRAP_LABEL`].
pub fn generate_trapping(seed: u64, len: usize) -> Case {
    let (mut case, mut g) = generate_inner(seed, len);
    let (a, b, d) = (g.free(), g.free(), g.dest());
    let mut lines = Vec::new();
    let trap = loop {
        let x = g.rng.edge_value();
        let y = if a == b { x } else { g.rng.edge_value() };
        let imm = if g.rng.chance(50) {
            x as u16
        } else {
            g.rng.edge_imm16()
        };
        let sy = imm as i16 as i32;
        let op = g.rng.pick(&[
            "add", "sub", "addi", "teq", "tne", "tge", "tgeu", "tlt", "tltu", "teqi", "tnei",
            "tgei", "tgeiu", "tlti", "tltiu", "break",
        ]);
        let (xs, ys) = (x as i32, y as i32);
        let fires = match op {
            "add" => xs.checked_add(ys).is_none(),
            "sub" => xs.checked_sub(ys).is_none(),
            "addi" => xs.checked_add(sy).is_none(),
            "teq" => x == y,
            "tne" => x != y,
            "tge" => xs >= ys,
            "tgeu" => x >= y,
            "tlt" => xs < ys,
            "tltu" => x < y,
            "teqi" => xs == sy,
            "tnei" => xs != sy,
            "tgei" => xs >= sy,
            "tgeiu" => x >= sy as u32,
            "tlti" => xs < sy,
            "tltiu" => x < sy as u32,
            _ => true,
        };
        if !fires {
            continue;
        }
        lines.extend(g.load_const(a, x));
        lines.extend(g.load_const(b, y));
        break match op {
            "add" | "sub" => format!("{op} {}, {}, {}", r(d), r(a), r(b)),
            "addi" => format!("addi {}, {}, {sy}", r(d), r(a)),
            "break" => format!("break {}", g.rng.below(1024)),
            op if op.ends_with('i') || op.ends_with("iu") => format!("{op} {}, {sy}", r(a)),
            op => format!("{op} {}, {}", r(a), r(b)),
        };
    };
    lines.push(format!("{TRAP_LABEL}:"));
    lines.push(trap);
    case.units.push(Unit { lines });
    case
}

/// Offset from `BASE` of the register dump: word `r` holds `$r`, then HI and LO.
pub const DUMP_OFFSET: i32 = -(SCRATCH_BYTES as i32);
pub const HI_OFFSET: i32 = DUMP_OFFSET + 32 * 4;
pub const LO_OFFSET: i32 = HI_OFFSET + 4;

/// Assembles the case as a function `name(uint32_t *scratch)` using only its first `units` units. Each unit
/// starts at a local symbol `name_u<i>` so a mismatch can be shown with objdump.
pub fn emit_function(case: &Case, name: &str, units: usize) -> String {
    let mut s = String::new();
    let saved: Vec<u8> = (16..=23).chain([28, 30, 31]).collect();
    let frame = 4 * saved.len() as u32;
    writeln!(
        s,
        "\t.globl {name}\n\t.type {name}, @function\n\t.ent {name}\n{name}:"
    )
    .unwrap();
    writeln!(s, "\taddiu $sp, $sp, -{frame}").unwrap();
    for (i, reg) in saved.iter().enumerate() {
        writeln!(s, "\tsw ${reg}, {}($sp)", 4 * i).unwrap();
    }
    writeln!(s, "\taddu ${BASE}, $4, $0").unwrap();
    for (value, f) in [(case.hi, "mthi"), (case.lo, "mtlo")] {
        writeln!(
            s,
            "\tlui $1, {:#x}\n\tori $1, $1, {:#x}\n\t{f} $1",
            value >> 16,
            value & 0xffff
        )
        .unwrap();
    }
    for (reg, value) in FREE_REGS.iter().zip(&case.init) {
        writeln!(
            s,
            "\tlui ${reg}, {:#x}\n\tori ${reg}, ${reg}, {:#x}",
            value >> 16,
            value & 0xffff
        )
        .unwrap();
    }
    for (i, unit) in case.units[..units].iter().enumerate() {
        writeln!(s, "{name}_u{i}:").unwrap();
        for line in &unit.lines {
            if line.ends_with(':') {
                writeln!(s, "{line}").unwrap();
            } else {
                writeln!(s, "\t{line}").unwrap();
            }
        }
    }
    writeln!(s, "{name}_end:").unwrap();
    for reg in FREE_REGS {
        writeln!(
            s,
            "\tsw ${reg}, {}(${BASE})",
            DUMP_OFFSET + 4 * i32::from(reg)
        )
        .unwrap();
    }
    writeln!(
        s,
        "\tmfhi $1\n\tsw $1, {HI_OFFSET}(${BASE})\n\tmflo $1\n\tsw $1, {LO_OFFSET}(${BASE})"
    )
    .unwrap();
    for (i, reg) in saved.iter().enumerate() {
        writeln!(s, "\tlw ${reg}, {}($sp)", 4 * i).unwrap();
    }
    writeln!(
        s,
        "\tjr $31\n\taddiu $sp, $sp, {frame}\n\t.end {name}\n\t.size {name}, .-{name}"
    )
    .unwrap();
    s
}

/// A whole assembly file: the functions and the table `zk_cases` (function, memory seed) the C harness
/// walks, with `zk_case_count` entries. `units[i]` is how many units of `cases[i]` to use.
pub fn emit_file(cases: &[(&Case, usize)]) -> String {
    let mut s = String::from(
        "# Generated by cli/tests/random_isa.rs: random MIPS32r2 instruction blocks.\n\
         \t.set noreorder\n\t.set noat\n\t.set nomacro\n\t.option pic0\n\t.text\n",
    );
    for (i, (case, units)) in cases.iter().enumerate() {
        s.push_str(&emit_function(case, &format!("zk_case{i}"), *units));
    }
    s.push_str("\t.section .rodata\n\t.align 2\n\t.globl zk_cases\nzk_cases:\n");
    for (i, (case, _)) in cases.iter().enumerate() {
        writeln!(s, "\t.word zk_case{i}, {:#x}", case.memory_seed).unwrap();
    }
    writeln!(
        s,
        "\t.globl zk_case_count\nzk_case_count:\n\t.word {}",
        cases.len()
    )
    .unwrap();
    s
}
