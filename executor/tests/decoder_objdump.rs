//! Cross-checks the decoder and disassembler against GNU binutils (`mipsel-linux-gnu-as`/`-objdump`):
//!
//! 1. every instruction form, with edge operands, assembled by gas: each word must decode, and our
//!    disassembly must equal `objdump -d -M no-aliases`;
//! 2. a deterministic sweep over all primary opcodes/function codes with varied register fields: whenever
//!    our decoder accepts a word, objdump must print the same instruction (catches reserved encodings we
//!    wrongly accept and field mix-ups);
//! 3. the whole text of a static glibc hello-world: every word objdump shows as an instruction must decode
//!    and disassemble identically.
//!
//! Without the cross tools the tests skip with a note, or fail when `CI` is set.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use zkmips_executor::instruction::{Opcode, decode};

const AS: &str = "mipsel-linux-gnu-as";
const OBJDUMP: &str = "mipsel-linux-gnu-objdump";
const GCC: &str = "mipsel-linux-gnu-gcc";

/// True when all `tools` run; otherwise fails under CI or prints a skip note.
fn tools_present(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| Command::new(tool).arg("--version").output().is_err())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{test}: required tools missing under CI: {missing:?} (apt-get install gcc-mipsel-linux-gnu)"
        );
    }
    eprintln!("note: skipping {test}: {missing:?} not installed");
    false
}

/// A scratch directory under the system temp dir, unique per process and test, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(test: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let unique = format!(
            "zkmips-decoder-{test}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).expect("create scratch dir");
        ScratchDir(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("tool output is UTF-8")
}

/// Assemble `source` for little-endian MIPS32r2 and return the object file's path.
fn assemble(dir: &ScratchDir, source: &str) -> PathBuf {
    let asm = dir.file("forms.s");
    let object = dir.file("forms.o");
    std::fs::write(&asm, source).expect("write assembly");
    run(Command::new(AS)
        .args(["-march=mips32r2", "-EL", "-o"])
        .arg(&object)
        .arg(&asm));
    object
}

/// One disassembled line of objdump: address, word, and the instruction text.
struct ObjdumpLine {
    addr: u32,
    word: u32,
    text: String,
}

/// `objdump -d -M no-aliases` of `path`, as (address, word, text) for every 4-byte instruction line.
fn objdump(path: &Path) -> Vec<ObjdumpLine> {
    let listing = run(Command::new(OBJDUMP)
        .args(["-d", "-z", "-M", "no-aliases"])
        .arg(path));
    let mut lines = Vec::new();
    for line in listing.lines() {
        // "  400ca4:\tafbe0048 \tsw\ts8,72(sp)"
        let Some((addr, rest)) = line.trim_start().split_once(":\t") else {
            continue;
        };
        let Ok(addr) = u32::from_str_radix(addr, 16) else {
            continue;
        };
        let mut parts = rest.splitn(2, '\t');
        let word_text = parts.next().unwrap_or("").trim();
        if word_text.len() != 8 {
            continue;
        }
        let Ok(word) = u32::from_str_radix(word_text, 16) else {
            continue;
        };
        lines.push(ObjdumpLine {
            addr,
            word,
            text: parts.next().unwrap_or("").to_string(),
        });
    }
    lines
}

/// Whitespace-normalised instruction text without objdump's `<symbol+offset>` annotation and comments.
fn normalise(text: &str) -> String {
    let text = text.split(" <").next().unwrap_or(text);
    let text = text.split('#').next().unwrap_or(text);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `bltz zero,0x4204` -> `bltz zero,4204`: only the last operand, where a branch target sits.
fn strip_target_hex_prefix(text: &str) -> String {
    let start = text.rfind([',', ' ']).map_or(0, |i| i + 1);
    match text[start..].strip_prefix("0x") {
        Some(target) => format!("{}{target}", &text[..start]),
        None => text.to_string(),
    }
}

/// Whether objdump printed something that is not a decoded instruction.
fn objdump_shows_data(text: &str) -> bool {
    let text = text.trim_start();
    text.is_empty() || text.starts_with(".word") || text.starts_with("0x") || text.contains("(bad)")
}

/// Compare each word against objdump. With `must_decode`, every word objdump recognises must decode;
/// without, words our decoder rejects are skipped. Returns the opcodes seen.
fn compare_with_objdump(lines: &[ObjdumpLine], must_decode: bool) -> (BTreeSet<Opcode>, usize) {
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut compared = 0;
    for line in lines {
        let mut expected = normalise(&line.text);
        let instruction = match decode(line.word) {
            Ok(instruction) => instruction,
            Err(error) => {
                if must_decode && !objdump_shows_data(&line.text) {
                    failures.push(format!(
                        "{:#010x}: {:08x} `{expected}`: {error}",
                        line.addr, line.word
                    ));
                }
                continue;
            }
        };
        seen.insert(instruction.opcode);
        compared += 1;
        if instruction.opcode.is_branch_or_jump() {
            // Without a symbol to name the target, objdump prints it as `0x...`; with one, as bare hex.
            expected = strip_target_hex_prefix(&expected);
        }
        let ours = normalise(&instruction.disassemble(line.addr));
        if ours != expected {
            failures.push(format!(
                "{:#010x}: {:08x} objdump `{expected}` but we print `{ours}` ({instruction:?})",
                line.addr, line.word
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches against objdump (first 40):\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    (seen, compared)
}

/// Assembly for every instruction form the decoder supports, with edge operands.
fn all_forms_source() -> String {
    let mut s = String::new();
    // noreorder/nomacro: gas must emit exactly what is written (no delay-slot filling, no macro expansion).
    s.push_str(".set noreorder\n.set nomacro\n.set noat\n.set fp=64\n.text\nback:\n");
    let mut emit = |line: String| {
        s.push_str(&line);
        s.push('\n');
    };
    // Rotating register choices so that every register appears in every operand position.
    let reg3 = |i: u32| (i % 32, (i + 5) % 32, (i + 11) % 32);

    for op in [
        "add", "addu", "sub", "subu", "and", "or", "xor", "nor", "slt", "sltu", "movz", "movn",
        "mul",
    ] {
        for i in 0..32 {
            let (d, s, t) = reg3(i);
            emit(format!("{op} ${d},${s},${t}"));
        }
    }
    for op in ["sll", "srl", "sra", "rotr"] {
        for (i, sa) in [0u32, 1, 2, 15, 16, 31].into_iter().enumerate() {
            for base in [0u32, 17] {
                let (d, _, t) = reg3(i as u32 * 3 + base);
                emit(format!("{op} ${d},${t},{sa}"));
            }
        }
    }
    // nop, ssnop, ehb, pause: all SLL to $zero.
    for sa in [0, 1, 3, 5] {
        emit(format!("sll $0,$0,{sa}"));
    }
    for op in ["sllv", "srlv", "srav", "rotrv"] {
        for i in 0..32 {
            let (d, s, t) = reg3(i);
            emit(format!("{op} ${d},${t},${s}"));
        }
    }
    for op in ["clz", "clo", "seb", "seh", "wsbh"] {
        for i in 0..32 {
            let (d, s, _) = reg3(i);
            emit(format!("{op} ${d},${s}"));
        }
    }
    for (pos, size) in [
        (0, 32),
        (0, 1),
        (31, 1),
        (16, 16),
        (1, 31),
        (5, 3),
        (8, 24),
        (30, 2),
    ] {
        emit(format!("ext $8,$9,{pos},{size}"));
        emit(format!("ins $31,$0,{pos},{size}"));
    }
    for op in ["addi", "addiu", "slti", "sltiu"] {
        for (i, imm) in [-32768, -1, 0, 1, 32767].into_iter().enumerate() {
            let (d, s, _) = reg3(i as u32 * 7);
            emit(format!("{op} ${d},${s},{imm}"));
        }
    }
    for op in ["andi", "ori", "xori"] {
        for (i, imm) in [0, 1, 0x8000, 0xffff].into_iter().enumerate() {
            let (d, s, _) = reg3(i as u32 * 9);
            emit(format!("{op} ${d},${s},{imm}"));
        }
    }
    for imm in [0, 1, 0x8000, 0xffff] {
        emit(format!("lui $4,{imm}"));
    }
    for op in ["mult", "multu", "madd", "maddu", "msub", "msubu"] {
        for i in 0..32 {
            let (_, s, t) = reg3(i);
            emit(format!("{op} ${s},${t}"));
        }
    }
    for op in ["div", "divu"] {
        for i in 0..32 {
            let (_, s, t) = reg3(i);
            emit(format!("{op} $0,${s},${t}"));
        }
    }
    for op in ["mfhi", "mflo", "mthi", "mtlo"] {
        for r in 0..32 {
            emit(format!("{op} ${r}"));
        }
    }
    // Branches backward to `back` and forward to `forward`, in all two- and one-register forms.
    for target in ["back", "forward", "."] {
        for op in ["beq", "bne", "beql", "bnel"] {
            emit(format!("{op} $4,$31,{target}"));
            emit(format!("{op} $0,$0,{target}"));
        }
        for op in [
            "blez", "bgtz", "bltz", "bgez", "bltzal", "bgezal", "blezl", "bgtzl", "bltzl", "bgezl",
            "bltzall", "bgezall",
        ] {
            emit(format!("{op} $5,{target}"));
            emit(format!("{op} $0,{target}"));
        }
        for op in ["bc1f", "bc1t", "bc1fl", "bc1tl"] {
            emit(format!("{op} {target}"));
            emit(format!("{op} $fcc7,{target}"));
            emit(format!("{op} $fcc3,{target}"));
        }
    }
    // Extreme offsets are easier as raw words: offset 0x7fff, 0x8000 (most negative), -1.
    for offset in [0x7fffu32, 0x8000, 0xffff] {
        emit(format!(
            ".word {:#x}",
            0x1000_0000 | (4 << 21) | (5 << 16) | offset
        )); // beq
        emit(format!(
            ".word {:#x}",
            0x0400_0000 | (6 << 21) | (0x13 << 16) | offset
        )); // bgezall
    }
    emit("j back".into());
    emit("jal forward".into());
    emit(format!(".word {:#x}", 0x0800_0000 | 0x03ff_ffff)); // j with the largest index
    emit(format!(".word {:#x}", 0x0c00_0000)); // jal with index 0
    for r in 0..32 {
        emit(format!("jr ${r}"));
        if r != 31 {
            emit(format!("jalr ${r}"));
            emit(format!("jalr ${},${r}", (r + 3) % 32));
        }
    }
    emit("jr.hb $25".into());
    emit("jalr.hb $25".into());
    emit("jalr.hb $4,$25".into());
    emit("jalr $0,$25".into());
    for op in [
        "lb", "lbu", "lh", "lhu", "lw", "lwl", "lwr", "ll", "sb", "sh", "sw", "swl", "swr", "sc",
    ] {
        for (i, offset) in [-32768, -4, 0, 4, 32767].into_iter().enumerate() {
            let (_, base, t) = reg3(i as u32 * 6 + 1);
            emit(format!("{op} ${t},{offset}(${base})"));
        }
    }
    for op in ["teq", "tne", "tge", "tgeu", "tlt", "tltu"] {
        emit(format!("{op} $4,$0"));
        emit(format!("{op} $31,$5,7"));
        emit(format!("{op} $0,$31,0x3ff"));
    }
    for op in ["teqi", "tnei", "tgei", "tgeiu", "tlti", "tltiu"] {
        for imm in [-32768, -1, 0, 1, 32767] {
            emit(format!("{op} $6,{imm}"));
        }
    }
    for code in ["", "7", "0x3ff", "1,2", "0x3ff,0x3ff", "0,1"] {
        emit(format!("break {code}"));
    }
    for code in ["", "1", "0xfffff"] {
        emit(format!("syscall {code}"));
    }
    for stype in ["", "0x4", "0x10", "0x13"] {
        emit(format!("sync {stype}"));
    }
    emit("synci 0($4)".into());
    emit("synci -32768($29)".into());
    emit("pref 0,0($4)".into());
    emit("pref 31,-8($29)".into());
    emit("pref 4,32767($5)".into());
    for hwr in [0, 1, 2, 3, 29] {
        emit(format!("rdhwr $3,${hwr}"));
    }
    // FPU loads/stores/moves.
    for op in ["lwc1", "swc1", "ldc1", "sdc1"] {
        for (i, offset) in [-32768, -8, 0, 8, 32767].into_iter().enumerate() {
            for f in [i as u32 * 3, 31 - i as u32] {
                emit(format!("{op} $f{f},{offset}(${})", (i * 7) % 32));
            }
        }
    }
    for op in ["mfc1", "mtc1", "mfhc1", "mthc1"] {
        for r in 0..32 {
            emit(format!("{op} ${r},$f{}", (r * 5) % 32));
        }
    }
    for fcr in [0, 25, 26, 28, 31] {
        emit(format!("cfc1 $2,${fcr}"));
        if fcr != 0 {
            emit(format!("ctc1 $3,${fcr}"));
        }
    }
    // FPU arithmetic.
    for fmt in ["s", "d"] {
        for op in ["add", "sub", "mul", "div"] {
            emit(format!("{op}.{fmt} $f0,$f2,$f4"));
            emit(format!("{op}.{fmt} $f31,$f1,$f30"));
        }
        for op in [
            "sqrt", "abs", "mov", "neg", "round.l", "trunc.l", "ceil.l", "floor.l", "round.w",
            "trunc.w", "ceil.w", "floor.w", "recip", "rsqrt", "cvt.w", "cvt.l",
        ] {
            emit(format!("{op}.{fmt} $f6,$f8"));
        }
        emit(format!("movf.{fmt} $f0,$f2,$fcc0"));
        emit(format!("movt.{fmt} $f4,$f6,$fcc7"));
        emit(format!("movz.{fmt} $f0,$f2,$4"));
        emit(format!("movn.{fmt} $f0,$f2,$31"));
        for cond in [
            "f", "un", "eq", "ueq", "olt", "ult", "ole", "ule", "sf", "ngle", "seq", "ngl", "lt",
            "nge", "le", "ngt",
        ] {
            emit(format!("c.{cond}.{fmt} $f2,$f4"));
            emit(format!("c.{cond}.{fmt} $fcc5,$f2,$f4"));
        }
    }
    emit("cvt.s.d $f0,$f2".into());
    emit("cvt.d.s $f0,$f2".into());
    for fmt in ["w", "l"] {
        emit(format!("cvt.s.{fmt} $f0,$f2"));
        emit(format!("cvt.d.{fmt} $f4,$f6"));
    }
    // MOVF/MOVT (GPR move on an FPU condition) and COP1X, which gcc and glibc emit for float code.
    for (i, cc) in [0u32, 3, 7].into_iter().enumerate() {
        let (d, s, _) = reg3(i as u32 * 13);
        emit(format!("movf ${d},${s},$fcc{cc}"));
        emit(format!("movt ${s},${d},$fcc{cc}"));
    }
    for (i, op) in ["lwxc1", "ldxc1", "luxc1", "swxc1", "sdxc1", "suxc1"]
        .into_iter()
        .enumerate()
    {
        let (_, base, index) = reg3(i as u32 * 5);
        emit(format!("{op} $f{},${index}(${base})", (i * 2) % 32));
        emit(format!("{op} $f30,$0($31)"));
    }
    emit("prefx 0,$0($0)".into());
    emit("prefx 31,$9($8)".into());
    for op in ["madd", "msub", "nmadd", "nmsub"] {
        for fmt in ["s", "d"] {
            emit(format!("{op}.{fmt} $f0,$f2,$f4,$f6"));
            emit(format!("{op}.{fmt} $f30,$f28,$f26,$f24"));
        }
    }
    s.push_str("forward:\nsll $0,$0,0\n");
    s
}

#[test]
fn every_form_matches_objdump() {
    if !tools_present("every_form_matches_objdump", &[AS, OBJDUMP]) {
        return;
    }
    let dir = ScratchDir::new("forms");
    let object = assemble(&dir, &all_forms_source());
    let lines = objdump(&object);
    assert!(
        lines.len() > 1500,
        "objdump listed only {} instructions",
        lines.len()
    );
    let (seen, compared) = compare_with_objdump(&lines, true);
    assert_eq!(compared, lines.len(), "every assembled word must decode");
    let missing: Vec<Opcode> = Opcode::ALL
        .iter()
        .copied()
        .filter(|op| !seen.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "opcodes never exercised by the forms file: {missing:?}"
    );
}

/// A small deterministic generator (xorshift32) so the sweep is reproducible without extra crates.
struct XorShift(u32);

impl XorShift {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

#[test]
fn accepted_words_match_objdump_in_a_sweep() {
    if !tools_present("accepted_words_match_objdump_in_a_sweep", &[AS, OBJDUMP]) {
        return;
    }
    let mut rng = XorShift(0x2545_f491);
    let mut source = String::from(".text\n");
    let mut words = 0usize;
    for op in 0..64u32 {
        for funct in 0..64u32 {
            for sample in 0..24u32 {
                // Each of rs/rt/rd/sa is either zero or random, so "must be zero" fields are hit both ways.
                let mut field = |bit: u32| {
                    if rng.next() & (1 << bit) != 0 {
                        rng.next() & 31
                    } else {
                        0
                    }
                };
                let (mut rs, mut rt, rd, sa) = (field(3), field(7), field(11), field(19));
                // The sub-opcode lives in rt for REGIMM and in rs for COP1: cover every value.
                match op {
                    0x01 => rt = (sample + funct) % 32,
                    0x11 => rs = (sample + funct) % 32,
                    _ => {}
                }
                let word = (op << 26)
                    | ((rs & 31) << 21)
                    | ((rt & 31) << 16)
                    | (rd << 11)
                    | (sa << 6)
                    | funct;
                writeln!(source, ".word {word:#010x}").unwrap();
                words += 1;
            }
        }
    }
    let dir = ScratchDir::new("sweep");
    let object = assemble(&dir, &source);
    let lines = objdump(&object);
    assert_eq!(lines.len(), words, "objdump must list every swept word");
    let (_, compared) = compare_with_objdump(&lines, false);
    // A sanity bound: a large share of the sweep is valid, so the comparison really ran.
    assert!(
        compared > words / 8,
        "only {compared} of {words} swept words decoded"
    );
}

#[test]
fn static_glibc_text_decodes() {
    if !tools_present("static_glibc_text_decodes", &[GCC, OBJDUMP]) {
        return;
    }
    let dir = ScratchDir::new("glibc");
    let source = dir.file("hello.c");
    let binary = dir.file("hello");
    // printf of a double pulls in glibc's FPU code paths as well as the usual startup, stdio and TLS code.
    std::fs::write(
        &source,
        "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\
         int main(int argc, char **argv) {\n\
           char buf[64]; snprintf(buf, sizeof buf, \"%d %f\", argc, argc / 3.0);\n\
           printf(\"hello %s %zu\\n\", buf, strlen(argv[0]));\n\
           return atoi(buf) == 7;\n}\n",
    )
    .expect("write hello.c");
    run(Command::new(GCC)
        .args(["-O2", "-march=mips32r2", "-static", "-o"])
        .arg(&binary)
        .arg(&source));
    let lines = objdump(&binary);
    assert!(
        lines.len() > 50_000,
        "static glibc text has only {} words",
        lines.len()
    );
    let (seen, compared) = compare_with_objdump(&lines, true);
    // The instructions glibc is known to rely on must really be in the binary we checked.
    for op in [
        Opcode::Rdhwr,
        Opcode::Ll,
        Opcode::Sc,
        Opcode::Ext,
        Opcode::Ins,
        Opcode::Teq,
        Opcode::Ldc1,
    ] {
        assert!(seen.contains(&op), "expected {op:?} in static glibc");
    }
    eprintln!(
        "static glibc: {compared} of {} words decoded, {} distinct opcodes",
        lines.len(),
        seen.len()
    );
}
