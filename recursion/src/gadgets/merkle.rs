//! Merkle openings of the inner configuration as a recursion program: `MerkleTreeMmcs<_, _,
//! PaddingFreeSponge<Perm, 16, 8, 8>, TruncatedPermutation<Perm, 2, 8, 16>, 2, 8>` with cap
//! height 0 (one root), and the `ExtensionMmcs` over it, as in p3-merkle-tree / p3-symmetric /
//! p3-commit 0.8.
//!
//! Native behaviour mirrored here:
//! - Leaf hash (`PaddingFreeSponge::hash_iter`): the state starts all zero; the input is cut in
//!   chunks of 8 that *overwrite* the leading rate slots (a short last chunk leaves the slots
//!   after it as they were); the state is permuted after every non-empty chunk; the digest is
//!   `state[0..8]`. An empty input hashes to eight zeros without any permutation.
//! - The rows of all matrices of one height are hashed as one stream: their concatenation, in
//!   the order of the matrices in the batch (`hash_iter_slices` over a stable sort by height).
//! - Node compression (`TruncatedPermutation`): `Poseidon2(left || right)[0..8]`.
//! - `verify_batch` at `index` (arity 2, cap height 0): start from the hash of the rows of the
//!   tallest matrices; at each level put the current digest left if the index is even, right
//!   if odd, with the next sibling on the other side, compress, halve the index; then, if some
//!   matrices have exactly the height of the new level, compress `(digest, hash of their
//!   rows)` ("injection", the current digest on the left). After the last level the digest
//!   must equal the root.
//! - `ExtensionMmcs` flattens every extension element of a row into its 4 base coordinates in
//!   order (the row is 4 times wider) and verifies the base opening.
//!
//! Only the index is data: its bits choose the sibling order, inside the Poseidon2 instruction
//! ([`compress_ordered`]). The shape (which matrices sit at which level, how many siblings)
//! follows from the dimensions, which the verifier knows, so it is Rust control flow. Heights
//! must be powers of two (the heights of STARK trace and FRI commitments); p3 0.8 also admits
//! `ceil(max / 2^k)` ladders, which this gadget rejects with an error.

use core::cmp::Reverse;

use p3_field::PrimeCharacteristicRing;
use p3_matrix::Dimensions;
use thiserror::Error;

use crate::builder::{Builder, Ext, Felt};
use crate::ir::{PERM_WIDTH, Val};

/// Elements of a digest.
pub const DIGEST_ELEMS: usize = 8;
/// Rate of the leaf sponge.
pub const LEAF_RATE: usize = 8;
/// Base coordinates of an extension element (what `ExtensionMmcs` widens rows by).
pub const EXT_DEGREE: usize = 4;

/// A digest held in cells.
pub type DigestVar = [Felt; DIGEST_ELEMS];

/// An opening whose *shape* does not fit the claimed dimensions: a program cannot even be
/// built for it (the native verifier rejects such an opening before hashing).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum MerkleShapeError {
    #[error("no matrix of positive height in the batch")]
    EmptyBatch,
    #[error("matrix {matrix}: height {height} is not a power of two")]
    HeightNotPowerOfTwo { matrix: usize, height: usize },
    #[error("{got} opened rows for {expected} matrices")]
    WrongBatchSize { expected: usize, got: usize },
    #[error("matrix {matrix}: opened row has {got} values, the matrix is {expected} wide")]
    WrongWidth {
        matrix: usize,
        expected: usize,
        got: usize,
    },
    #[error("{got} siblings given, a tree of height {max_height} needs {expected}")]
    WrongProofLength {
        max_height: usize,
        expected: usize,
        got: usize,
    },
    #[error("{got} index bits given, a tree of height {max_height} needs {expected}")]
    WrongIndexBits {
        max_height: usize,
        expected: usize,
        got: usize,
    },
}

/// The leaf sponge on `input` (native `PaddingFreeSponge::<Perm, 16, 8, 8>::hash_iter`).
pub fn hash_iter(builder: &mut Builder, input: impl IntoIterator<Item = Felt>) -> DigestVar {
    let zero = builder.constant(Val::ZERO);
    let mut state = [zero; PERM_WIDTH];
    let input: Vec<Felt> = input.into_iter().collect();
    for chunk in input.chunks(LEAF_RATE) {
        // Overwrite mode: the slots after a short last chunk keep the previous output.
        state[..chunk.len()].copy_from_slice(chunk);
        state = builder.poseidon2(state);
    }
    core::array::from_fn(|i| state[i])
}

/// The leaf sponge on the concatenation of `rows` (native `hash_iter_slices`).
pub fn hash_rows(builder: &mut Builder, rows: &[&[Felt]]) -> DigestVar {
    hash_iter(builder, rows.iter().flat_map(|row| row.iter().copied()))
}

/// The 2-to-1 node compression (native `TruncatedPermutation::<Perm, 2, 8, 16>::compress`).
pub fn compress(builder: &mut Builder, left: DigestVar, right: DigestVar) -> DigestVar {
    let mut input = [left[0]; PERM_WIDTH];
    input[..DIGEST_ELEMS].copy_from_slice(&left);
    input[DIGEST_ELEMS..].copy_from_slice(&right);
    let output = builder.poseidon2(input);
    core::array::from_fn(|i| output[i])
}

/// The node compression of `(digest, sibling)` if `bit = 0`, of `(sibling, digest)` if
/// `bit = 1`: one permutation whose table orders the children by the bit
/// ([`Builder::poseidon2_ordered`]) instead of 32 base-ALU selects per level.
pub fn compress_ordered(
    builder: &mut Builder,
    bit: Felt,
    digest: DigestVar,
    sibling: DigestVar,
) -> DigestVar {
    let output = builder.poseidon2_ordered(bit, digest, sibling);
    core::array::from_fn(|i| output[i])
}

/// The base coordinates of every element of an extension row, in order (native
/// `ExtensionMmcs` flattening).
pub fn flatten_ext_row(builder: &mut Builder, row: &[Ext]) -> Vec<Felt> {
    row.iter()
        .flat_map(|&value| builder.ext_coordinates(value))
        .collect()
}

/// The base dimensions `ExtensionMmcs` commits for extension matrices of `dimensions`.
pub fn ext_base_dimensions(dimensions: &[Dimensions]) -> Vec<Dimensions> {
    dimensions
        .iter()
        .map(|dims| Dimensions {
            width: dims.width * EXT_DEGREE,
            height: dims.height,
        })
        .collect()
}

/// Checks the shape of a batch opening; returns the tallest height and the matrix indices
/// ordered tallest first (stable, as the native sort).
fn check_shape(
    dimensions: &[Dimensions],
    index_bits: usize,
    opened_values: &[Vec<Felt>],
    proof: usize,
) -> Result<(usize, Vec<usize>), MerkleShapeError> {
    if opened_values.len() != dimensions.len() {
        return Err(MerkleShapeError::WrongBatchSize {
            expected: dimensions.len(),
            got: opened_values.len(),
        });
    }
    for (matrix, dims) in dimensions.iter().enumerate() {
        if !dims.height.is_power_of_two() {
            return Err(MerkleShapeError::HeightNotPowerOfTwo {
                matrix,
                height: dims.height,
            });
        }
        // Rows are hashed as one stream, so only their widths delimit them.
        if opened_values[matrix].len() != dims.width {
            return Err(MerkleShapeError::WrongWidth {
                matrix,
                expected: dims.width,
                got: opened_values[matrix].len(),
            });
        }
    }
    let max_height = dimensions
        .iter()
        .map(|dims| dims.height)
        .max()
        .ok_or(MerkleShapeError::EmptyBatch)?;
    let depth = max_height.trailing_zeros() as usize;
    if proof != depth {
        return Err(MerkleShapeError::WrongProofLength {
            max_height,
            expected: depth,
            got: proof,
        });
    }
    if index_bits != depth {
        return Err(MerkleShapeError::WrongIndexBits {
            max_height,
            expected: depth,
            got: index_bits,
        });
    }
    let mut order: Vec<usize> = (0..dimensions.len()).collect();
    order.sort_by_key(|&matrix| Reverse(dimensions[matrix].height));
    Ok((max_height, order))
}

/// The root a batch opening at one index leads to (native `verify_batch` up to the final
/// comparison).
///
/// - `dimensions`: the committed matrices, in commitment order (known to the verifier).
/// - `index_bits`: the leaf index in the tallest matrix, little-endian, `log2(max height)`
///   bits, **each already proven boolean** by the caller (e.g. from
///   [`super::challenger::DuplexChallengerVar::sample_bits`]).
/// - `opened_values`: row `index >> (log2(max height) - log2(height))` of each matrix, in
///   commitment order.
/// - `proof`: the siblings, leaf level first.
pub fn compute_root(
    builder: &mut Builder,
    dimensions: &[Dimensions],
    index_bits: &[Felt],
    opened_values: &[Vec<Felt>],
    proof: &[DigestVar],
) -> Result<DigestVar, MerkleShapeError> {
    let (max_height, order) =
        check_shape(dimensions, index_bits.len(), opened_values, proof.len())?;
    let mut remaining = order.as_slice();
    // The rows of all matrices of `height`, taken off the front of `remaining`.
    let mut take_rows = |height: usize| -> Vec<&[Felt]> {
        let count = remaining
            .iter()
            .take_while(|&&matrix| dimensions[matrix].height == height)
            .count();
        let (taken, rest) = remaining.split_at(count);
        remaining = rest;
        taken
            .iter()
            .map(|&matrix| opened_values[matrix].as_slice())
            .collect()
    };

    let leaf_rows = take_rows(max_height);
    let mut digest = hash_rows(builder, &leaf_rows);
    for (level, (&bit, &sibling)) in index_bits.iter().zip(proof).enumerate() {
        digest = compress_ordered(builder, bit, digest, sibling);
        let level_height = max_height >> (level + 1);
        let injected = take_rows(level_height);
        if !injected.is_empty() {
            let injected_digest = hash_rows(builder, &injected);
            digest = compress(builder, digest, injected_digest);
        }
    }
    debug_assert!(
        remaining.is_empty(),
        "power-of-two heights up to the maximum are all injected on the way up"
    );
    Ok(digest)
}

/// Verifies a batch opening against `root` (native `MerkleTreeMmcs::verify_batch` with cap
/// height 0): the program fails unless the opening leads to `root`. See [`compute_root`] for
/// the arguments.
pub fn verify_batch(
    builder: &mut Builder,
    root: DigestVar,
    dimensions: &[Dimensions],
    index_bits: &[Felt],
    opened_values: &[Vec<Felt>],
    proof: &[DigestVar],
) -> Result<(), MerkleShapeError> {
    let digest = compute_root(builder, dimensions, index_bits, opened_values, proof)?;
    for (computed, expected) in digest.into_iter().zip(root) {
        builder.assert_eq(computed, expected);
    }
    Ok(())
}

/// Verifies a batch opening of extension matrices (native `ExtensionMmcs::verify_batch`):
/// `dimensions` are the extension widths, `opened_values` the extension rows.
pub fn verify_batch_ext(
    builder: &mut Builder,
    root: DigestVar,
    dimensions: &[Dimensions],
    index_bits: &[Felt],
    opened_values: &[Vec<Ext>],
    proof: &[DigestVar],
) -> Result<(), MerkleShapeError> {
    let base_rows: Vec<Vec<Felt>> = opened_values
        .iter()
        .map(|row| flatten_ext_row(builder, row))
        .collect();
    verify_batch(
        builder,
        root,
        &ext_base_dimensions(dimensions),
        index_bits,
        &base_rows,
        proof,
    )
}

#[cfg(test)]
mod tests {
    use p3_commit::{BatchOpeningRef, Mmcs};
    use p3_field::{BasedVectorSpace, PrimeField32};
    use p3_matrix::Matrix;
    use p3_matrix::dense::RowMajorMatrix;
    use p3_symmetric::{CryptographicHasher, PseudoCompressionFunction};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use zkmips_prover::config::{ChallengeMmcs, LeafHash, NodeCompress, ValMmcs, inner_perm};

    use super::*;
    use crate::ir::{Challenge, Program};
    use crate::runtime::{RuntimeError, execute};

    fn random_val(rng: &mut StdRng) -> Val {
        Val::from_u32(rng.random_range(0..Val::ORDER_U32))
    }

    fn val_mmcs() -> ValMmcs {
        let perm = inner_perm();
        ValMmcs::new(LeafHash::new(perm.clone()), NodeCompress::new(perm), 0)
    }

    fn random_matrix(rng: &mut StdRng, height: usize, width: usize) -> RowMajorMatrix<Val> {
        RowMajorMatrix::new(
            (0..height * width).map(|_| random_val(rng)).collect(),
            width,
        )
    }

    #[test]
    fn leaf_hash_and_compression_match_native() {
        let mut rng = StdRng::seed_from_u64(3);
        let native_hash = LeafHash::new(inner_perm());
        let native_compress = NodeCompress::new(inner_perm());
        for len in 0..=25 {
            let input: Vec<Val> = (0..len).map(|_| random_val(&mut rng)).collect();
            let mut builder = Builder::new();
            let cells: Vec<Felt> = (0..len).map(|_| builder.witness()).collect();
            let digest = hash_iter(&mut builder, cells);
            for value in digest {
                builder.public(value);
            }
            let execution = execute(&builder.build().unwrap(), &input).unwrap();
            assert_eq!(
                execution.public_values,
                native_hash.hash_iter(input.iter().copied()).to_vec(),
                "length {len}"
            );
        }

        let pair: [[Val; DIGEST_ELEMS]; 2] =
            core::array::from_fn(|_| core::array::from_fn(|_| random_val(&mut rng)));
        let mut builder = Builder::new();
        let left: DigestVar = core::array::from_fn(|_| builder.witness());
        let right: DigestVar = core::array::from_fn(|_| builder.witness());
        for value in compress(&mut builder, left, right) {
            builder.public(value);
        }
        let stream: Vec<Val> = pair.iter().flatten().copied().collect();
        let execution = execute(&builder.build().unwrap(), &stream).unwrap();
        assert_eq!(
            execution.public_values,
            native_compress.compress(pair).to_vec()
        );
    }

    #[test]
    fn ordered_compression_matches_native_in_both_orders() {
        let mut rng = StdRng::seed_from_u64(4);
        let native_compress = NodeCompress::new(inner_perm());
        let digest: [Val; DIGEST_ELEMS] = core::array::from_fn(|_| random_val(&mut rng));
        let sibling: [Val; DIGEST_ELEMS] = core::array::from_fn(|_| random_val(&mut rng));
        let mut builder = Builder::new();
        let bit = builder.witness();
        let digest_cells: DigestVar = core::array::from_fn(|_| builder.witness());
        let sibling_cells: DigestVar = core::array::from_fn(|_| builder.witness());
        for value in compress_ordered(&mut builder, bit, digest_cells, sibling_cells) {
            builder.public(value);
        }
        let program = builder.build().unwrap();
        let stream = |bit: u32| {
            let mut stream = vec![Val::from_u32(bit)];
            stream.extend(digest);
            stream.extend(sibling);
            stream
        };
        for (bit, expected) in [
            (0, native_compress.compress([digest, sibling])),
            (1, native_compress.compress([sibling, digest])),
        ] {
            let execution = execute(&program, &stream(bit)).unwrap();
            assert_eq!(execution.public_values, expected.to_vec(), "bit {bit}");
        }
        assert!(matches!(
            execute(&program, &stream(2)),
            Err(RuntimeError::NotBoolean { .. })
        ));
    }

    /// A program verifying one opening of matrices of `dimensions`, everything read from the
    /// witness stream: index bits, rows (commitment order), siblings, root.
    fn opening_program(dimensions: &[Dimensions]) -> Program {
        let mut builder = Builder::new();
        let max_height = dimensions.iter().map(|dims| dims.height).max().unwrap();
        let depth = max_height.trailing_zeros() as usize;
        let index_bits: Vec<Felt> = (0..depth).map(|_| builder.witness()).collect();
        for &bit in &index_bits {
            builder.assert_bool(bit);
        }
        let rows: Vec<Vec<Felt>> = dimensions
            .iter()
            .map(|dims| (0..dims.width).map(|_| builder.witness()).collect())
            .collect();
        let proof: Vec<DigestVar> = (0..depth)
            .map(|_| core::array::from_fn(|_| builder.witness()))
            .collect();
        let root: DigestVar = core::array::from_fn(|_| builder.witness());
        verify_batch(&mut builder, root, dimensions, &index_bits, &rows, &proof).unwrap();
        builder.build().unwrap()
    }

    /// The stream [`opening_program`] reads, made from a native opening.
    fn opening_stream(
        depth: usize,
        index: usize,
        rows: &[Vec<Val>],
        proof: &[[Val; DIGEST_ELEMS]],
        root: &[Val; DIGEST_ELEMS],
    ) -> Vec<Val> {
        let mut stream: Vec<Val> = (0..depth)
            .map(|bit| Val::from_bool((index >> bit) & 1 == 1))
            .collect();
        stream.extend(rows.iter().flatten());
        stream.extend(proof.iter().flatten());
        stream.extend_from_slice(root);
        stream
    }

    /// Heights 4, 8, 2, 8, 1 (unsorted; two of the same height; one injected after the last
    /// level) with widths below, at and above the rate.
    fn mixed_matrices(rng: &mut StdRng) -> Vec<RowMajorMatrix<Val>> {
        [(4, 8), (8, 3), (2, 17), (8, 11), (1, 5)]
            .into_iter()
            .map(|(height, width)| random_matrix(rng, height, width))
            .collect()
    }

    #[test]
    fn mixed_height_openings_match_native() {
        let mut rng = StdRng::seed_from_u64(5);
        let mmcs = val_mmcs();
        let matrices = mixed_matrices(&mut rng);
        let dimensions: Vec<Dimensions> = matrices.iter().map(|m| m.dimensions()).collect();
        let (cap, tree) = mmcs.commit(matrices);
        assert_eq!(cap.roots().len(), 1);
        let root = cap.roots()[0];
        let program = opening_program(&dimensions);
        for index in 0..8 {
            let opening = mmcs.open_batch(index, &tree);
            mmcs.verify_batch(
                &cap,
                &dimensions,
                index,
                BatchOpeningRef::new(&opening.opened_values, &opening.opening_proof),
            )
            .expect("native verification");
            let stream = opening_stream(
                3,
                index,
                &opening.opened_values,
                &opening.opening_proof,
                &root,
            );
            execute(&program, &stream).unwrap_or_else(|err| panic!("index {index}: {err}"));
        }
    }

    #[test]
    fn single_and_same_height_batches_match_native() {
        let mut rng = StdRng::seed_from_u64(6);
        let mmcs = val_mmcs();
        for shapes in [
            vec![(1, 4)],
            vec![(1, 9), (1, 8)],
            vec![(16, 1), (16, 9)],
            vec![(2, 16)],
            vec![(32, 8), (1, 1)],
        ] {
            let matrices: Vec<RowMajorMatrix<Val>> = shapes
                .iter()
                .map(|&(height, width)| random_matrix(&mut rng, height, width))
                .collect();
            let dimensions: Vec<Dimensions> = matrices.iter().map(|m| m.dimensions()).collect();
            let max_height = shapes.iter().map(|&(height, _)| height).max().unwrap();
            let (cap, tree) = mmcs.commit(matrices);
            let program = opening_program(&dimensions);
            for index in [0, max_height / 2, max_height - 1] {
                let opening = mmcs.open_batch(index, &tree);
                let stream = opening_stream(
                    max_height.trailing_zeros() as usize,
                    index,
                    &opening.opened_values,
                    &opening.opening_proof,
                    &cap.roots()[0],
                );
                execute(&program, &stream)
                    .unwrap_or_else(|err| panic!("shapes {shapes:?}, index {index}: {err}"));
            }
        }
    }

    /// p3-fri 0.8 opens all queries of a round at once with pruned paths
    /// (`verify_multi_batch`). Each query's full path, restored natively from the pruned
    /// proof (`restore_and_recompute_paths`), verifies here on its own: per-query
    /// verification authenticates the same rows.
    #[test]
    fn restored_pruned_paths_verify_per_query() {
        let mut rng = StdRng::seed_from_u64(9);
        let mmcs = val_mmcs();
        let matrices = mixed_matrices(&mut rng);
        let dimensions: Vec<Dimensions> = matrices.iter().map(|m| m.dimensions()).collect();
        let (cap, tree) = mmcs.commit(matrices);
        let root = cap.roots()[0];
        let indices = [6, 1, 7, 6, 0];
        let (opened_values, pruned) = mmcs.open_multi_batch(&indices, &tree);
        mmcs.verify_multi_batch(&cap, &dimensions, &indices, &opened_values, &pruned)
            .expect("native verification");
        let paths = mmcs
            .restore_and_recompute_paths(&dimensions, &indices, &opened_values, &pruned)
            .expect("restorable");
        let program = opening_program(&dimensions);
        for ((&index, rows), path) in indices.iter().zip(&opened_values).zip(&paths) {
            assert_eq!(path.leaf_index, index);
            let stream = opening_stream(3, index, rows, &path.siblings, &root);
            execute(&program, &stream).unwrap_or_else(|err| panic!("index {index}: {err}"));
        }
    }

    #[test]
    fn tampered_openings_are_rejected() {
        let mut rng = StdRng::seed_from_u64(7);
        let mmcs = val_mmcs();
        let matrices = mixed_matrices(&mut rng);
        let dimensions: Vec<Dimensions> = matrices.iter().map(|m| m.dimensions()).collect();
        let (cap, tree) = mmcs.commit(matrices);
        let root = cap.roots()[0];
        let program = opening_program(&dimensions);
        let index = 5;
        let opening = mmcs.open_batch(index, &tree);
        let honest = |rows: &[Vec<Val>], proof: &[[Val; DIGEST_ELEMS]], index: usize| {
            opening_stream(3, index, rows, proof, &root)
        };
        let rejected = |stream: Vec<Val>, what: &str| {
            assert!(
                matches!(
                    execute(&program, &stream),
                    Err(RuntimeError::AssertionFailed { .. })
                ),
                "{what} must be rejected"
            );
        };
        execute(
            &program,
            &honest(&opening.opened_values, &opening.opening_proof, index),
        )
        .expect("the honest opening passes");

        for level in 0..3 {
            let mut proof = opening.opening_proof.clone();
            proof[level][level + 2] += Val::ONE;
            rejected(
                honest(&opening.opened_values, &proof, index),
                &format!("a wrong sibling at level {level}"),
            );
        }
        for matrix in 0..dimensions.len() {
            let mut rows = opening.opened_values.clone();
            let last = rows[matrix].len() - 1;
            rows[matrix][last] += Val::ONE;
            rejected(
                honest(&rows, &opening.opening_proof, index),
                &format!("a wrong value of matrix {matrix}"),
            );
        }
        for bit in 0..3 {
            rejected(
                honest(
                    &opening.opened_values,
                    &opening.opening_proof,
                    index ^ (1 << bit),
                ),
                &format!("a flipped index bit {bit}"),
            );
        }
        // The rows of another index with the proof of this one.
        let other = mmcs.open_batch(index ^ 1, &tree);
        rejected(
            honest(&other.opened_values, &opening.opening_proof, index),
            "the rows of a neighbouring index",
        );
        let mut wrong_root = root;
        wrong_root[0] += Val::ONE;
        rejected(
            opening_stream(
                3,
                index,
                &opening.opened_values,
                &opening.opening_proof,
                &wrong_root,
            ),
            "a wrong root",
        );
    }

    #[test]
    fn extension_openings_match_native() {
        let mut rng = StdRng::seed_from_u64(8);
        let mmcs = ChallengeMmcs::new(val_mmcs());
        let shapes = [(8, 3), (4, 2), (8, 1)];
        let matrices: Vec<RowMajorMatrix<Challenge>> = shapes
            .iter()
            .map(|&(height, width)| {
                RowMajorMatrix::new(
                    (0..height * width)
                        .map(|_| Challenge::from_basis_coefficients_fn(|_| random_val(&mut rng)))
                        .collect(),
                    width,
                )
            })
            .collect();
        let dimensions: Vec<Dimensions> = matrices.iter().map(|m| m.dimensions()).collect();
        let (cap, tree) = mmcs.commit(matrices);
        let root = cap.roots()[0];

        let mut builder = Builder::new();
        let index_bits: Vec<Felt> = (0..3).map(|_| builder.witness()).collect();
        for &bit in &index_bits {
            builder.assert_bool(bit);
        }
        let rows: Vec<Vec<Ext>> = dimensions
            .iter()
            .map(|dims| (0..dims.width).map(|_| builder.witness_ext()).collect())
            .collect();
        let proof: Vec<DigestVar> = (0..3)
            .map(|_| core::array::from_fn(|_| builder.witness()))
            .collect();
        let root_cells: DigestVar = core::array::from_fn(|_| builder.witness());
        verify_batch_ext(
            &mut builder,
            root_cells,
            &dimensions,
            &index_bits,
            &rows,
            &proof,
        )
        .unwrap();
        let program = builder.build().unwrap();

        for index in [0, 3, 6] {
            let opening = mmcs.open_batch(index, &tree);
            let base_rows: Vec<Vec<Val>> = opening
                .opened_values
                .iter()
                .map(|row| {
                    row.iter()
                        .flat_map(|value| value.as_basis_coefficients_slice().to_vec())
                        .collect()
                })
                .collect();
            let stream = opening_stream(3, index, &base_rows, &opening.opening_proof, &root);
            execute(&program, &stream).unwrap_or_else(|err| panic!("index {index}: {err}"));

            let mut tampered = base_rows.clone();
            tampered[1][5] += Val::ONE;
            let stream = opening_stream(3, index, &tampered, &opening.opening_proof, &root);
            assert!(matches!(
                execute(&program, &stream),
                Err(RuntimeError::AssertionFailed { .. })
            ));
        }
    }

    #[test]
    fn malformed_shapes_are_errors() {
        let mut builder = Builder::new();
        let cell = builder.witness();
        let digest = [cell; DIGEST_ELEMS];
        let dims = |height, width| Dimensions { width, height };
        let row = |width| vec![cell; width];
        let mut check =
            |dimensions: &[Dimensions], bits: usize, rows: &[Vec<Felt>], siblings: usize| {
                compute_root(
                    &mut builder,
                    dimensions,
                    &vec![cell; bits],
                    rows,
                    &vec![digest; siblings],
                )
            };
        assert_eq!(check(&[], 0, &[], 0), Err(MerkleShapeError::EmptyBatch));
        assert_eq!(
            check(&[dims(6, 1)], 3, &[row(1)], 3),
            Err(MerkleShapeError::HeightNotPowerOfTwo {
                matrix: 0,
                height: 6
            })
        );
        assert_eq!(
            check(&[dims(8, 1), dims(0, 1)], 3, &[row(1), row(1)], 3),
            Err(MerkleShapeError::HeightNotPowerOfTwo {
                matrix: 1,
                height: 0
            })
        );
        assert_eq!(
            check(&[dims(8, 2)], 3, &[row(2), row(2)], 3),
            Err(MerkleShapeError::WrongBatchSize {
                expected: 1,
                got: 2
            })
        );
        assert_eq!(
            check(&[dims(8, 2)], 3, &[row(3)], 3),
            Err(MerkleShapeError::WrongWidth {
                matrix: 0,
                expected: 2,
                got: 3
            })
        );
        assert_eq!(
            check(&[dims(8, 2)], 3, &[row(2)], 2),
            Err(MerkleShapeError::WrongProofLength {
                max_height: 8,
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            check(&[dims(8, 2)], 4, &[row(2)], 3),
            Err(MerkleShapeError::WrongIndexBits {
                max_height: 8,
                expected: 3,
                got: 4
            })
        );
        assert!(check(&[dims(8, 2)], 3, &[row(2)], 3).is_ok());
    }
}
