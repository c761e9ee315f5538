//! The outer MMCS in-circuit: leaf hashing as `MultiField32PaddingFreeSponge<KoalaBear, Bn254,
//! Poseidon2Bn254<3>, 3, 2, 1>`, node compression as `TruncatedPermutation<_, 2, 1, 3>`, and a
//! binary Merkle path check as `MerkleTreeMmcs::verify_batch` walks it (cap height 0, all opened
//! matrices of the leaf height).
//!
//! Sponge semantics mirrored from p3-symmetric 0.8: the input is cut into blocks of
//! `RATE * limbs` KoalaBear values; each block's chunks of `limbs` values *overwrite* state
//! cells `0..` as `Σ (v_i + 1) * 2^(radix * i)` (a trailing partial block overwrites only the
//! cells it reaches), and the state is permuted after every block. The digest is cell 0.

use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::SynthesisError;
use p3_bn254::Bn254;
use p3_field::{absorb_radix_bits, max_shifted_absorb_injective_limbs};
use p3_koala_bear::KoalaBear;

use crate::Fr;
use crate::koalabear::KbVar;
use crate::poseidon2::{WIDTH, permute};

/// Sponge rate in BN254 elements (the `RATE` of `zkmips_prover::outer::OuterHash`).
pub const SPONGE_RATE: usize = 2;

/// KoalaBear values packed per BN254 element, and the radix bits, exactly as p3 derives them.
pub fn packing() -> (usize, u32) {
    (
        max_shifted_absorb_injective_limbs::<KoalaBear, Bn254>(),
        absorb_radix_bits::<KoalaBear>(),
    )
}

/// The leaf digest of a row (the values of all matrices at the leaf height, concatenated).
/// Values are reduced to canonical form first, as the packing requires.
pub fn hash_row(values: &[KbVar]) -> Result<FpVar<Fr>, SynthesisError> {
    let (limbs, radix_bits) = packing();
    let radix = Fr::from(1u64 << radix_bits);
    let mut state: [FpVar<Fr>; WIDTH] = std::array::from_fn(|_| FpVar::zero());
    for block in values.chunks(SPONGE_RATE * limbs) {
        for (cell, chunk) in block.chunks(limbs).enumerate() {
            let mut packed = FpVar::zero();
            let mut weight = Fr::from(1u64);
            for value in chunk {
                let digit = value.reduce()?.fp().clone() + Fr::from(1u64);
                packed += digit * weight;
                weight *= radix;
            }
            state[cell] = packed;
        }
        state = permute(&state)?;
    }
    Ok(state[0].clone())
}

/// 2-to-1 node compression: cell 0 of the permutation of `[left, right, 0]`.
pub fn compress(left: &FpVar<Fr>, right: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let state = permute(&[left.clone(), right.clone(), FpVar::zero()])?;
    Ok(state[0].clone())
}

/// The root reached from `leaf_digest` with `siblings` bottom-up; `index_bits` little-endian
/// (bit `i` set: the current node is the right child at level `i`). One constraint per level
/// for the ordering plus one compression.
pub fn root_from_path(
    leaf_digest: &FpVar<Fr>,
    index_bits: &[Boolean<Fr>],
    siblings: &[FpVar<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    if index_bits.len() != siblings.len() {
        return Err(SynthesisError::Unsatisfiable);
    }
    let mut node = leaf_digest.clone();
    for (is_right, sibling) in index_bits.iter().zip(siblings) {
        // left = is_right ? sibling : node; right = the other one.
        let left = &node + FpVar::from(is_right.clone()) * (sibling - &node);
        let right = &node + sibling - &left;
        node = compress(&left, &right)?;
    }
    Ok(node)
}

/// Enforces that `row` is the leaf at `index_bits` of the tree with root `root` (a single
/// committed matrix).
pub fn verify_path(
    row: &[KbVar],
    index_bits: &[Boolean<Fr>],
    siblings: &[FpVar<Fr>],
    root: &FpVar<Fr>,
) -> Result<(), SynthesisError> {
    let height = 1usize
        .checked_shl(index_bits.len() as u32)
        .ok_or(SynthesisError::Unsatisfiable)?;
    verify_batch(&[(height, row.to_vec())], index_bits, siblings, root)
}

/// Enforces a batch opening of the outer MMCS (`MerkleTreeMmcs::verify_batch`, binary, cap
/// height 0): `openings[i] = (height_i, row_i)` are the opened rows of the committed matrices in
/// commitment order, `index_bits` (little-endian) the row index in the tallest matrix. Matrices
/// of the tallest height are hashed together into the leaf; a shorter matrix's rows are hashed
/// together and compressed in as `compress(node, rows_digest)` right after the level where the
/// tree reaches its height. Heights must be powers of two and the tallest `2^index_bits.len()`;
/// any other shape is `SynthesisError::Unsatisfiable` (a caller error, found at synthesis).
pub fn verify_batch(
    openings: &[(usize, Vec<KbVar>)],
    index_bits: &[Boolean<Fr>],
    siblings: &[FpVar<Fr>],
    root: &FpVar<Fr>,
) -> Result<(), SynthesisError> {
    let levels = index_bits.len();
    let max_height = 1usize
        .checked_shl(levels as u32)
        .ok_or(SynthesisError::Unsatisfiable)?;
    let shape_ok = siblings.len() == levels
        && openings.iter().any(|(h, _)| *h == max_height)
        && openings
            .iter()
            .all(|(h, _)| h.is_power_of_two() && *h <= max_height);
    if !shape_ok {
        return Err(SynthesisError::Unsatisfiable);
    }
    // Rows of every matrix of one height, concatenated in commitment order (p3 sorts tallest
    // first with a stable sort, which keeps that order within a height).
    let rows_of_height = |height: usize| -> Vec<KbVar> {
        openings
            .iter()
            .filter(|(h, _)| *h == height)
            .flat_map(|(_, row)| row.iter().cloned())
            .collect()
    };
    let mut node = hash_row(&rows_of_height(max_height))?;
    for (level, (is_right, sibling)) in index_bits.iter().zip(siblings).enumerate() {
        let left = &node + FpVar::from(is_right.clone()) * (sibling - &node);
        let right = &node + sibling - &left;
        node = compress(&left, &right)?;
        let height = max_height >> (level + 1);
        if openings.iter().any(|(h, _)| *h == height) {
            node = compress(&node, &hash_row(&rows_of_height(height))?)?;
        }
    }
    node.enforce_equal(root)
}

/// An opened row of extension elements as the base values `ExtensionMmcs` commits to
/// (coefficients of each element in order).
pub fn flatten_ext_row(row: &[crate::koalabear::KbExtVar]) -> Vec<KbVar> {
    row.iter().flat_map(|e| e.coeffs.iter().cloned()).collect()
}

#[cfg(test)]
mod tests {
    use ark_r1cs_std::GR1CSVar;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef};
    use p3_commit::Mmcs;
    use p3_field::PrimeCharacteristicRing;
    use p3_matrix::dense::RowMajorMatrix;
    use p3_symmetric::CryptographicHasher;
    use zkmips_prover::outer::config::outer_val_mmcs;
    use zkmips_prover::outer::{OuterHash, outer_perm};

    use super::*;
    use crate::convert::bn254_to_fr;
    use crate::test_util::{assert_every_witness_is_bound, splitmix};

    const HEIGHT_BITS: usize = 4;
    const ROW_WIDTH: usize = 21; // one full sponge block (16) plus a partial one

    fn random_row(seed: &mut u64, width: usize) -> Vec<KoalaBear> {
        (0..width)
            .map(|_| KoalaBear::from_u64(splitmix(seed) % KoalaBear::ORDER_U64))
            .collect()
    }

    fn alloc_row(cs: &ConstraintSystemRef<Fr>, row: &[KoalaBear]) -> Vec<KbVar> {
        row.iter()
            .map(|&v| KbVar::new_witness(cs.clone(), || Ok(v)).unwrap())
            .collect()
    }

    use p3_field::PrimeField64 as _;

    #[test]
    fn packing_matches_the_documented_layout() {
        assert_eq!(packing(), (8, 31));
    }

    #[test]
    fn row_hash_equals_the_native_sponge_for_all_block_shapes() {
        let hasher = OuterHash::new(outer_perm()).unwrap();
        let mut seed = 21;
        for width in [0, 1, 7, 8, 9, 15, 16, 17, 24, 32, 33] {
            let row = random_row(&mut seed, width);
            let native: [Bn254; 1] = hasher.hash_slice(&row);
            let cs = ConstraintSystem::<Fr>::new_ref();
            let digest = hash_row(&alloc_row(&cs, &row)).unwrap();
            assert_eq!(
                digest.value().unwrap(),
                bn254_to_fr(native[0]),
                "width {width}"
            );
            assert!(cs.is_satisfied().unwrap());
        }
    }

    /// A committed matrix, one opened row, its path and the root, all native.
    struct Opening {
        row: Vec<KoalaBear>,
        index: usize,
        siblings: Vec<Fr>,
        root: Fr,
    }

    fn native_opening(index: usize) -> Opening {
        let mut seed = 22;
        let values = random_row(&mut seed, ROW_WIDTH << HEIGHT_BITS);
        let matrix = RowMajorMatrix::new(values, ROW_WIDTH);
        let mmcs = outer_val_mmcs(&outer_perm());
        let (commitment, prover_data) = mmcs.commit_matrix(matrix);
        let opening = mmcs.open_batch(index, &prover_data);
        Opening {
            row: opening.opened_values[0].clone(),
            index,
            siblings: opening
                .opening_proof
                .iter()
                .map(|d| bn254_to_fr(d[0]))
                .collect(),
            root: bn254_to_fr(commitment[0][0]),
        }
    }

    fn synthesize(cs: &ConstraintSystemRef<Fr>, opening: &Opening) -> Result<(), SynthesisError> {
        let row = alloc_row(cs, &opening.row);
        let (bits, siblings, root) =
            alloc_path(cs, opening.index, &opening.siblings, opening.root)?;
        verify_path(&row, &bits, &siblings, &root)
    }

    /// Index bits and siblings as witnesses, the root as the public input.
    #[allow(clippy::type_complexity)]
    fn alloc_path(
        cs: &ConstraintSystemRef<Fr>,
        index: usize,
        siblings: &[Fr],
        root: Fr,
    ) -> Result<(Vec<Boolean<Fr>>, Vec<FpVar<Fr>>, FpVar<Fr>), SynthesisError> {
        let bits = (0..siblings.len())
            .map(|i| Boolean::new_witness(cs.clone(), || Ok((index >> i) & 1 == 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let siblings = siblings
            .iter()
            .map(|&s| FpVar::new_witness(cs.clone(), || Ok(s)))
            .collect::<Result<Vec<_>, _>>()?;
        let root = FpVar::new_input(cs.clone(), || Ok(root))?;
        Ok((bits, siblings, root))
    }

    fn satisfied(opening: &Opening) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        synthesize(&cs, opening).unwrap();
        cs.is_satisfied().unwrap()
    }

    #[test]
    fn native_mmcs_openings_satisfy_the_path_gadget() {
        for index in [0, 5, (1 << HEIGHT_BITS) - 1] {
            let opening = native_opening(index);
            assert_eq!(opening.siblings.len(), HEIGHT_BITS);
            assert!(satisfied(&opening), "index {index}");
        }
    }

    #[test]
    fn altered_openings_are_unsatisfied() {
        let honest = native_opening(6);

        let mut wrong_sibling = native_opening(6);
        wrong_sibling.siblings[2] += Fr::from(1u64);
        assert!(!satisfied(&wrong_sibling), "altered sibling");

        let mut wrong_leaf = native_opening(6);
        wrong_leaf.row[ROW_WIDTH - 1] += KoalaBear::ONE;
        assert!(!satisfied(&wrong_leaf), "altered leaf value");

        let mut wrong_index = native_opening(6);
        wrong_index.index = 7;
        assert!(!satisfied(&wrong_index), "altered index");

        let mut wrong_root = native_opening(6);
        wrong_root.root = honest.root + Fr::from(1u64);
        assert!(!satisfied(&wrong_root), "altered root");
    }

    #[test]
    fn every_witness_of_a_path_check_is_bound() {
        let opening = native_opening(9);
        assert_every_witness_is_bound(|cs| synthesize(cs, &opening));
    }

    /// Matrices of heights 16, 16, 4 and 1 in one commitment, as batch-stark commits traces of
    /// different heights; opened natively with `open_batch` and checked with `verify_batch`.
    struct BatchOpening {
        openings: Vec<(usize, Vec<KoalaBear>)>,
        index: usize,
        siblings: Vec<Fr>,
        root: Fr,
    }

    fn native_batch_opening(index: usize) -> BatchOpening {
        let mut seed = 23;
        let shapes = [(16usize, 5usize), (4, 7), (16, 3), (1, 2)];
        let matrices: Vec<RowMajorMatrix<KoalaBear>> = shapes
            .iter()
            .map(|&(h, w)| RowMajorMatrix::new(random_row(&mut seed, h * w), w))
            .collect();
        let mmcs = outer_val_mmcs(&outer_perm());
        let (commitment, prover_data) = mmcs.commit(matrices);
        let opening = mmcs.open_batch(index, &prover_data);
        BatchOpening {
            openings: shapes
                .iter()
                .map(|&(h, _)| h)
                .zip(opening.opened_values.iter().cloned())
                .collect(),
            index,
            siblings: opening
                .opening_proof
                .iter()
                .map(|d| bn254_to_fr(d[0]))
                .collect(),
            root: bn254_to_fr(commitment[0][0]),
        }
    }

    fn synthesize_batch(
        cs: &ConstraintSystemRef<Fr>,
        opening: &BatchOpening,
    ) -> Result<(), SynthesisError> {
        let openings = opening
            .openings
            .iter()
            .map(|(h, row)| (*h, alloc_row(cs, row)))
            .collect::<Vec<_>>();
        let (bits, siblings, root) =
            alloc_path(cs, opening.index, &opening.siblings, opening.root)?;
        verify_batch(&openings, &bits, &siblings, &root)
    }

    fn batch_satisfied(opening: &BatchOpening) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        synthesize_batch(&cs, opening).unwrap();
        cs.is_satisfied().unwrap()
    }

    #[test]
    fn mixed_height_batch_openings_match_the_native_mmcs() {
        for index in [0, 6, 15] {
            let opening = native_batch_opening(index);
            assert_eq!(opening.siblings.len(), 4);
            assert!(batch_satisfied(&opening), "index {index}");
        }
        let mut altered_short_row = native_batch_opening(6);
        altered_short_row.openings[1].1[0] += KoalaBear::ONE;
        assert!(!batch_satisfied(&altered_short_row), "altered height-4 row");
        let mut altered_last = native_batch_opening(6);
        altered_last.openings[3].1[1] += KoalaBear::ONE;
        assert!(!batch_satisfied(&altered_last), "altered height-1 row");
        let mut altered_sibling = native_batch_opening(6);
        altered_sibling.siblings[3] += Fr::from(1u64);
        assert!(!batch_satisfied(&altered_sibling), "altered top sibling");
        assert_every_witness_is_bound(|cs| synthesize_batch(cs, &native_batch_opening(9)));
    }

    /// FRI commit-phase trees commit extension elements through `ExtensionMmcs`, which hashes
    /// their base coefficients.
    #[test]
    fn extension_rows_open_like_the_native_extension_mmcs() {
        use p3_field::BasedVectorSpace;
        use zkmips_prover::outer::{OuterChallenge, OuterChallengeMmcs};

        use crate::koalabear::KbExtVar;

        let mut seed = 24;
        let (height_bits, width) = (3, 4);
        let values: Vec<OuterChallenge> = (0..(width << height_bits))
            .map(|_| {
                OuterChallenge::from_basis_coefficients_fn(|_| {
                    KoalaBear::from_u64(splitmix(&mut seed) % KoalaBear::ORDER_U64)
                })
            })
            .collect();
        let mmcs = OuterChallengeMmcs::new(outer_val_mmcs(&outer_perm()));
        let (commitment, prover_data) = mmcs.commit_matrix(RowMajorMatrix::new(values, width));
        let index = 3;
        let opening = mmcs.open_batch(index, &prover_data);
        for tamper in [false, true] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let row = opening.opened_values[0]
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let v = if tamper && i == 2 {
                        v + OuterChallenge::ONE
                    } else {
                        v
                    };
                    KbExtVar::new_witness(cs.clone(), || Ok(v)).unwrap()
                })
                .collect::<Vec<_>>();
            let bits = (0..height_bits)
                .map(|i| Boolean::new_witness(cs.clone(), || Ok((index >> i) & 1 == 1)).unwrap())
                .collect::<Vec<_>>();
            let siblings = opening
                .opening_proof
                .iter()
                .map(|d| FpVar::new_witness(cs.clone(), || Ok(bn254_to_fr(d[0]))).unwrap())
                .collect::<Vec<_>>();
            let root = FpVar::new_input(cs.clone(), || Ok(bn254_to_fr(commitment[0][0]))).unwrap();
            verify_path(&flatten_ext_row(&row), &bits, &siblings, &root).unwrap();
            assert_eq!(cs.is_satisfied().unwrap(), !tamper);
        }
    }

    #[test]
    fn batch_shape_errors_are_reported_at_synthesis() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let root = FpVar::new_input(cs.clone(), || Ok(Fr::from(0u64))).unwrap();
        let bit = Boolean::new_witness(cs.clone(), || Ok(true)).unwrap();
        let sibling = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
        let row = vec![KbVar::zero()];
        for openings in [
            vec![(3usize, row.clone())], // not a power of two
            vec![(1usize, row.clone())], // no matrix of the tallest height (2)
            vec![(4usize, row.clone())], // taller than the path allows
        ] {
            assert!(
                verify_batch(
                    &openings,
                    std::slice::from_ref(&bit),
                    std::slice::from_ref(&sibling),
                    &root
                )
                .is_err()
            );
        }
        assert!(
            verify_batch(&[(2, row)], &[bit], &[], &root).is_err(),
            "missing sibling"
        );
    }

    #[test]
    fn path_constraint_count_is_guarded() {
        let opening = native_opening(3);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let row = alloc_row(&cs, &opening.row);
        let before = cs.num_constraints();
        let leaf = hash_row(&row).unwrap();
        let hash_cost = cs.num_constraints() - before;
        let bits = (0..HEIGHT_BITS)
            .map(|i| {
                Boolean::new_witness(cs.clone(), || Ok((opening.index >> i) & 1 == 1)).unwrap()
            })
            .collect::<Vec<_>>();
        let siblings = opening
            .siblings
            .iter()
            .map(|&s| FpVar::new_witness(cs.clone(), || Ok(s)).unwrap())
            .collect::<Vec<_>>();
        let before = cs.num_constraints();
        let _ = root_from_path(&leaf, &bits, &siblings).unwrap();
        let per_level = (cs.num_constraints() - before) / HEIGHT_BITS;
        println!(
            "outer MMCS: leaf hash of {ROW_WIDTH} canonical values {hash_cost} constraints, \
             {per_level} per Merkle level"
        );
        // Two permutations for 21 values (canonical inputs need no reduction).
        assert_eq!(hash_cost, 2 * 240);
        assert_eq!(per_level, 240 + 1);
    }
}
