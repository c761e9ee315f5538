//! The inner Fiat-Shamir transcript as a recursion program: `p3_challenger::DuplexChallenger<
//! KoalaBear, Poseidon2KoalaBear<16>, 16, 8>` of p3-challenger 0.8, replayed operation by
//! operation.
//!
//! Native behaviour mirrored here (p3-challenger 0.8.0, `duplex_challenger.rs`,
//! `grinding_challenger.rs`, `lib.rs`):
//! - The sponge starts all zero; `new` absorbs nothing. (Domain separation in 0.8 lives one
//!   layer up: the typed transcript seeds the challenger by *observing* a protocol-dependent
//!   prefix, which a program replays with ordinary [`DuplexChallengerVar::observe`] calls on
//!   constants.)
//! - `observe` discards any unread output, queues the value and duplexes once 8 are queued.
//! - A duplex with `n > 0` queued values overwrites rate slots `0..n` with them, zeroes slots
//!   `n..8`, adds `n` to the first capacity slot (`state[8]`), permutes, and makes the rate
//!   `state[0..8]` the output. A duplex with nothing queued (a pure squeeze) permutes the state
//!   unchanged.
//! - `sample` duplexes if values are queued or no output is left, then hands out the output
//!   from the *last* rate slot backwards.
//! - An extension element is observed / sampled as its 4 base coordinates in order.
//! - `sample_bits(b)` is the low `b` bits of the canonical value of one sample.
//! - `check_witness(b, w)`: for `b = 0` nothing happens; otherwise observe `w` and require
//!   `sample_bits(b) == 0`.
//!
//! Whether a duplex happens depends only on how many values were observed or sampled, never on
//! their values, so the program decides it with Rust control flow on the gadget's own buffer
//! lengths: the same program is correct for every witness.

use p3_field::PrimeCharacteristicRing;

use crate::builder::{Builder, Ext, Felt};
use crate::ir::{PERM_WIDTH, Val};

/// Rate of the inner challenger: values absorbed / squeezed per permutation.
pub const CHALLENGER_RATE: usize = 8;

/// Number of elements of an inner Merkle digest (a `Hash` / single-root `MerkleCap`).
pub const DIGEST_ELEMS: usize = 8;

/// Largest `bits` native `sample_bits` accepts: it asserts `2^bits < p` (`p < 2^31`).
pub const MAX_SAMPLE_BITS: usize = 30;

/// A sampled value reduced to its low bits.
#[derive(Clone, Debug)]
pub struct SampledBits {
    /// The low bits of the sample, little-endian, each proven boolean.
    pub bits: Vec<Felt>,
    /// `sum_i bits[i] * 2^i`, what native `sample_bits` returns.
    pub value: Felt,
}

/// In-program state of a `DuplexChallenger`: the same three fields as the native struct, with
/// cells in place of values.
#[derive(Clone, Debug)]
pub struct DuplexChallengerVar {
    sponge_state: [Felt; PERM_WIDTH],
    input_buffer: Vec<Felt>,
    output_buffer: Vec<Felt>,
}

impl DuplexChallengerVar {
    /// The fresh transcript (all-zero sponge, empty buffers), as native `new`.
    pub fn new(builder: &mut Builder) -> Self {
        let zero = builder.constant(Val::ZERO);
        Self {
            sponge_state: [zero; PERM_WIDTH],
            input_buffer: Vec::new(),
            output_buffer: Vec::new(),
        }
    }

    /// Number of observed values not yet absorbed (native `input_buffer.len()`).
    pub fn pending_inputs(&self) -> usize {
        self.input_buffer.len()
    }

    /// Number of squeezed values not yet handed out (native `output_buffer.len()`).
    pub fn available_outputs(&self) -> usize {
        self.output_buffer.len()
    }

    fn duplexing(&mut self, builder: &mut Builder) {
        let absorbed = self.input_buffer.len();
        assert!(
            absorbed <= CHALLENGER_RATE,
            "the input buffer never exceeds the rate"
        );
        for (slot, value) in self.input_buffer.drain(..).enumerate() {
            self.sponge_state[slot] = value;
        }
        if absorbed > 0 {
            // Zeroing the rest of the rate and tagging the length keeps absorbs prefix-free.
            let zero = builder.constant(Val::ZERO);
            for slot in &mut self.sponge_state[absorbed..CHALLENGER_RATE] {
                *slot = zero;
            }
            self.sponge_state[CHALLENGER_RATE] = builder.add_const(
                self.sponge_state[CHALLENGER_RATE],
                Val::from_usize(absorbed),
            );
        }
        self.sponge_state = builder.poseidon2(self.sponge_state);
        self.output_buffer.clear();
        self.output_buffer
            .extend_from_slice(&self.sponge_state[..CHALLENGER_RATE]);
    }

    /// Observes one base value.
    pub fn observe(&mut self, builder: &mut Builder, value: Felt) {
        // Outputs squeezed before this value must not be handed out after it.
        self.output_buffer.clear();
        self.input_buffer.push(value);
        if self.input_buffer.len() == CHALLENGER_RATE {
            self.duplexing(builder);
        }
    }

    /// Observes base values in order.
    pub fn observe_slice(&mut self, builder: &mut Builder, values: &[Felt]) {
        for &value in values {
            self.observe(builder, value);
        }
    }

    /// Observes values fixed by the program (e.g. the domain-separator seed the 0.8 typed
    /// transcript absorbs before anything else; record it natively with any `CanObserve<Val>`
    /// sink and replay it here).
    pub fn observe_constants(&mut self, builder: &mut Builder, values: &[Val]) {
        for &value in values {
            let cell = builder.constant(value);
            self.observe(builder, cell);
        }
    }

    /// Observes an extension element as its base coordinates in order (native
    /// `observe_algebra_element`).
    pub fn observe_ext(&mut self, builder: &mut Builder, value: Ext) {
        let coordinates = builder.ext_coordinates(value);
        self.observe_slice(builder, &coordinates);
    }

    /// Observes a digest (a `Hash`, or a Merkle cap of height 0, i.e. one root) element by
    /// element.
    pub fn observe_digest(&mut self, builder: &mut Builder, digest: [Felt; DIGEST_ELEMS]) {
        self.observe_slice(builder, &digest);
    }

    /// Observes a Merkle cap: every root in order, each element by element.
    pub fn observe_cap(&mut self, builder: &mut Builder, roots: &[[Felt; DIGEST_ELEMS]]) {
        for root in roots {
            self.observe_digest(builder, *root);
        }
    }

    /// Samples one base value.
    pub fn sample(&mut self, builder: &mut Builder) -> Felt {
        // Queued inputs must influence the sample; an exhausted output needs a fresh squeeze.
        if !self.input_buffer.is_empty() || self.output_buffer.is_empty() {
            self.duplexing(builder);
        }
        self.output_buffer
            .pop()
            .expect("a duplex refills the output buffer")
    }

    /// Samples an extension element: four samples, coordinates in order (native
    /// `sample_algebra_element`).
    pub fn sample_ext(&mut self, builder: &mut Builder) -> Ext {
        let coordinates: [Felt; 4] = core::array::from_fn(|_| self.sample(builder));
        builder.ext_from_coordinates(coordinates)
    }

    /// The low `bits` bits of one sample, as native `sample_bits` (which always consumes a
    /// sample, even for `bits = 0`).
    ///
    /// # Panics
    /// If `bits > 30`, as the native code does: the bound is a fixed protocol parameter.
    pub fn sample_bits(&mut self, builder: &mut Builder, bits: usize) -> SampledBits {
        assert!(
            bits <= MAX_SAMPLE_BITS,
            "sample_bits({bits}): at most {MAX_SAMPLE_BITS} bits of a KoalaBear sample"
        );
        let sample = self.sample(builder);
        let bits = if bits == 0 {
            Vec::new()
        } else {
            // The canonical decomposition: bits of `sample + p` would change the low bits.
            builder.bits(sample)[..bits].to_vec()
        };
        let value = builder.weighted_sum(&bits);
        SampledBits { bits, value }
    }

    /// Proof-of-work check, as native `GrindingChallenger::check_witness`: the program fails
    /// unless the `bits` low bits of the sample after observing `witness` are all zero. For
    /// `bits = 0` the witness is neither observed nor checked (the native verifier separately
    /// requires it to be zero; see `p3_fri::verifier`).
    pub fn check_witness(&mut self, builder: &mut Builder, bits: usize, witness: Felt) {
        if bits == 0 {
            return;
        }
        self.observe(builder, witness);
        let sampled = self.sample_bits(builder, bits);
        for bit in sampled.bits {
            builder.assert_eq_const(bit, Val::ZERO);
        }
    }
}

#[cfg(test)]
mod tests {
    use p3_challenger::fs::{DomainSeparator, FieldUnit, InteractionPattern};
    use p3_challenger::{
        CanObserve, CanSample, CanSampleBits, FieldChallenger, GrindingChallenger,
    };
    use p3_field::{BasedVectorSpace, PrimeField32};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use zkmips_prover::config::{Challenger, inner_perm};

    use super::*;
    use crate::ir::{Challenge, Program};
    use crate::runtime::{RuntimeError, execute};

    /// One transcript operation, applied to the native challenger and to the program alike.
    #[derive(Clone, Copy, Debug)]
    enum Op {
        Observe(usize),
        ObserveExt(usize),
        ObserveDigest,
        Sample,
        SampleExt,
        SampleBits(usize),
        /// Proof-of-work check at difficulty 0: a no-op on both sides.
        CheckWitnessZeroBits,
    }

    fn random_val(rng: &mut StdRng) -> Val {
        Val::from_u32(rng.random_range(0..Val::ORDER_U32))
    }

    /// Runs `ops` natively with random observed values; returns the witness stream (the
    /// observed values in order) and the expected public values (every sample, in order).
    fn native_run(ops: &[Op], rng: &mut StdRng) -> (Vec<Val>, Vec<Val>) {
        let mut challenger = Challenger::new(inner_perm());
        let mut witness = Vec::new();
        let mut expected = Vec::new();
        for &op in ops {
            match op {
                Op::Observe(count) => {
                    for _ in 0..count {
                        let value = random_val(rng);
                        witness.push(value);
                        challenger.observe(value);
                    }
                }
                Op::ObserveExt(count) => {
                    for _ in 0..count {
                        let value = Challenge::from_basis_coefficients_fn(|_| random_val(rng));
                        witness.extend_from_slice(value.as_basis_coefficients_slice());
                        challenger.observe_algebra_element(value);
                    }
                }
                Op::ObserveDigest => {
                    let digest: [Val; DIGEST_ELEMS] = core::array::from_fn(|_| random_val(rng));
                    witness.extend_from_slice(&digest);
                    challenger.observe(p3_symmetric::Hash::<Val, Val, DIGEST_ELEMS>::from(digest));
                }
                Op::Sample => expected.push(CanSample::<Val>::sample(&mut challenger)),
                Op::SampleExt => {
                    let value: Challenge = challenger.sample_algebra_element();
                    expected.extend_from_slice(value.as_basis_coefficients_slice());
                }
                Op::SampleBits(bits) => {
                    expected.push(Val::from_usize(challenger.sample_bits(bits)));
                }
                Op::CheckWitnessZeroBits => {
                    let value = random_val(rng);
                    witness.push(value);
                    assert!(challenger.check_witness(0, value));
                }
            }
        }
        (witness, expected)
    }

    /// The program doing `ops` with observed values read from the witness stream.
    fn program(ops: &[Op]) -> Program {
        let mut builder = Builder::new();
        let mut challenger = DuplexChallengerVar::new(&mut builder);
        for &op in ops {
            match op {
                Op::Observe(count) => {
                    let values: Vec<Felt> = (0..count).map(|_| builder.witness()).collect();
                    challenger.observe_slice(&mut builder, &values);
                }
                Op::ObserveExt(count) => {
                    for _ in 0..count {
                        let value = builder.witness_ext();
                        challenger.observe_ext(&mut builder, value);
                    }
                }
                Op::ObserveDigest => {
                    let digest: [Felt; DIGEST_ELEMS] = core::array::from_fn(|_| builder.witness());
                    challenger.observe_digest(&mut builder, digest);
                }
                Op::Sample => {
                    let value = challenger.sample(&mut builder);
                    builder.public(value);
                }
                Op::SampleExt => {
                    let value = challenger.sample_ext(&mut builder);
                    for coordinate in builder.ext_coordinates(value) {
                        builder.public(coordinate);
                    }
                }
                Op::SampleBits(bits) => {
                    let sampled = challenger.sample_bits(&mut builder, bits);
                    assert_eq!(sampled.bits.len(), bits);
                    builder.public(sampled.value);
                }
                Op::CheckWitnessZeroBits => {
                    let value = builder.witness();
                    challenger.check_witness(&mut builder, 0, value);
                }
            }
        }
        builder.build().expect("a well-formed program")
    }

    fn assert_transcript_matches(ops: &[Op], seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (witness, expected) = native_run(ops, &mut rng);
        let execution = execute(&program(ops), &witness).expect("the honest run succeeds");
        assert_eq!(execution.public_values, expected, "ops {ops:?}");
    }

    #[test]
    fn transcript_matches_native_across_buffer_boundaries() {
        use Op::*;
        // Observation counts between samples straddle the rate (0, 1, 7, 8, 9, 17), samples
        // straddle the output buffer (more than 8 in a row, ext samples split across two
        // squeezes), and observations interrupt partly consumed outputs.
        let ops = [
            Sample,
            Sample,
            Observe(1),
            Sample,
            Observe(7),
            SampleExt,
            Observe(8),
            Sample,
            Sample,
            Observe(9),
            SampleBits(5),
            Observe(17),
            SampleExt,
            SampleExt,
            SampleExt,
            Sample,
            ObserveDigest,
            SampleBits(30),
            SampleBits(1),
            SampleBits(0),
            ObserveExt(1),
            Observe(3),
            ObserveExt(2),
            SampleExt,
            Observe(8),
            Observe(8),
            SampleBits(16),
            Observe(2),
            CheckWitnessZeroBits,
            Sample,
            ObserveDigest,
            ObserveDigest,
            Sample,
            Sample,
            Sample,
            Sample,
            Sample,
            Sample,
            Sample,
            Sample,
            Sample,
            Sample,
        ];
        assert_transcript_matches(&ops, 1);
        assert_transcript_matches(&ops, 2);
    }

    #[test]
    fn transcript_matches_native_for_every_observation_count() {
        use Op::*;
        // Every buffer fill level 0..=17 before a sample, and before an ext sample.
        for count in 0..=17 {
            assert_transcript_matches(&[Observe(count), Sample, Sample], count as u64);
            assert_transcript_matches(&[Observe(count), SampleExt, Observe(1), SampleExt], 100);
        }
    }

    /// Any other value of the observed data changes the samples: the program's outputs are
    /// bound to its inputs (a tampered observation gives public values that differ from the
    /// native ones).
    #[test]
    fn tampered_observation_changes_the_samples() {
        use Op::*;
        let ops = [Observe(3), Sample, ObserveExt(1), SampleExt];
        let mut rng = StdRng::seed_from_u64(7);
        let (mut witness, expected) = native_run(&ops, &mut rng);
        witness[1] += Val::ONE;
        let execution = execute(&program(&ops), &witness).expect("any witness runs");
        assert_ne!(execution.public_values[0], expected[0]);
        assert_ne!(execution.public_values[1..], expected[1..]);
    }

    /// The native challenger after `prefix` random observations, and the program state after
    /// the same observations read from the witness.
    fn grinding_program(prefix: usize, bits: usize) -> Program {
        let mut builder = Builder::new();
        let mut challenger = DuplexChallengerVar::new(&mut builder);
        let values: Vec<Felt> = (0..prefix).map(|_| builder.witness()).collect();
        challenger.observe_slice(&mut builder, &values);
        let witness = builder.witness();
        challenger.check_witness(&mut builder, bits, witness);
        // The transcript continues after the check exactly as natively.
        let after = challenger.sample(&mut builder);
        builder.public(after);
        builder.build().expect("a well-formed program")
    }

    #[test]
    fn grinding_witness_is_checked_like_native() {
        for (prefix, bits) in [(0, 8), (3, 12), (7, 16), (8, 4), (13, 16)] {
            let mut rng = StdRng::seed_from_u64(prefix as u64);
            let observed: Vec<Val> = (0..prefix).map(|_| random_val(&mut rng)).collect();
            let mut native = Challenger::new(inner_perm());
            native.observe_slice(&observed);

            let pow_witness = native.clone().grind(bits);
            let mut checked = native.clone();
            assert!(checked.check_witness(bits, pow_witness));
            let after: Val = checked.sample();

            let program = grinding_program(prefix, bits);
            let mut stream = observed.clone();
            stream.push(pow_witness);
            let execution = execute(&program, &stream).expect("the ground witness passes");
            assert_eq!(execution.public_values, vec![after]);

            // A witness the native check rejects makes the program fail.
            let mut wrong = pow_witness + Val::ONE;
            while native.clone().check_witness(bits, wrong) {
                wrong += Val::ONE;
            }
            let mut stream = observed.clone();
            stream.push(wrong);
            assert!(
                matches!(
                    execute(&program, &stream),
                    Err(RuntimeError::AssertionFailed { .. })
                ),
                "prefix {prefix}, bits {bits}: a failing witness must be rejected"
            );
        }
    }

    /// Collects what a native seeding observes.
    #[derive(Default)]
    struct Observed(Vec<Val>);

    impl CanObserve<Val> for Observed {
        fn observe(&mut self, value: Val) {
            self.0.push(value);
        }
    }

    /// The 0.8 typed transcript seeds the challenger by observing a domain separator; the
    /// program replays the recorded seed as constants and reaches the same state.
    #[test]
    fn domain_separator_seed_replays_as_constants() {
        let pattern = InteractionPattern::new(Vec::new()).expect("the empty pattern");
        let separator = DomainSeparator::<FieldUnit<Val>>::new(1, b"zkmips-gadget-test", pattern);
        let mut seed = Observed::default();
        separator.seed(&mut seed);
        let mut native = Challenger::new(inner_perm());
        separator.seed(&mut native);
        let expected: Challenge = native.sample_algebra_element();

        let mut builder = Builder::new();
        let mut challenger = DuplexChallengerVar::new(&mut builder);
        challenger.observe_constants(&mut builder, &seed.0);
        let sampled = challenger.sample_ext(&mut builder);
        for coordinate in builder.ext_coordinates(sampled) {
            builder.public(coordinate);
        }
        let execution = execute(&builder.build().unwrap(), &[]).unwrap();
        assert!(!seed.0.is_empty());
        assert_eq!(
            execution.public_values,
            expected.as_basis_coefficients_slice()
        );
    }

    /// `sample_bits` of every width 1..=30 agrees with native on many samples (the bits come
    /// from the canonical value, as natively; `Builder::bits` proves that decomposition).
    #[test]
    fn sample_bits_agrees_with_native_on_many_samples() {
        use Op::*;
        let ops: Vec<Op> = (0..40)
            .flat_map(|i| [Observe(i % 5), SampleBits(1 + i % 30)])
            .collect();
        assert_transcript_matches(&ops, 11);
    }
}
