//! `MemoryImageChip`: a program's initial memory image as a preprocessed table, for proofs of a
//! run in ONE shard whose preprocessed commitment depends on the program only.
//!
//! One row per image location ([`image_entries`]): every register location, every word of every
//! loaded segment's file image (code words *locked*: code is never data), every word of the
//! initial stack block, and the public digest words. The preprocessed columns hold the address,
//! the initial value, `locked` and a one-hot *public slot*; the only main columns are the
//! location's final value. Each row sends `(addr, init, final, locked)` on the [`IMAGE_BUS`],
//! which [`super::memory_final::MemoryFinalChip`] receives from its image rows: since the image
//! addresses are distinct and the final chip's addresses strictly increase, the bus pairs every
//! image location with exactly one boundary row, which opens it at `init` and closes it at
//! `final` on the memory bus.
//!
//! Public values: the final value (two 16-bit limbs) of each of the [`PUBLIC_WORDS`] public
//! locations — the exit code `$a0` (slot 0) and the 8 words of the public digest (slots 1..=8).
//! `slot_k · (final - pv_k) = 0` per limb binds them; every slot is on exactly one row (checked by
//! [`MemoryImageChip::new`]), so no public value is left free.

use std::collections::BTreeMap;
use std::sync::Arc;

use p3_air::{Air, BaseAir, PermutationAirBuilder, WindowAccess};
use p3_field::Field;
use p3_lookup::{Count, InteractionBuilder};
use p3_matrix::dense::RowMajorMatrix;
use thiserror::Error;
use zkmips_abi::layout::{PUBLIC_DIGEST_ADDR, PUBLIC_DIGEST_LEN};
use zkmips_executor::events::NUM_REG_LOCATIONS;
use zkmips_executor::{Executor, Program};

use super::memory_final::FinalRow;
use super::{MIN_TRACE_HEIGHT, TraceError};
use crate::batch::MAX_LOG_TRACE_HEIGHT;
use crate::buses::{IMAGE_BUS, word_limbs};

/// Number of public words: the exit code and the 8 digest words.
pub const PUBLIC_WORDS: usize = 9;

/// Location of the exit code (`$a0`), public slot 0.
pub const EXIT_CODE_LOCATION: u32 = 4;

/// Number of public values of the chip: two limbs per public word.
pub const NUM_PUBLIC_VALUES: usize = 2 * PUBLIC_WORDS;

/// Preprocessed columns.
pub mod prep {
    pub const IS_REAL: usize = 0;
    /// Address limbs `(lo, hi)`.
    pub const ADDR: usize = 1;
    /// Initial value limbs.
    pub const INIT: usize = 3;
    /// 1 for a code word (no access may touch it).
    pub const LOCKED: usize = 5;
    /// One-hot public slot flags `slot_0 ..= slot_8` (all zero on non-public rows).
    pub const SLOT: usize = 6;
    pub const WIDTH: usize = SLOT + super::PUBLIC_WORDS;
}

/// Main columns.
pub mod cols {
    /// Final value limbs `(lo, hi)`.
    pub const FINAL: usize = 0;
    pub const WIDTH: usize = 2;
}

/// One location of the initial image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageEntry {
    pub addr: u32,
    /// The value before the run.
    pub value: u32,
    /// A word of an executable segment: listed only so that no boundary row can claim it as a
    /// fresh (zero-initialised) location; it may not be accessed.
    pub locked: bool,
    /// `Some(k)`: the final value is public value `k` (0: exit code, `1 + i`: digest word `i`).
    pub public_slot: Option<usize>,
}

/// Why the image of a program, or its table, cannot be built.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("the program cannot be loaded: {0}")]
    Load(String),
    #[error("cannot build the initial stack: {0}")]
    Stack(String),
    #[error(
        "public digest word {addr:#010x} lies in an executable segment (the digest region must be data)"
    )]
    DigestInCode { addr: u32 },
    #[error("image table height {height} is not a power of two in [{MIN_TRACE_HEIGHT}, 2^23]")]
    BadHeight { height: usize },
    #[error("the image has {entries} locations, more than the table height {height}")]
    HeightTooSmall { entries: usize, height: usize },
    #[error(
        "image entry {index} at {addr:#010x} does not follow the previous one (addresses must strictly increase)"
    )]
    Unsorted { index: usize, addr: u32 },
    #[error("public slot {slot} is held by {count} image entries, expected exactly one")]
    Slot { slot: usize, count: usize },
}

/// Adds `addr` to the image (idempotent; a word is locked if any listing locks it).
fn insert(map: &mut BTreeMap<u32, ImageEntry>, addr: u32, value: u32, locked: bool) {
    let entry = map.entry(addr).or_insert(ImageEntry {
        addr,
        value,
        locked,
        public_slot: None,
    });
    entry.locked |= locked;
}

/// The initial image of a one-shard run of `program` with no arguments and no environment,
/// sorted by address, addresses distinct. Values are those of a freshly loaded executor (as the
/// verifier's `InitialImage`): registers as the loader sets them (`$sp`, the rest zero), HI, LO and
/// LLbit zero, memory as loaded.
///
/// Completeness (what makes zero-initialised *fresh* locations sound): every memory word that can
/// hold a nonzero initial value is listed — the segments' file bytes and the initial stack block
/// are the only bytes the loader writes.
pub fn image_entries(program: &Program) -> Result<Vec<ImageEntry>, ImageError> {
    let executor = Executor::new(program, crate::machine::executor_config(vec![], vec![], 1))
        .map_err(|e| ImageError::Load(e.to_string()))?;
    let memory = executor.memory();
    let mut map = BTreeMap::new();

    for reg in 0..NUM_REG_LOCATIONS as u32 {
        let value = if reg < 32 {
            executor.reg(reg as usize)
        } else {
            0 // HI, LO and LLbit start at zero.
        };
        insert(&mut map, reg, value, false);
    }
    for segment in &program.segments {
        // Code words are locked over the whole segment (any tail included); data words are
        // listed over the file bytes (the zero tail may be opened as fresh locations).
        let end = if segment.executable {
            segment.end()
        } else {
            u64::from(segment.vaddr) + segment.data.len().min(segment.mem_size as usize) as u64
        };
        let mut word = u64::from(segment.vaddr & !3);
        while word < end {
            let addr = word as u32;
            insert(
                &mut map,
                addr,
                memory.peek_word(addr),
                program.is_executable(addr),
            );
            word += 4;
        }
    }
    let stack = zkmips_executor::image::try_build_initial_stack(program, &[], &[])
        .map_err(|e| ImageError::Stack(e.to_string()))?;
    let stack_end = u64::from(stack.base) + stack.bytes.len() as u64;
    let mut word = u64::from(stack.base & !3);
    while word < stack_end {
        let addr = word as u32;
        insert(&mut map, addr, memory.peek_word(addr), false);
        word += 4;
    }
    for k in 0..PUBLIC_DIGEST_LEN / 4 {
        let addr = PUBLIC_DIGEST_ADDR + 4 * k;
        insert(&mut map, addr, memory.peek_word(addr), false);
    }

    map.get_mut(&EXIT_CODE_LOCATION)
        .expect("every register is listed")
        .public_slot = Some(0);
    for k in 0..PUBLIC_DIGEST_LEN / 4 {
        let addr = PUBLIC_DIGEST_ADDR + 4 * k;
        let entry = map.get_mut(&addr).expect("every digest word is listed");
        if entry.locked {
            return Err(ImageError::DigestInCode { addr });
        }
        entry.public_slot = Some(1 + k as usize);
    }
    Ok(map.into_values().collect())
}

/// The public words `[exit code, digest word 0..8]` of a run with `exit_code` that published
/// `digest` (word `k` holds digest bytes `4k..4k+4`, little-endian, as the guest stores them).
pub fn public_words(exit_code: u32, digest: &[u8; 32]) -> [u32; PUBLIC_WORDS] {
    let mut words = [0; PUBLIC_WORDS];
    words[0] = exit_code;
    for (word, bytes) in words[1..].iter_mut().zip(digest.chunks_exact(4)) {
        *word = u32::from_le_bytes(bytes.try_into().expect("4 bytes"));
    }
    words
}

/// The chip's public values for `words`: `(lo, hi)` limbs of each public word in slot order.
pub fn encode_public_words<F: Field>(words: &[u32; PUBLIC_WORDS]) -> Vec<F> {
    words
        .iter()
        .flat_map(|&word| word_limbs(word).map(F::from_u32))
        .collect()
}

/// The image table of one program at a fixed height.
#[derive(Clone, Debug)]
pub struct MemoryImageChip {
    entries: Arc<Vec<ImageEntry>>,
    height: usize,
}

impl MemoryImageChip {
    pub const fn name(&self) -> &'static str {
        "MemoryImage"
    }

    /// The table of `entries` (strictly increasing addresses, each public slot held by exactly
    /// one entry) padded with all-zero rows to `height`, a power of two: fixed heights give the
    /// proof a fixed shape.
    pub fn new(entries: Vec<ImageEntry>, height: usize) -> Result<Self, ImageError> {
        if !height.is_power_of_two()
            || !(MIN_TRACE_HEIGHT..=1 << MAX_LOG_TRACE_HEIGHT).contains(&height)
        {
            return Err(ImageError::BadHeight { height });
        }
        if entries.len() > height {
            return Err(ImageError::HeightTooSmall {
                entries: entries.len(),
                height,
            });
        }
        for (index, pair) in entries.windows(2).enumerate() {
            if pair[1].addr <= pair[0].addr {
                return Err(ImageError::Unsorted {
                    index: index + 1,
                    addr: pair[1].addr,
                });
            }
        }
        for slot in 0..PUBLIC_WORDS {
            let count = entries
                .iter()
                .filter(|e| e.public_slot == Some(slot))
                .count();
            if count != 1 {
                return Err(ImageError::Slot { slot, count });
            }
        }
        if let Some(entry) = entries
            .iter()
            .find(|e| e.public_slot.is_some_and(|s| s >= PUBLIC_WORDS))
        {
            return Err(ImageError::Slot {
                slot: entry.public_slot.unwrap_or_default(),
                count: 1,
            });
        }
        Ok(Self {
            entries: Arc::new(entries),
            height,
        })
    }

    pub fn entries(&self) -> &[ImageEntry] {
        &self.entries
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// The final value of every entry (in entry order) as `rows` (the boundary built by
    /// [`super::memory_final::MemoryFinalChip::rows`] from this image) close it.
    pub fn finals(&self, rows: &[FinalRow]) -> Result<Vec<u32>, TraceError> {
        let by_addr: std::collections::HashMap<u32, u32> = rows
            .iter()
            .filter(|row| row.is_image)
            .map(|row| (row.addr, row.final_value))
            .collect();
        self.entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                by_addr
                    .get(&entry.addr)
                    .copied()
                    .ok_or_else(|| TraceError::InvalidRow {
                        chip: "MemoryImage",
                        row: index,
                        reason: format!("image location {:#010x} has no boundary row", entry.addr),
                    })
            })
            .collect()
    }

    /// The public words `[exit code, digest words]` given every entry's final value.
    pub fn public_words_of(&self, finals: &[u32]) -> Result<[u32; PUBLIC_WORDS], TraceError> {
        self.check_finals(finals)?;
        let mut words = [0; PUBLIC_WORDS];
        for (entry, &value) in self.entries.iter().zip(finals) {
            if let Some(slot) = entry.public_slot {
                words[slot] = value;
            }
        }
        Ok(words)
    }

    fn check_finals(&self, finals: &[u32]) -> Result<(), TraceError> {
        if finals.len() != self.entries.len() {
            return Err(TraceError::InvalidRow {
                chip: "MemoryImage",
                row: finals.len().min(self.entries.len()),
                reason: format!(
                    "{} final values for {} image locations",
                    finals.len(),
                    self.entries.len()
                ),
            });
        }
        Ok(())
    }

    /// The main trace: row `i` holds `finals[i]`, the final value of entry `i`.
    pub fn generate_trace<F: Field>(
        &self,
        finals: &[u32],
    ) -> Result<RowMajorMatrix<F>, TraceError> {
        self.check_finals(finals)?;
        let mut values = F::zero_vec(self.height * cols::WIDTH);
        for (&value, out) in finals.iter().zip(values.chunks_exact_mut(cols::WIDTH)) {
            let [lo, hi] = word_limbs(value);
            out[cols::FINAL] = F::from_u32(lo);
            out[cols::FINAL + 1] = F::from_u32(hi);
        }
        Ok(RowMajorMatrix::new(values, cols::WIDTH))
    }
}

impl<F: Field> BaseAir<F> for MemoryImageChip {
    fn width(&self) -> usize {
        cols::WIDTH
    }

    fn preprocessed_trace(&self) -> Option<RowMajorMatrix<F>> {
        let mut values = F::zero_vec(self.height * prep::WIDTH);
        for (entry, out) in self
            .entries
            .iter()
            .zip(values.chunks_exact_mut(prep::WIDTH))
        {
            out[prep::IS_REAL] = F::ONE;
            for (base, word) in [(prep::ADDR, entry.addr), (prep::INIT, entry.value)] {
                let [lo, hi] = word_limbs(word);
                out[base] = F::from_u32(lo);
                out[base + 1] = F::from_u32(hi);
            }
            out[prep::LOCKED] = F::from_bool(entry.locked);
            if let Some(slot) = entry.public_slot {
                out[prep::SLOT + slot] = F::ONE;
            }
        }
        Some(RowMajorMatrix::new(values, prep::WIDTH))
    }

    fn preprocessed_width(&self) -> usize {
        prep::WIDTH
    }

    fn num_public_values(&self) -> usize {
        NUM_PUBLIC_VALUES
    }

    fn main_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }

    fn preprocessed_next_row_columns(&self) -> Vec<usize> {
        vec![]
    }
}

impl<AB: PermutationAirBuilder + InteractionBuilder> Air<AB> for MemoryImageChip {
    fn eval(&self, builder: &mut AB) {
        let p: Vec<AB::Expr> = builder
            .preprocessed()
            .current_slice()
            .iter()
            .map(|&v| v.into())
            .collect();
        let main: Vec<AB::Expr> = builder
            .main()
            .current_slice()
            .iter()
            .map(|&v| v.into())
            .collect();
        let public: Vec<AB::Expr> = builder.public_values().iter().map(|&v| v.into()).collect();
        let final_value = [main[cols::FINAL].clone(), main[cols::FINAL + 1].clone()];

        // The row holding public slot k ends with public word k.
        for slot in 0..PUBLIC_WORDS {
            let flag = p[prep::SLOT + slot].clone();
            for (limb, value) in final_value.iter().enumerate() {
                builder
                    .assert_zero(flag.clone() * (value.clone() - public[2 * slot + limb].clone()));
            }
        }

        let [final_lo, final_hi] = final_value;
        IMAGE_BUS.send(
            builder,
            [
                p[prep::ADDR].clone(),
                p[prep::ADDR + 1].clone(),
                p[prep::INIT].clone(),
                p[prep::INIT + 1].clone(),
                final_lo,
                final_hi,
                p[prep::LOCKED].clone(),
            ],
            Count::bounded(p[prep::IS_REAL].clone(), 1),
        );
    }
}

#[cfg(test)]
mod tests {
    use p3_field::PrimeCharacteristicRing;

    use super::*;
    use crate::chips::memory_final::tests::{
        CODE, DATA, DIGEST, IMAGE, Run, assert_caught_by, program, synthetic_image,
    };
    use crate::chips::testing::assert_public_values_bound;
    use crate::config::Val;

    #[test]
    fn image_lists_registers_segments_stack_and_digest() {
        let program = program();
        let entries = image_entries(&program).unwrap();
        assert!(entries.windows(2).all(|p| p[0].addr < p[1].addr));
        let at = |addr: u32| entries.iter().find(|e| e.addr == addr).copied();
        let stack = zkmips_executor::image::try_build_initial_stack(&program, &[], &[]).unwrap();
        for reg in 0..NUM_REG_LOCATIONS as u32 {
            let value = if reg == 29 { stack.sp } else { 0 };
            assert_eq!(at(reg).unwrap().value, value, "register {reg}");
        }
        let code = &program.segments[0];
        for (k, word) in code.data.chunks(4).enumerate() {
            let entry = at(CODE + 4 * k as u32).unwrap();
            assert!(entry.locked);
            assert_eq!(entry.value.to_le_bytes(), word);
        }
        assert_eq!(
            (at(DATA).unwrap().value, at(DATA).unwrap().locked),
            (1, false)
        );
        assert_eq!(at(DATA + 4).unwrap().value, 2);
        assert_eq!(at(DATA + 8), None, "the zero tail is not listed");
        for (k, word) in stack.bytes.chunks(4).enumerate() {
            let entry = at(stack.base + 4 * k as u32).unwrap();
            assert_eq!(entry.value.to_le_bytes(), word);
        }
        assert_eq!(at(EXIT_CODE_LOCATION).unwrap().public_slot, Some(0));
        for k in 0..8 {
            assert_eq!(
                at(DIGEST + 4 * k).unwrap().public_slot,
                Some(1 + k as usize)
            );
        }
        let count = 35 + code.data.len() / 4 + 2 + stack.bytes.len() / 4 + 8;
        assert_eq!(entries.len(), count);
        MemoryImageChip::new(entries, 256).expect("the image fits");
    }

    #[test]
    fn digest_region_in_code_is_refused() {
        let program = Program::from_code(DIGEST, &[0x0000_000c; 4]);
        assert_eq!(
            image_entries(&program),
            Err(ImageError::DigestInCode { addr: DIGEST })
        );
    }

    #[test]
    fn table_refuses_bad_heights_orders_and_slots() {
        let entries = synthetic_image();
        assert!(matches!(
            MemoryImageChip::new(entries.clone(), 48),
            Err(ImageError::BadHeight { .. })
        ));
        assert!(matches!(
            MemoryImageChip::new(entries.clone(), 32),
            Err(ImageError::HeightTooSmall { .. })
        ));
        let mut unsorted = entries.clone();
        unsorted.swap(1, 2);
        assert!(matches!(
            MemoryImageChip::new(unsorted, 64),
            Err(ImageError::Unsorted { index: 2, .. })
        ));
        let mut no_exit = entries.clone();
        no_exit[4].public_slot = None;
        assert_eq!(
            MemoryImageChip::new(no_exit, 64).unwrap_err(),
            ImageError::Slot { slot: 0, count: 0 }
        );
        let mut twice = entries.clone();
        twice[5].public_slot = Some(3);
        assert_eq!(
            MemoryImageChip::new(twice, 64).unwrap_err(),
            ImageError::Slot { slot: 3, count: 2 }
        );
        let chip = MemoryImageChip::new(entries, 64).unwrap();
        assert!(chip.generate_trace::<Val>(&[0; 3]).is_err());
    }

    #[test]
    fn public_values_are_the_final_values() {
        let run = Run::synthetic();
        let finals = run.image.finals(&run.rows).unwrap();
        assert_eq!(
            run.image.public_words_of(&finals).unwrap(),
            [7, 0xdead_beef, 0, 0, 0x0102_0304, 0, 0, 0, 0]
        );
        let mut digest = [0u8; 32];
        digest[..4].copy_from_slice(&0xdead_beefu32.to_le_bytes());
        digest[12..16].copy_from_slice(&0x0102_0304u32.to_le_bytes());
        assert_eq!(
            public_words(7, &digest),
            run.image.public_words_of(&finals).unwrap()
        );
    }

    /// The verifier's public values are bound: another exit code or digest does not verify.
    #[test]
    fn proof_binds_the_public_values() {
        let tables = Run::synthetic().honest_tables();
        assert_public_values_bound(&tables, |values| values[IMAGE][0] += Val::ONE);
        assert_public_values_bound(&tables, |values| values[IMAGE][2 * 8 + 1] += Val::ONE);
    }

    #[test]
    fn wrong_exit_code_is_rejected() {
        let mut tables = Run::synthetic().honest_tables();
        tables[IMAGE].public_values[0] = Val::from_u32(8);
        assert_caught_by(&tables, &["MemoryImage"], &[]);
    }

    #[test]
    fn wrong_digest_limb_is_rejected() {
        let mut tables = Run::synthetic().honest_tables();
        tables[IMAGE].public_values[2 * 4 + 1] += Val::ONE;
        assert_caught_by(&tables, &["MemoryImage"], &[]);
    }

    /// The image chip's final value of a public word changed together with its public value:
    /// the final chip does not answer that message.
    #[test]
    fn wrong_final_in_the_image_is_rejected() {
        let run = Run::synthetic();
        let index = run
            .image
            .entries()
            .iter()
            .position(|e| e.addr == DIGEST)
            .unwrap();
        let mut tables = run.honest_tables();
        tables[IMAGE].trace.values[index * cols::WIDTH + cols::FINAL] += Val::ONE;
        tables[IMAGE].public_values[2] += Val::ONE;
        assert_caught_by(&tables, &[], &["image"]);
    }
}
