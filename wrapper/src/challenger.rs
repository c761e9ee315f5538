//! The outer Fiat-Shamir transcript in-circuit: `MultiField32Challenger<KoalaBear, Bn254,
//! Poseidon2Bn254<3>, 3, 2>` of p3-challenger 0.8, replayed operation by operation.
//!
//! Mirrored semantics (read from p3-challenger 0.8.0 `multi_field_challenger.rs` and
//! `duplex_challenger.rs`):
//! - observing a KoalaBear value queues it; a full queue (2 cells x 8 values) is flushed.
//! - a flush packs the queue into cells as `Σ v_i * 2^(31 i)` (unshifted), overwrites the rate
//!   with them (zeroing unused rate cells), adds the number of queued values to the capacity
//!   cell, permutes, and makes the rate cells the available output.
//! - observing a digest flushes the queue, then absorbs the digest the same way with tag 1.
//! - sampling flushes the queue; when no limbs are left it permutes (unless an absorb just made
//!   the rate available), splits every rate cell into 7 base-p digits (little-endian) and hands
//!   them out from the last one backwards.
//! - `sample_bits(b)` is the low `b` bits of a sampled value; proof of work observes the witness
//!   and requires `sample_bits(b) == 0`.
//!
//! Splitting a squeezed Fr into digits is the only non-trivial constraint: the digits and the
//! remaining high part must be the canonical decomposition, i.e. the integer they denote must be
//! `< |Fr|`, or a prover could shift the challenge by `|Fr|`.

use ark_ff::PrimeField;
use ark_r1cs_std::GR1CSVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use num_bigint::BigUint;
use p3_bn254::Bn254;
use p3_field::{absorb_radix_bits, max_absorb_injective_limbs, squeeze_field_order_num_limbs};
use p3_koala_bear::KoalaBear;

use crate::Fr;
use crate::koalabear::{
    KOALABEAR_MODULUS, KbExtVar, KbVar, alloc_bits, alloc_canonical_with_bits, equality_flag,
    fr_to_biguint, pack_bits,
};
use crate::poseidon2::{WIDTH, permute};

/// Rate of the outer challenger (`OuterChallenger`'s `RATE`).
pub const CHALLENGER_RATE: usize = 2;

/// A sampled KoalaBear value with its canonical little-endian bits.
#[derive(Clone, Debug)]
pub struct SampledValue {
    pub value: KbVar,
    pub bits: Vec<Boolean<Fr>>,
}

/// The transcript state: the sponge, queued observations and unconsumed outputs.
pub struct ChallengerVar {
    cs: ConstraintSystemRef<Fr>,
    state: [FpVar<Fr>; WIDTH],
    pending: Vec<KbVar>,
    /// Rate cells not yet split into samples (right after an absorb).
    available_cells: Vec<FpVar<Fr>>,
    samples: Vec<SampledValue>,
}

impl ChallengerVar {
    /// The initial (all-zero) transcript.
    pub fn new(cs: ConstraintSystemRef<Fr>) -> Self {
        Self {
            cs,
            state: std::array::from_fn(|_| FpVar::zero()),
            pending: Vec::new(),
            available_cells: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// The constraint system this transcript lives in.
    pub fn cs(&self) -> ConstraintSystemRef<Fr> {
        self.cs.clone()
    }

    fn absorb_limit() -> usize {
        max_absorb_injective_limbs::<KoalaBear, Bn254>() * CHALLENGER_RATE
    }

    /// Overwrite the rate with `cells` (zero-padded), add `tag` to the capacity, permute.
    fn absorb_with_tag(&mut self, cells: &[FpVar<Fr>], tag: u8) -> Result<(), SynthesisError> {
        for i in 0..CHALLENGER_RATE {
            self.state[i] = cells.get(i).cloned().unwrap_or_else(FpVar::zero);
        }
        self.state[CHALLENGER_RATE] += Fr::from(u64::from(tag));
        self.state = permute(&self.state)?;
        self.available_cells = self.state[..CHALLENGER_RATE].to_vec();
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SynthesisError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let limbs = max_absorb_injective_limbs::<KoalaBear, Bn254>();
        let radix = Fr::from(1u64 << absorb_radix_bits::<KoalaBear>());
        let pending = std::mem::take(&mut self.pending);
        let cells = pending
            .chunks(limbs)
            .map(|chunk| {
                let mut packed = FpVar::zero();
                let mut weight = Fr::from(1u64);
                for value in chunk {
                    packed += value.reduce()?.fp().clone() * weight;
                    weight *= radix;
                }
                Ok(packed)
            })
            .collect::<Result<Vec<_>, SynthesisError>>()?;
        let tag = u8::try_from(pending.len()).expect("at most 16 queued values");
        self.absorb_with_tag(&cells, tag)?;
        self.samples.clear();
        Ok(())
    }

    /// Observes one KoalaBear value.
    pub fn observe(&mut self, value: &KbVar) -> Result<(), SynthesisError> {
        self.available_cells.clear();
        self.samples.clear();
        self.pending.push(value.clone());
        if self.pending.len() == Self::absorb_limit() {
            self.flush()?;
        }
        Ok(())
    }

    /// Observes the coefficients of an extension element in order.
    pub fn observe_ext(&mut self, value: &KbExtVar) -> Result<(), SynthesisError> {
        for coefficient in &value.coeffs {
            self.observe(coefficient)?;
        }
        Ok(())
    }

    /// Observes a one-element BN254 digest (a Merkle root of the outer MMCS).
    pub fn observe_digest(&mut self, digest: &FpVar<Fr>) -> Result<(), SynthesisError> {
        self.available_cells.clear();
        self.samples.clear();
        self.flush()?;
        self.absorb_with_tag(std::slice::from_ref(digest), 1)?;
        self.samples.clear();
        Ok(())
    }

    /// Samples one KoalaBear value (with its bits).
    pub fn sample_with_bits(&mut self) -> Result<SampledValue, SynthesisError> {
        self.flush()?;
        if self.samples.is_empty() {
            if self.available_cells.is_empty() {
                self.state = permute(&self.state)?;
                self.available_cells = self.state[..CHALLENGER_RATE].to_vec();
            }
            let cells = std::mem::take(&mut self.available_cells);
            for cell in &cells {
                let digits = split_into_field_order_digits(&self.cs, cell)?;
                self.samples.extend(digits);
            }
        }
        Ok(self.samples.pop().expect("a squeeze yields 14 samples"))
    }

    pub fn sample(&mut self) -> Result<KbVar, SynthesisError> {
        Ok(self.sample_with_bits()?.value)
    }

    /// Samples an extension element, coefficient 0 first.
    pub fn sample_ext(&mut self) -> Result<KbExtVar, SynthesisError> {
        let coeffs = (0..4)
            .map(|_| self.sample())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KbExtVar {
            coeffs: coeffs.try_into().expect("4 coefficients"),
        })
    }

    /// The low `bits` bits of a sampled value, little-endian (e.g. a query index). `bits` must
    /// be below 31, as p3 requires `2^bits < p` (`Unsatisfiable` otherwise: a caller error,
    /// found at synthesis).
    pub fn sample_bits(&mut self, bits: usize) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
        if bits >= 31 {
            return Err(SynthesisError::Unsatisfiable);
        }
        Ok(self.sample_with_bits()?.bits[..bits].to_vec())
    }

    /// Enforces the proof-of-work check: observe `witness`, then `bits` sampled bits are zero.
    pub fn check_witness(&mut self, bits: usize, witness: &KbVar) -> Result<(), SynthesisError> {
        if bits == 0 {
            return Ok(());
        }
        self.observe(witness)?;
        for bit in self.sample_bits(bits)? {
            bit.enforce_equal(&Boolean::FALSE)?;
        }
        Ok(())
    }
}

fn koalabear_modulus() -> BigUint {
    BigUint::from(KOALABEAR_MODULUS)
}

/// Splits a squeezed Fr into its 7 lowest base-p digits (each a canonical KoalaBear element),
/// proving the decomposition `cell = Σ d_i p^i + high * p^7` is the canonical one:
/// `high <= high(|Fr| - 1)`, and when equal, the low part `<= low(|Fr| - 1)`.
fn split_into_field_order_digits(
    cs: &ConstraintSystemRef<Fr>,
    cell: &FpVar<Fr>,
) -> Result<Vec<SampledValue>, SynthesisError> {
    split_with_integer(cs, cell, cell.value().map(fr_to_biguint))
}

/// The split with the decomposed integer supplied by the caller (honestly: the canonical value
/// of `cell`), so tests can check that `value + |Fr|` is rejected.
fn split_with_integer(
    cs: &ConstraintSystemRef<Fr>,
    cell: &FpVar<Fr>,
    value: Result<BigUint, SynthesisError>,
) -> Result<Vec<SampledValue>, SynthesisError> {
    let count = squeeze_field_order_num_limbs::<Bn254, KoalaBear>();
    let p = koalabear_modulus();
    let p_to_count = p.pow(count as u32);
    let largest: BigUint = BigUint::from(Fr::MODULUS) - 1u32;
    let (largest_high, largest_low) = (&largest / &p_to_count, &largest % &p_to_count);

    let mut digits = Vec::with_capacity(count);
    let mut low = FpVar::zero();
    let mut weight = BigUint::from(1u32);
    for _ in 0..count {
        let digit_value = value.clone().map(|v| {
            let digit = (v / &weight) % &p;
            digit.to_u32_digits().first().copied().unwrap_or(0)
        });
        let (digit, bits) = alloc_canonical_with_bits(cs, digit_value)?;
        low += digit.clone() * Fr::from(weight.clone());
        digits.push(SampledValue {
            value: KbVar::from_canonical(digit),
            bits,
        });
        weight *= &p;
    }

    // high <= largest_high: both high and largest_high - high fit in its bit length.
    let high_bits = largest_high.bits() as usize;
    let high_value = value.clone().map(|v| v / &p_to_count);
    let high = pack_bits(&alloc_bits(cs, &high_value, high_bits)?)?;
    let headroom_value = high_value.map(|h| &largest_high - h.min(largest_high.clone()));
    let headroom = pack_bits(&alloc_bits(cs, &headroom_value, high_bits)?)?;
    (&high + &headroom).enforce_equal(&FpVar::constant(Fr::from(largest_high.clone())))?;

    // If high is at its maximum, the low part must not exceed largest_low.
    let high_is_max = equality_flag(cs, &high, Fr::from(largest_high))?;
    let low_slack = &high_is_max * (FpVar::constant(Fr::from(largest_low.clone())) - &low);
    let slack_value = low_slack.value().map(fr_to_biguint);
    let slack = pack_bits(&alloc_bits(cs, &slack_value, largest_low.bits() as usize)?)?;
    slack.enforce_equal(&low_slack)?;

    (low + high * Fr::from(p_to_count)).enforce_equal(cell)?;
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use ark_r1cs_std::alloc::AllocVar;
    use ark_relations::gr1cs::ConstraintSystem;
    use p3_challenger::{CanObserve, CanSample, CanSampleBits, GrindingChallenger};
    use p3_field::{PrimeCharacteristicRing, PrimeField64};
    use p3_symmetric::MerkleCap;
    use zkmips_prover::outer::{OuterChallenge, OuterChallenger, outer_perm};

    use super::*;
    use crate::convert::{bn254_to_fr, fr_to_bn254};
    use crate::test_util::{assert_every_witness_is_bound, splitmix};

    fn kb(seed: &mut u64) -> KoalaBear {
        KoalaBear::from_u64(splitmix(seed) % KoalaBear::ORDER_U64)
    }

    /// Runs the same script on the native challenger and the gadget; returns whether every
    /// sampled value matched and whether the circuit is satisfied.
    fn replay(script: &[Step], tamper_gadget_digests: bool) -> (bool, bool) {
        let mut native = OuterChallenger::new(outer_perm()).unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let mut gadget = ChallengerVar::new(cs.clone());
        let mut all_match = true;
        for step in script {
            match step {
                Step::Observe(v) => {
                    native.observe(*v);
                    let var = KbVar::new_witness(cs.clone(), || Ok(*v)).unwrap();
                    gadget.observe(&var).unwrap();
                }
                Step::ObserveDigest(d) => {
                    native.observe(MerkleCap::<KoalaBear, [Bn254; 1]>::from(vec![[*d]]));
                    let shift = Fr::from(u64::from(tamper_gadget_digests));
                    let var =
                        FpVar::new_witness(cs.clone(), || Ok(bn254_to_fr(*d) + shift)).unwrap();
                    gadget.observe_digest(&var).unwrap();
                }
                Step::Sample => {
                    let expected: KoalaBear = native.sample();
                    all_match &= gadget.sample().unwrap().value().unwrap() == expected;
                }
                Step::SampleExt => {
                    let expected: OuterChallenge = native.sample();
                    all_match &= gadget.sample_ext().unwrap().value().unwrap() == expected;
                }
                Step::SampleBits(bits) => {
                    let expected = native.sample_bits(*bits);
                    let got = gadget.sample_bits(*bits).unwrap();
                    let got: usize = got
                        .iter()
                        .enumerate()
                        .map(|(i, b)| usize::from(b.value().unwrap()) << i)
                        .sum();
                    all_match &= got == expected;
                }
            }
        }
        (all_match, cs.is_satisfied().unwrap())
    }

    #[derive(Clone)]
    enum Step {
        Observe(KoalaBear),
        ObserveDigest(Bn254),
        Sample,
        SampleExt,
        SampleBits(usize),
    }

    fn digest(seed: &mut u64) -> Bn254 {
        fr_to_bn254(Fr::from(splitmix(seed)) * Fr::from(splitmix(seed)) + Fr::from(splitmix(seed)))
    }

    #[test]
    fn gadget_transcript_equals_the_native_challenger() {
        let mut seed = 31;
        let mut script = vec![Step::ObserveDigest(digest(&mut seed)), Step::SampleExt];
        // A partial queue, a full queue (16 values: flushed on observe), and more than one
        // squeeze worth of samples (14 digits per squeeze).
        for _ in 0..5 {
            script.push(Step::Observe(kb(&mut seed)));
        }
        script.push(Step::SampleExt);
        for _ in 0..16 {
            script.push(Step::Observe(kb(&mut seed)));
        }
        script.extend([Step::Sample, Step::SampleExt, Step::SampleBits(20)]);
        script.push(Step::ObserveDigest(digest(&mut seed)));
        for _ in 0..20 {
            script.push(Step::SampleBits(16));
        }
        script.extend([Step::SampleExt, Step::SampleExt, Step::SampleExt]);
        assert_eq!(replay(&script, false), (true, true));
        // Not vacuous: a transcript that absorbed different digests samples different values.
        assert!(!replay(&script, true).0);
    }

    #[test]
    fn proof_of_work_witness_is_checked() {
        let mut seed = 32;
        let prefix: Vec<KoalaBear> = (0..3).map(|_| kb(&mut seed)).collect();
        let bits = 8;
        let mut native = OuterChallenger::new(outer_perm()).unwrap();
        for v in &prefix {
            native.observe(*v);
        }
        let mut grinding = native.clone();
        let witness = grinding.grind(bits);
        let mut wrong = witness + KoalaBear::ONE;
        while native.clone().check_witness(bits, wrong) {
            wrong += KoalaBear::ONE;
        }

        for (candidate, accepted) in [(witness, true), (wrong, false)] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let mut gadget = ChallengerVar::new(cs.clone());
            for v in &prefix {
                gadget
                    .observe(&KbVar::new_witness(cs.clone(), || Ok(*v)).unwrap())
                    .unwrap();
            }
            let var = KbVar::new_witness(cs.clone(), || Ok(candidate)).unwrap();
            gadget.check_witness(bits, &var).unwrap();
            assert_eq!(cs.is_satisfied().unwrap(), accepted, "witness {candidate}");
        }
    }

    /// The digit split must be the canonical one: the integer `v + |Fr|` denotes the same Fr
    /// element, but is rejected both when its high part equals high(|Fr| - 1) (the low-part
    /// bound catches it) and when it exceeds it (the high-part bound catches it).
    #[test]
    fn non_canonical_digit_split_is_rejected() {
        let count = squeeze_field_order_num_limbs::<Bn254, KoalaBear>();
        let p_to_count = koalabear_modulus().pow(count as u32);
        let largest_high = (BigUint::from(Fr::MODULUS) - 1u32) / &p_to_count;
        let cases = [
            (BigUint::from(123_456_789u64), true),
            (p_to_count.clone(), false),
        ];
        for (value, high_stays_at_max) in cases {
            let shifted = &value + BigUint::from(Fr::MODULUS);
            assert_eq!(&shifted / &p_to_count == largest_high, high_stays_at_max);
            for (integer, accepted) in [(value.clone(), true), (shifted, false)] {
                let cs = ConstraintSystem::<Fr>::new_ref();
                let cell = FpVar::new_witness(cs.clone(), || Ok(Fr::from(value.clone()))).unwrap();
                let _ = split_with_integer(&cs, &cell, Ok(integer.clone())).unwrap();
                assert_eq!(cs.is_satisfied().unwrap(), accepted, "integer {integer}");
            }
        }
    }

    #[test]
    fn every_witness_of_a_transcript_is_bound() {
        assert_every_witness_is_bound(|cs| {
            let mut seed = 33;
            let mut challenger = ChallengerVar::new(cs.clone());
            let d = FpVar::new_witness(cs.clone(), || Ok(bn254_to_fr(digest(&mut seed))))?;
            challenger.observe_digest(&d)?;
            for _ in 0..3 {
                let v = kb(&mut seed);
                challenger.observe(&KbVar::new_witness(cs.clone(), || Ok(v))?)?;
            }
            let alpha = challenger.sample_ext()?;
            let beta = challenger.sample_ext()?;
            // Sampled values must be used for their digits to matter; bind them publicly.
            for c in alpha.coeffs.iter().chain(&beta.coeffs) {
                let public = FpVar::new_input(cs.clone(), || c.fp().value())?;
                c.fp().enforce_equal(&public)?;
            }
            Ok(())
        });
    }

    #[test]
    fn squeeze_cost_is_guarded() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let cell = FpVar::new_witness(cs.clone(), || Ok(Fr::from(987_654_321u64))).unwrap();
        let before = cs.num_constraints();
        let _ = split_into_field_order_digits(&cs, &cell).unwrap();
        let split = cs.num_constraints() - before;
        println!("challenger: splitting one squeezed Fr into 7 digits costs {split} constraints");
        assert!(split <= 560, "{split}");
    }
}
