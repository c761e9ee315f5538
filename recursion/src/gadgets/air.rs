//! The out-of-domain check of a `p3-batch-stark` instance as a recursion program: the AIR's
//! symbolic constraints (base-field ones and the extension-field LogUp ones, in their global
//! emission order) evaluated at ζ over the opened values and folded with α, the Lagrange
//! selectors of the trace domain at ζ, the quotient recomposed from its chunks, and the check
//! `folded · Z_H(ζ)^-1 = quotient(ζ)`, as `VerifierData::verify_constraints_with_lookups` and
//! `recompose_quotient_from_chunks` do natively.
//!
//! Cost matters: every extension instruction is a row of the extension ALU table, the widest
//! part of a recursion proof. So the evaluator folds constants at build time (`x · 1`, `x + 0`
//! and constant-only sub-expressions emit nothing), keeps base-only work (public values) in the
//! base table, evaluates each node of the constraint DAG once (p3 shares sub-expressions
//! through `Arc`s; they are memoised by address) and emits each distinct instruction on the
//! same operands once.

use std::collections::HashMap;

use p3_air::symbolic::{
    BaseEntry, BaseLeaf, ExtEntry, ExtLeaf, SymbolicExpr, SymbolicExpression, SymbolicExpressionExt,
};
use p3_field::{BasedVectorSpace, Field, PrimeCharacteristicRing, TwoAdicField};
use thiserror::Error;

pub use zkmips_prover::proof_shape::{ChunkDomain, EXT_DEGREE, MixedConstraint};

use crate::builder::{Builder, Ext, Felt};
use crate::ir::{Challenge, Val};

/// Why an out-of-domain check cannot be built: the constraints, the opened values or the
/// domains do not fit each other (a shape mismatch, never a property of the proof's values).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AirCheckError {
    #[error("a constraint reads {what} column {index}, only {len} are opened")]
    MissingColumn {
        what: &'static str,
        index: usize,
        len: usize,
    },
    #[error("a constraint reads {what}, which the batch-STARK verifier does not open")]
    Unsupported { what: &'static str },
    #[error("a trace domain of 2^{log_size} rows exceeds the field's two-adicity")]
    DomainTooLarge { log_size: usize },
    #[error("{0}")]
    Shape(String),
}

/// The Lagrange selectors of a trace domain at ζ (unnormalised, as p3 defines them).
#[derive(Clone, Copy, Debug)]
pub struct Selectors {
    pub is_first_row: Ext,
    pub is_last_row: Ext,
    pub is_transition: Ext,
    pub inv_vanishing: Ext,
}

/// `ζ^(2^k)` for the `k` the checks need, by one shared chain of squarings (every trace domain
/// and quotient chunk domain of a batch reads a prefix of it).
#[derive(Clone, Debug)]
pub struct ZetaPowers {
    chain: Vec<Ext>,
}

impl ZetaPowers {
    pub fn new(zeta: Ext) -> Self {
        Self { chain: vec![zeta] }
    }

    pub fn zeta(&self) -> Ext {
        self.chain[0]
    }

    /// `ζ^(2^k)`.
    pub fn pow_2k(&mut self, builder: &mut Builder, k: usize) -> Ext {
        while self.chain.len() <= k {
            let last = *self.chain.last().expect("the chain starts with ζ");
            let square = builder.ext_mul(last, last);
            self.chain.push(square);
        }
        self.chain[k]
    }
}

fn check_log_size(log_size: usize) -> Result<(), AirCheckError> {
    if log_size > Val::TWO_ADICITY {
        return Err(AirCheckError::DomainTooLarge { log_size });
    }
    Ok(())
}

/// Selectors of the subgroup of `2^log_size` points at ζ: with `Z = ζ^n - 1` and `g` the
/// subgroup generator, first row `Z / (ζ - 1)`, last row `Z / (ζ - g^-1)`, transition
/// `ζ - g^-1`, and `1 / Z`. The inverses are proven (an inverse row proves its input
/// non-zero), so ζ outside the trace domain is enforced and no `0 / 0` can be claimed.
pub fn selectors_at_point(
    builder: &mut Builder,
    log_size: usize,
    zeta_powers: &mut ZetaPowers,
) -> Result<Selectors, AirCheckError> {
    check_log_size(log_size)?;
    let one = builder.ext_constant(Challenge::ONE);
    let zeta = zeta_powers.zeta();
    let zeta_pow_n = zeta_powers.pow_2k(builder, log_size);
    let vanishing = builder.ext_sub(zeta_pow_n, one);
    let last_point =
        builder.ext_constant(Challenge::from(Val::two_adic_generator(log_size).inverse()));
    let is_transition = builder.ext_sub(zeta, last_point);
    let zeta_minus_one = builder.ext_sub(zeta, one);
    Ok(Selectors {
        is_first_row: builder.ext_div(vanishing, zeta_minus_one),
        is_last_row: builder.ext_div(vanishing, is_transition),
        is_transition,
        inv_vanishing: builder.ext_inv(vanishing),
    })
}

/// The opened values the base constraints read: main and preprocessed rows at ζ (`local`) and
/// at ζ·g (`next`; `None` when the AIR does not open it, read as zeros as p3 does), and the
/// instance's public values.
#[derive(Clone, Copy, Debug)]
pub struct OpenedRows<'a> {
    pub main_local: &'a [Ext],
    pub main_next: Option<&'a [Ext]>,
    pub preprocessed_local: &'a [Ext],
    pub preprocessed_next: Option<&'a [Ext]>,
    pub public_values: &'a [Felt],
}

/// What the LogUp constraints read besides the opened rows: the permutation columns at ζ and
/// ζ·g (each already recomposed into one extension value, see [`recompose_ext_columns`]), the
/// instance's lookup challenges (per lookup: its bus prefix, then β) and its terminal(s), as
/// `VerifierConstraintFolderWithLookups` hands them to the AIR.
#[derive(Clone, Copy, Debug)]
pub struct LookupRows<'a> {
    pub permutation_local: &'a [Ext],
    pub permutation_next: &'a [Ext],
    pub challenges: &'a [Ext],
    pub values: &'a [Ext],
}

/// p3-lookup's per-bus LogUp offsets `α + (i + 1) · β^W` for buses `0..num_buses`, `W` the
/// widest message of the batch (so the offset sits one power of β above every payload term).
pub fn bus_prefixes(
    builder: &mut Builder,
    lookup_alpha: Ext,
    lookup_beta: Ext,
    max_message_width: usize,
    num_buses: usize,
) -> Result<Vec<Ext>, AirCheckError> {
    if max_message_width == 0 {
        return Err(AirCheckError::Shape("LogUp messages of width 0".into()));
    }
    // β^W by square-and-multiply, most significant bit first.
    let mut gamma = lookup_beta;
    for bit in (0..usize::BITS - 1 - max_message_width.leading_zeros()).rev() {
        gamma = builder.ext_mul(gamma, gamma);
        if (max_message_width >> bit) & 1 == 1 {
            gamma = builder.ext_mul(gamma, lookup_beta);
        }
    }
    let mut prefix = lookup_alpha;
    Ok((0..num_buses)
        .map(|_| {
            prefix = builder.ext_add(prefix, gamma);
            prefix
        })
        .collect())
}

/// An instance's LogUp challenges in the order its constraints read them: per lookup, the
/// prefix of its bus, then β.
pub fn instance_lookup_challenges(
    prefixes: &[Ext],
    lookup_beta: Ext,
    bus_ids: &[usize],
) -> Result<Vec<Ext>, AirCheckError> {
    bus_ids
        .iter()
        .map(|&bus| {
            prefixes
                .get(bus)
                .map(|&prefix| [prefix, lookup_beta])
                .ok_or_else(|| {
                    AirCheckError::Shape(format!(
                        "bus {bus} of an instance, the batch has {} buses",
                        prefixes.len()
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|pairs| pairs.concat())
}

/// An extension element from its coordinates in the extension: `Σ_k coefficients[k] · X^k`
/// (p3's `from_ext_basis_coefficients`, how an opened extension column is rebuilt from the
/// openings of its base columns).
pub fn recompose_ext(builder: &mut Builder, coefficients: &[Ext; EXT_DEGREE]) -> Ext {
    let mut acc = coefficients[0];
    for (k, &coefficient) in coefficients.iter().enumerate().skip(1) {
        let monomial = builder.ext_constant(monomial(k));
        let term = builder.ext_mul(coefficient, monomial);
        acc = builder.ext_add(acc, term);
    }
    acc
}

/// The extension columns of a base-flattened opened row: column `j` is
/// `Σ_k flat[4j + k] · X^k`.
pub fn recompose_ext_columns(
    builder: &mut Builder,
    flat: &[Ext],
) -> Result<Vec<Ext>, AirCheckError> {
    if !flat.len().is_multiple_of(EXT_DEGREE) {
        return Err(AirCheckError::Shape(format!(
            "{} opened permutation values, not a multiple of {EXT_DEGREE}",
            flat.len()
        )));
    }
    Ok(flat
        .chunks_exact(EXT_DEGREE)
        .map(|chunk| {
            let coefficients: [Ext; EXT_DEGREE] = chunk.try_into().expect("exact chunk");
            recompose_ext(builder, &coefficients)
        })
        .collect())
}

/// `X^k` in the extension's basis.
fn monomial(k: usize) -> Challenge {
    Challenge::from_basis_coefficients_fn(|j| if j == k { Val::ONE } else { Val::ZERO })
}

/// An evaluated sub-expression, kept as cheap as it can be: a constant known at build time
/// costs nothing, a base cell uses the base table.
#[derive(Clone, Copy, Debug)]
enum Value {
    Const(Challenge),
    Felt(Felt),
    Ext(Ext),
}

fn as_base_constant(c: Challenge) -> Option<Val> {
    let coordinates: &[Val] = c.as_basis_coefficients_slice();
    coordinates[1..]
        .iter()
        .all(|x| x.is_zero())
        .then_some(coordinates[0])
}

/// The ring operations the evaluator emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum RingOp {
    Add,
    Sub,
    Mul,
}

/// Instruction identity for reuse: the operation, whether it runs on the base table, and its
/// operand cells (ordered for commutative operations).
type InstrKey = (RingOp, bool, u32, u32);

/// Emits arithmetic on [`Value`]s with constant folding and reuse of identical instructions.
struct Arithmetic<'b> {
    builder: &'b mut Builder,
    emitted: HashMap<InstrKey, Value>,
}

impl Arithmetic<'_> {
    fn ext(&mut self, value: Value) -> Ext {
        match value {
            Value::Const(c) => self.builder.ext_constant(c),
            Value::Felt(f) => f.as_ext(),
            Value::Ext(e) => e,
        }
    }

    /// The base cell of a base value, if it is one.
    fn felt(&mut self, value: Value) -> Option<Felt> {
        match value {
            Value::Const(c) => as_base_constant(c).map(|c| self.builder.constant(c)),
            Value::Felt(f) => Some(f),
            Value::Ext(_) => None,
        }
    }

    /// One ALU instruction on two non-constant-folded operands, base when both are base.
    fn emit(&mut self, op: RingOp, a: Value, b: Value) -> Value {
        let is_base = |v: &Value| match v {
            Value::Const(c) => as_base_constant(*c).is_some(),
            Value::Felt(_) => true,
            Value::Ext(_) => false,
        };
        let base_operands = if is_base(&a) && is_base(&b) {
            self.felt(a).zip(self.felt(b))
        } else {
            None
        };
        if let Some((x, y)) = base_operands {
            let key = ordered(op, true, x.addr().0, y.addr().0);
            if let Some(&done) = self.emitted.get(&key) {
                return done;
            }
            let out = match op {
                RingOp::Add => self.builder.add(x, y),
                RingOp::Sub => self.builder.sub(x, y),
                RingOp::Mul => self.builder.mul(x, y),
            };
            self.emitted.insert(key, Value::Felt(out));
            Value::Felt(out)
        } else {
            let (x, y) = (self.ext(a), self.ext(b));
            let key = ordered(op, false, x.addr().0, y.addr().0);
            if let Some(&done) = self.emitted.get(&key) {
                return done;
            }
            let out = match op {
                RingOp::Add => self.builder.ext_add(x, y),
                RingOp::Sub => self.builder.ext_sub(x, y),
                RingOp::Mul => self.builder.ext_mul(x, y),
            };
            self.emitted.insert(key, Value::Ext(out));
            Value::Ext(out)
        }
    }

    fn add(&mut self, a: Value, b: Value) -> Value {
        match (a, b) {
            (Value::Const(x), Value::Const(y)) => Value::Const(x + y),
            (Value::Const(z), v) | (v, Value::Const(z)) if z.is_zero() => v,
            _ => self.emit(RingOp::Add, a, b),
        }
    }

    fn sub(&mut self, a: Value, b: Value) -> Value {
        match (a, b) {
            (Value::Const(x), Value::Const(y)) => Value::Const(x - y),
            (v, Value::Const(z)) if z.is_zero() => v,
            _ => self.emit(RingOp::Sub, a, b),
        }
    }

    fn mul(&mut self, a: Value, b: Value) -> Value {
        match (a, b) {
            (Value::Const(x), Value::Const(y)) => Value::Const(x * y),
            (Value::Const(z), _) | (_, Value::Const(z)) if z.is_zero() => Value::Const(z),
            (Value::Const(one), v) | (v, Value::Const(one)) if one == Challenge::ONE => v,
            _ => self.emit(RingOp::Mul, a, b),
        }
    }

    fn neg(&mut self, a: Value) -> Value {
        self.sub(Value::Const(Challenge::ZERO), a)
    }
}

fn ordered(op: RingOp, base: bool, a: u32, b: u32) -> InstrKey {
    let commutative = op != RingOp::Sub;
    if commutative && b < a {
        (op, base, b, a)
    } else {
        (op, base, a, b)
    }
}

fn column(what: &'static str, cells: &[Ext], index: usize) -> Result<Value, AirCheckError> {
    cells
        .get(index)
        .map(|&cell| Value::Ext(cell))
        .ok_or(AirCheckError::MissingColumn {
            what,
            index,
            len: cells.len(),
        })
}

/// A `next` row the AIR does not open: p3 reads zeros of the local row's width.
fn next_column(
    what: &'static str,
    next: Option<&[Ext]>,
    local_width: usize,
    index: usize,
) -> Result<Value, AirCheckError> {
    match next {
        Some(cells) => column(what, cells, index),
        None if index < local_width => Ok(Value::Const(Challenge::ZERO)),
        None => Err(AirCheckError::MissingColumn {
            what,
            index,
            len: local_width,
        }),
    }
}

struct Evaluator<'a, 'b> {
    arithmetic: Arithmetic<'b>,
    opened: &'a OpenedRows<'a>,
    lookups: &'a LookupRows<'a>,
    selectors: &'a Selectors,
    /// Shared nodes of the constraint DAGs, by address: each is evaluated once.
    base_memo: HashMap<*const SymbolicExpression<Val>, Value>,
    ext_memo: HashMap<*const SymbolicExpressionExt<Val, Challenge>, Value>,
}

impl Evaluator<'_, '_> {
    fn base_leaf(&mut self, leaf: &BaseLeaf<Val>) -> Result<Value, AirCheckError> {
        let opened = self.opened;
        Ok(match leaf {
            BaseLeaf::Constant(c) => Value::Const(Challenge::from(*c)),
            BaseLeaf::IsFirstRow => Value::Ext(self.selectors.is_first_row),
            BaseLeaf::IsLastRow => Value::Ext(self.selectors.is_last_row),
            BaseLeaf::IsTransition => Value::Ext(self.selectors.is_transition),
            BaseLeaf::Variable(v) => match v.entry {
                BaseEntry::Main { offset: 0 } => column("main", opened.main_local, v.index)?,
                BaseEntry::Main { offset: 1 } => next_column(
                    "main next",
                    opened.main_next,
                    opened.main_local.len(),
                    v.index,
                )?,
                BaseEntry::Preprocessed { offset: 0 } => {
                    column("preprocessed", opened.preprocessed_local, v.index)?
                }
                BaseEntry::Preprocessed { offset: 1 } => next_column(
                    "preprocessed next",
                    opened.preprocessed_next,
                    opened.preprocessed_local.len(),
                    v.index,
                )?,
                BaseEntry::Public => opened
                    .public_values
                    .get(v.index)
                    .map(|&felt| Value::Felt(felt))
                    .ok_or(AirCheckError::MissingColumn {
                        what: "public value",
                        index: v.index,
                        len: opened.public_values.len(),
                    })?,
                BaseEntry::Periodic => {
                    return Err(AirCheckError::Unsupported {
                        what: "a periodic column",
                    });
                }
                BaseEntry::Main { .. } | BaseEntry::Preprocessed { .. } => {
                    return Err(AirCheckError::Unsupported {
                        what: "a row beyond the next one",
                    });
                }
            },
        })
    }

    fn base(&mut self, expr: &SymbolicExpression<Val>) -> Result<Value, AirCheckError> {
        let key = expr as *const _;
        if let Some(&done) = self.base_memo.get(&key) {
            return Ok(done);
        }
        let value = match expr {
            SymbolicExpr::Leaf(leaf) => self.base_leaf(leaf)?,
            SymbolicExpr::Add { x, y, .. } => {
                let (x, y) = (self.base(x)?, self.base(y)?);
                self.arithmetic.add(x, y)
            }
            SymbolicExpr::Sub { x, y, .. } => {
                let (x, y) = (self.base(x)?, self.base(y)?);
                self.arithmetic.sub(x, y)
            }
            SymbolicExpr::Mul { x, y, .. } => {
                let (x, y) = (self.base(x)?, self.base(y)?);
                self.arithmetic.mul(x, y)
            }
            SymbolicExpr::Neg { x, .. } => {
                let x = self.base(x)?;
                self.arithmetic.neg(x)
            }
        };
        self.base_memo.insert(key, value);
        Ok(value)
    }

    fn ext_leaf(&mut self, leaf: &ExtLeaf<Val, Challenge>) -> Result<Value, AirCheckError> {
        let lookups = self.lookups;
        Ok(match leaf {
            ExtLeaf::Base(expr) => self.base(expr)?,
            ExtLeaf::ExtConstant(c) => Value::Const(*c),
            ExtLeaf::ExtVariable(v) => match v.entry {
                ExtEntry::Permutation { offset: 0 } => {
                    column("permutation", lookups.permutation_local, v.index)?
                }
                ExtEntry::Permutation { offset: 1 } => {
                    column("permutation next", lookups.permutation_next, v.index)?
                }
                ExtEntry::Challenge => column("lookup challenge", lookups.challenges, v.index)?,
                ExtEntry::PermutationValue => column("lookup terminal", lookups.values, v.index)?,
                ExtEntry::Permutation { .. } => {
                    return Err(AirCheckError::Unsupported {
                        what: "a permutation row beyond the next one",
                    });
                }
            },
        })
    }

    fn ext(
        &mut self,
        expr: &SymbolicExpressionExt<Val, Challenge>,
    ) -> Result<Value, AirCheckError> {
        let key = expr as *const _;
        if let Some(&done) = self.ext_memo.get(&key) {
            return Ok(done);
        }
        let value = match expr {
            SymbolicExpr::Leaf(leaf) => self.ext_leaf(leaf)?,
            SymbolicExpr::Add { x, y, .. } => {
                let (x, y) = (self.ext(x)?, self.ext(y)?);
                self.arithmetic.add(x, y)
            }
            SymbolicExpr::Sub { x, y, .. } => {
                let (x, y) = (self.ext(x)?, self.ext(y)?);
                self.arithmetic.sub(x, y)
            }
            SymbolicExpr::Mul { x, y, .. } => {
                let (x, y) = (self.ext(x)?, self.ext(y)?);
                self.arithmetic.mul(x, y)
            }
            SymbolicExpr::Neg { x, .. } => {
                let x = self.ext(x)?;
                self.arithmetic.neg(x)
            }
        };
        self.ext_memo.insert(key, value);
        Ok(value)
    }
}

/// `Σ_i α^(m-1-i) · C_i(ζ)` over the instance's constraints in their global emission order:
/// the verifier folder's `acc = acc · α + C_i`, base and extension (LogUp) constraints
/// accumulating into one value.
pub fn fold_constraints(
    builder: &mut Builder,
    constraints: &[MixedConstraint],
    opened: &OpenedRows<'_>,
    lookups: &LookupRows<'_>,
    selectors: &Selectors,
    alpha: Ext,
) -> Result<Ext, AirCheckError> {
    let mut evaluator = Evaluator {
        arithmetic: Arithmetic {
            builder,
            emitted: HashMap::new(),
        },
        opened,
        lookups,
        selectors,
        base_memo: HashMap::new(),
        ext_memo: HashMap::new(),
    };
    let alpha = Value::Ext(alpha);
    let mut accumulator = Value::Const(Challenge::ZERO);
    for constraint in constraints {
        let value = match constraint {
            MixedConstraint::Base(expr) => evaluator.base(expr)?,
            MixedConstraint::Ext(expr) => evaluator.ext(expr)?,
        };
        let scaled = evaluator.arithmetic.mul(accumulator, alpha);
        accumulator = evaluator.arithmetic.add(scaled, value);
    }
    Ok(evaluator.arithmetic.ext(accumulator))
}

/// `Z(x) = (x / s)^n - 1`, the vanishing polynomial of a chunk domain, at a base point.
fn vanishing_native(domain: &ChunkDomain, point: Val) -> Result<Val, AirCheckError> {
    let shift_inverse = domain
        .shift
        .try_inverse()
        .ok_or_else(|| AirCheckError::Shape("a quotient chunk domain has shift 0".into()))?;
    Ok((point * shift_inverse).exp_power_of_2(domain.log_size) - Val::ONE)
}

/// quotient(ζ) from the chunks' openings: `Σ_i zp_i · Σ_k q_{i,k} X^k` with
/// `zp_i = Π_{j≠i} Z_j(ζ) / Z_j(s_i)` (p3's `recompose_quotient_from_chunks`). `chunks[i]`
/// holds the opened values of chunk `i`'s four committed base columns.
pub fn recompose_quotient(
    builder: &mut Builder,
    domains: &[ChunkDomain],
    chunks: &[[Ext; EXT_DEGREE]],
    zeta_powers: &mut ZetaPowers,
) -> Result<Ext, AirCheckError> {
    if domains.len() != chunks.len() || domains.is_empty() {
        return Err(AirCheckError::Shape(format!(
            "{} quotient chunk domains for {} opened chunks",
            domains.len(),
            chunks.len()
        )));
    }
    let mut arithmetic = Arithmetic {
        builder,
        emitted: HashMap::new(),
    };
    // Z_j(ζ) = s_j^-n · (ζ^n - s_j^n): the factor s_j^-n joins the constant below, leaving
    // one subtraction from the shared power per domain (and none for a single chunk).
    let mut shifted_vanishing = Vec::with_capacity(domains.len());
    let mut shift_pow_n_inverse = Vec::with_capacity(domains.len());
    for domain in domains {
        check_log_size(domain.log_size)?;
        let shift_pow_n = domain.shift.exp_power_of_2(domain.log_size);
        shift_pow_n_inverse.push(
            shift_pow_n.try_inverse().ok_or_else(|| {
                AirCheckError::Shape("a quotient chunk domain has shift 0".into())
            })?,
        );
        if domains.len() > 1 {
            let zeta_pow_n = Value::Ext(zeta_powers.pow_2k(arithmetic.builder, domain.log_size));
            shifted_vanishing.push(arithmetic.sub(zeta_pow_n, Value::Const(shift_pow_n.into())));
        }
    }
    let mut quotient = Value::Const(Challenge::ZERO);
    for (i, (domain, chunk)) in domains.iter().zip(chunks).enumerate() {
        // Π_{j≠i} s_j^-n / Z_j(s_i) is a constant: one scaling instead of one per factor.
        let mut scale = Val::ONE;
        let mut zp = Value::Const(Challenge::ONE);
        for (j, other) in domains.iter().enumerate().filter(|(j, _)| *j != i) {
            let at_shift = vanishing_native(other, domain.shift)?;
            scale *= shift_pow_n_inverse[j]
                * at_shift.try_inverse().ok_or_else(|| {
                    AirCheckError::Shape(format!("quotient chunk domains {i} and {j} overlap"))
                })?;
            zp = arithmetic.mul(zp, shifted_vanishing[j]);
        }
        let chunk_value = Value::Ext(recompose_ext(arithmetic.builder, chunk));
        let zp = arithmetic.mul(zp, Value::Const(scale.into()));
        let term = arithmetic.mul(zp, chunk_value);
        quotient = arithmetic.add(quotient, term);
    }
    Ok(arithmetic.ext(quotient))
}

/// Enforces `folded(ζ) · Z_H(ζ)^-1 = quotient(ζ)`; a run of the program fails otherwise.
pub fn ood_check(builder: &mut Builder, folded: Ext, selectors: &Selectors, quotient: Ext) {
    let divided = builder.ext_mul(folded, selectors.inv_vanishing);
    builder.ext_assert_eq(divided, quotient);
}

#[cfg(test)]
mod tests {
    use p3_air::symbolic::{AirLayout, SymbolicVariable};
    use p3_air::{Air, BaseAir, RowWindow};
    use p3_batch_stark::folder::VerifierConstraintFolderWithLookups;
    use p3_batch_stark::symbolic::{get_constraint_layout, get_symbolic_constraints};
    use p3_commit::PolynomialSpace;
    use p3_field::coset::TwoAdicMultiplicativeCoset;
    use p3_field::{ExtensionField, PrimeField64};
    use p3_lookup::{InteractionSymbolicBuilder, LogUpGadget, LookupProtocol, Lookups};
    use p3_matrix::dense::RowMajorMatrixView;
    use p3_matrix::stack::VerticalPair;
    use p3_uni_stark::{VerifierConstraintFolder, recompose_quotient_from_chunks};
    use zkmips_prover::chips::{AddSubChip, CpuChip, MemoryBoundaryChip};
    use zkmips_prover::config::InnerConfig;

    use super::*;
    use crate::chips::alu::{AluChip, AluKind};
    use crate::chips::{MemoryChip, Poseidon2Chip};
    use crate::ir::{Instr, PERM_WIDTH, Program, ext_block};
    use crate::runtime::{RuntimeError, execute};

    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn random_val(seed: &mut u64) -> Val {
        Val::from_u64(splitmix(seed) % Val::ORDER_U64)
    }

    fn random_ext(seed: &mut u64) -> Challenge {
        Challenge::from_basis_coefficients_fn(|_| random_val(seed))
    }

    fn random_exts(seed: &mut u64, n: usize) -> Vec<Challenge> {
        (0..n).map(|_| random_ext(seed)).collect()
    }

    /// A builder and the witness stream its witness cells read, filled side by side.
    #[derive(Default)]
    struct Harness {
        builder: Builder,
        witness: Vec<Val>,
    }

    impl Harness {
        fn ext(&mut self, value: Challenge) -> Ext {
            self.witness
                .extend_from_slice(value.as_basis_coefficients_slice());
            self.builder.witness_ext()
        }

        fn exts(&mut self, values: &[Challenge]) -> Vec<Ext> {
            values.iter().map(|&v| self.ext(v)).collect()
        }

        fn felt(&mut self, value: Val) -> Felt {
            self.witness.push(value);
            self.builder.witness()
        }
    }

    /// ALU instructions of a program slice: (base table rows, extension table rows).
    fn alu_rows(instrs: &[Instr]) -> (usize, usize) {
        let base = instrs
            .iter()
            .filter(|i| matches!(i, Instr::BaseAlu { .. }))
            .count();
        let ext = instrs
            .iter()
            .filter(|i| matches!(i, Instr::ExtAlu { .. }))
            .count();
        (base, ext)
    }

    /// An AIR's constraints in global emission order, as `BatchProofShape` derives them, with
    /// the lookups they were derived from.
    struct Instance {
        constraints: Vec<MixedConstraint>,
        lookups: Lookups<Val>,
        main_width: usize,
        preprocessed_width: usize,
        num_public_values: usize,
        opens_main_next: bool,
        opens_preprocessed_next: bool,
    }

    fn instance<A>(air: &A) -> Instance
    where
        A: BaseAir<Val> + Air<InteractionSymbolicBuilder<Val, Challenge>>,
    {
        let lookups = Lookups::<Val>::from_air::<Challenge, A>(air);
        let layout = AirLayout::from_air(air);
        let gadget = LogUpGadget::new();
        let (base, ext) =
            get_symbolic_constraints::<Val, Challenge, A, _>(air, layout, &lookups, &gadget);
        let order = get_constraint_layout::<Val, Challenge, A, _>(air, layout, &lookups, &gadget);
        let mut constraints: Vec<Option<MixedConstraint>> = vec![None; base.len() + ext.len()];
        for (&index, c) in order.base_indices.iter().zip(base) {
            constraints[index] = Some(MixedConstraint::Base(c));
        }
        for (&index, c) in order.ext_indices.iter().zip(ext) {
            constraints[index] = Some(MixedConstraint::Ext(c));
        }
        Instance {
            constraints: constraints.into_iter().map(|c| c.unwrap()).collect(),
            lookups,
            main_width: air.width(),
            preprocessed_width: air.preprocessed_width(),
            num_public_values: air.num_public_values(),
            opens_main_next: !air.main_next_row_columns().is_empty(),
            opens_preprocessed_next: !air.preprocessed_next_row_columns().is_empty(),
        }
    }

    /// Random opened values for an instance, at random ζ and α.
    #[derive(Clone)]
    struct Openings {
        main_local: Vec<Challenge>,
        main_next: Option<Vec<Challenge>>,
        preprocessed_local: Vec<Challenge>,
        preprocessed_next: Option<Vec<Challenge>>,
        public_values: Vec<Val>,
        /// Base-flattened permutation rows (4 opened values per extension column).
        permutation_local: Vec<Challenge>,
        permutation_next: Vec<Challenge>,
        challenges: Vec<Challenge>,
        values: Vec<Challenge>,
        zeta: Challenge,
        alpha: Challenge,
    }

    fn random_openings(instance: &Instance, seed: &mut u64) -> Openings {
        let num_lookups = instance.lookups.len();
        let permutation_width = if num_lookups == 0 { 0 } else { num_lookups + 1 };
        let (w, p) = (instance.main_width, instance.preprocessed_width);
        Openings {
            main_local: random_exts(seed, w),
            main_next: instance.opens_main_next.then(|| random_exts(seed, w)),
            preprocessed_local: random_exts(seed, p),
            preprocessed_next: instance
                .opens_preprocessed_next
                .then(|| random_exts(seed, p)),
            public_values: (0..instance.num_public_values)
                .map(|_| random_val(seed))
                .collect(),
            permutation_local: random_exts(seed, permutation_width * EXT_DEGREE),
            permutation_next: random_exts(seed, permutation_width * EXT_DEGREE),
            challenges: random_exts(seed, num_lookups * LogUpGadget::new().num_challenges()),
            values: random_exts(seed, usize::from(num_lookups > 0)),
            zeta: random_ext(seed),
            alpha: random_ext(seed),
        }
    }

    fn native_ext_columns(flat: &[Challenge]) -> Vec<Challenge> {
        flat.chunks_exact(EXT_DEGREE)
            .map(|chunk| {
                <Challenge as ExtensionField<Val>>::from_ext_basis_coefficients(chunk).unwrap()
            })
            .collect()
    }

    /// The accumulator of p3-batch-stark's own verifier folder after the AIR and its lookups.
    fn native_fold<A>(air: &A, instance: &Instance, o: &Openings, log_size: usize) -> Challenge
    where
        A: for<'a> Air<VerifierConstraintFolderWithLookups<'a, InnerConfig>>,
    {
        let selectors = TwoAdicMultiplicativeCoset::new(Val::ONE, log_size)
            .unwrap()
            .selectors_at_point(o.zeta);
        let main_next = o
            .main_next
            .clone()
            .unwrap_or_else(|| vec![Challenge::ZERO; o.main_local.len()]);
        let preprocessed_next = o
            .preprocessed_next
            .clone()
            .unwrap_or_else(|| vec![Challenge::ZERO; o.preprocessed_local.len()]);
        let permutation_local = native_ext_columns(&o.permutation_local);
        let permutation_next = native_ext_columns(&o.permutation_next);
        let mut folder = VerifierConstraintFolderWithLookups {
            inner: VerifierConstraintFolder {
                main: VerticalPair::new(
                    RowMajorMatrixView::new_row(&o.main_local),
                    RowMajorMatrixView::new_row(&main_next),
                ),
                preprocessed: VerticalPair::new(
                    RowMajorMatrixView::new_row(&o.preprocessed_local),
                    RowMajorMatrixView::new_row(&preprocessed_next),
                ),
                preprocessed_window: RowWindow::from_two_rows(
                    &o.preprocessed_local,
                    &preprocessed_next,
                ),
                periodic_values: &[],
                public_values: &o.public_values,
                is_first_row: selectors.is_first_row,
                is_last_row: selectors.is_last_row,
                is_transition: selectors.is_transition,
                alpha: o.alpha,
                accumulator: Challenge::ZERO,
            },
            permutation: VerticalPair::new(
                RowMajorMatrixView::new_row(&permutation_local),
                RowMajorMatrixView::new_row(&permutation_next),
            ),
            permutation_challenges: &o.challenges,
            permutation_values: &o.values,
        };
        LogUpGadget::new().eval_air_and_lookups(air, &mut folder, &instance.lookups);
        folder.inner.accumulator
    }

    /// The program's cells for the selectors and the folded constraints.
    struct Folded {
        selectors: Selectors,
        folded: Ext,
        zeta_powers: ZetaPowers,
        /// The fold's instructions, as indices into the program.
        fold_range: std::ops::Range<usize>,
    }

    fn build_fold(
        h: &mut Harness,
        instance: &Instance,
        o: &Openings,
        log_size: usize,
    ) -> Result<Folded, AirCheckError> {
        let main_local = h.exts(&o.main_local);
        let main_next = o.main_next.as_ref().map(|v| h.exts(v));
        let preprocessed_local = h.exts(&o.preprocessed_local);
        let preprocessed_next = o.preprocessed_next.as_ref().map(|v| h.exts(v));
        let public_values: Vec<Felt> = o.public_values.iter().map(|&v| h.felt(v)).collect();
        let permutation_local = h.exts(&o.permutation_local);
        let permutation_next = h.exts(&o.permutation_next);
        let challenges = h.exts(&o.challenges);
        let values = h.exts(&o.values);
        let zeta = h.ext(o.zeta);
        let alpha = h.ext(o.alpha);

        let b = &mut h.builder;
        let permutation_local = recompose_ext_columns(b, &permutation_local)?;
        let permutation_next = recompose_ext_columns(b, &permutation_next)?;
        let mut zeta_powers = ZetaPowers::new(zeta);
        let selectors = selectors_at_point(b, log_size, &mut zeta_powers)?;
        let opened = OpenedRows {
            main_local: &main_local,
            main_next: main_next.as_deref(),
            preprocessed_local: &preprocessed_local,
            preprocessed_next: preprocessed_next.as_deref(),
            public_values: &public_values,
        };
        let lookups = LookupRows {
            permutation_local: &permutation_local,
            permutation_next: &permutation_next,
            challenges: &challenges,
            values: &values,
        };
        let start = b.len();
        let folded = fold_constraints(
            b,
            &instance.constraints,
            &opened,
            &lookups,
            &selectors,
            alpha,
        )?;
        let fold_range = start..b.len();
        Ok(Folded {
            selectors,
            folded,
            zeta_powers,
            fold_range,
        })
    }

    /// Folds `air`'s constraints over random openings in a program and compares the run's
    /// value with p3's verifier folder; returns the fold's ALU rows (base, extension).
    fn check_fold<A>(air: &A, log_size: usize, seed: u64) -> (usize, usize)
    where
        A: BaseAir<Val>
            + Air<InteractionSymbolicBuilder<Val, Challenge>>
            + for<'a> Air<VerifierConstraintFolderWithLookups<'a, InnerConfig>>,
    {
        let mut seed = seed;
        let instance = instance(air);
        let openings = random_openings(&instance, &mut seed);
        let native = native_fold(air, &instance, &openings, log_size);
        let mut h = Harness::default();
        let folded = build_fold(&mut h, &instance, &openings, log_size).unwrap();
        let program = h.builder.build().unwrap();
        let run = execute(&program, &h.witness).unwrap();
        assert_eq!(run.value(folded.folded.addr()), ext_block(native));
        alu_rows(&program.instrs()[folded.fold_range])
    }

    fn report(name: &str, instance_constraints: usize, rows: (usize, usize)) {
        println!(
            "{name}: {instance_constraints} constraints fold in {} base ALU + {} ext ALU rows",
            rows.0, rows.1
        );
    }

    #[test]
    fn folded_add_sub_constraints_equal_native() {
        // No next row opened (read as zeros), lookups on several buses.
        assert!(!instance(&AddSubChip).opens_main_next);
        let rows = check_fold(&AddSubChip, 4, 1);
        report("AddSubChip", instance(&AddSubChip).constraints.len(), rows);
    }

    #[test]
    fn folded_memory_boundary_constraints_equal_native() {
        let rows = check_fold(&MemoryBoundaryChip, 5, 2);
        report(
            "MemoryBoundaryChip",
            instance(&MemoryBoundaryChip).constraints.len(),
            rows,
        );
    }

    #[test]
    fn folded_cpu_constraints_equal_native() {
        // Public values (base cells), transitions, first/last-row constraints and lookups.
        let cpu = instance(&CpuChip);
        assert!(cpu.num_public_values > 0 && cpu.opens_main_next);
        let rows = check_fold(&CpuChip, 6, 3);
        report("CpuChip", cpu.constraints.len(), rows);
        // Regression guard on the cost (measured 569 extension rows).
        assert!(rows.1 <= 600, "{rows:?}");
    }

    /// A program exercising every recursion table, for their AIRs.
    fn sample_program() -> Program {
        let mut b = Builder::new();
        let x = b.witness();
        let e = b.witness_ext();
        let y = b.mul(x, x);
        let f = b.ext_mul(e, y.as_ext());
        let g = b.ext_inv(f);
        b.ext_assert_eq(g, g);
        let state: [Felt; PERM_WIDTH] = core::array::from_fn(|_| x);
        let out = b.poseidon2(state);
        b.public(out[0]);
        b.build().unwrap()
    }

    #[test]
    fn folded_recursion_table_constraints_equal_native() {
        let program = sample_program();
        let poseidon2 = Poseidon2Chip::new(&program, 2);
        assert!(instance(&poseidon2).preprocessed_width > 0);
        let rows = check_fold(&poseidon2, 3, 4);
        // Regression guard on the cost (measured 2898 extension rows).
        assert!(rows.1 <= 3000, "{rows:?}");
        report(
            "recursion Poseidon2Chip",
            instance(&poseidon2).constraints.len(),
            rows,
        );
        let ext_alu = AluChip::new(&program, AluKind::Ext, 2);
        let rows = check_fold(&ext_alu, 2, 5);
        report(
            "recursion ext AluChip",
            instance(&ext_alu).constraints.len(),
            rows,
        );
        let memory = MemoryChip::new(&program, 2);
        let rows = check_fold(&memory, 4, 6);
        report(
            "recursion MemoryChip",
            instance(&memory).constraints.len(),
            rows,
        );
    }

    #[test]
    fn selectors_equal_native() {
        let mut seed = 7;
        for log_size in [1, 4, 9] {
            let zeta = random_ext(&mut seed);
            let native = TwoAdicMultiplicativeCoset::new(Val::ONE, log_size)
                .unwrap()
                .selectors_at_point(zeta);
            let mut h = Harness::default();
            let zeta_cell = h.ext(zeta);
            let selectors =
                selectors_at_point(&mut h.builder, log_size, &mut ZetaPowers::new(zeta_cell))
                    .unwrap();
            let program = h.builder.build().unwrap();
            let run = execute(&program, &h.witness).unwrap();
            let value = |cell: Ext| run.value(cell.addr());
            assert_eq!(
                value(selectors.is_first_row),
                ext_block(native.is_first_row)
            );
            assert_eq!(value(selectors.is_last_row), ext_block(native.is_last_row));
            assert_eq!(
                value(selectors.is_transition),
                ext_block(native.is_transition)
            );
            assert_eq!(
                value(selectors.inv_vanishing),
                ext_block(native.inv_vanishing)
            );
        }
        // ζ in the trace domain has no selectors: the inverse of Z_H(ζ) = 0 fails the run.
        let mut h = Harness::default();
        let zeta_cell = h.ext(Challenge::from(Val::two_adic_generator(3)));
        selectors_at_point(&mut h.builder, 3, &mut ZetaPowers::new(zeta_cell)).unwrap();
        let program = h.builder.build().unwrap();
        assert!(matches!(
            execute(&program, &h.witness),
            Err(RuntimeError::InverseOfZero { .. })
        ));
        assert_eq!(
            selectors_at_point(
                &mut Builder::new(),
                Val::TWO_ADICITY + 1,
                &mut ZetaPowers::new(zeta_cell)
            )
            .unwrap_err(),
            AirCheckError::DomainTooLarge {
                log_size: Val::TWO_ADICITY + 1
            }
        );
    }

    /// The quotient chunk domains of a trace of `2^log_size` rows split in `num_chunks`.
    fn chunk_domains(
        log_size: usize,
        num_chunks: usize,
    ) -> (Vec<TwoAdicMultiplicativeCoset<Val>>, Vec<ChunkDomain>) {
        let trace = TwoAdicMultiplicativeCoset::new(Val::ONE, log_size).unwrap();
        let domains = trace
            .create_disjoint_domain(num_chunks << log_size)
            .split_domains(num_chunks);
        let shapes = domains
            .iter()
            .map(|d| ChunkDomain {
                shift: d.shift(),
                log_size: d.log_size(),
            })
            .collect();
        (domains, shapes)
    }

    #[test]
    fn quotient_recomposition_equals_native() {
        let mut seed = 8;
        for num_chunks in [1usize, 2, 4] {
            let (domains, shapes) = chunk_domains(5, num_chunks);
            let chunks: Vec<Vec<Challenge>> =
                (0..num_chunks).map(|_| random_exts(&mut seed, 4)).collect();
            let zeta = random_ext(&mut seed);
            let native = recompose_quotient_from_chunks::<InnerConfig>(&domains, &chunks, zeta);

            let mut h = Harness::default();
            let chunk_cells: Vec<[Ext; EXT_DEGREE]> = chunks
                .iter()
                .map(|c| core::array::from_fn(|k| h.ext(c[k])))
                .collect();
            let zeta_cell = h.ext(zeta);
            let start = h.builder.len();
            let quotient = recompose_quotient(
                &mut h.builder,
                &shapes,
                &chunk_cells,
                &mut ZetaPowers::new(zeta_cell),
            )
            .unwrap();
            let end = h.builder.len();
            let program = h.builder.build().unwrap();
            let run = execute(&program, &h.witness).unwrap();
            assert_eq!(
                run.value(quotient.addr()),
                ext_block(native),
                "{num_chunks}"
            );
            let rows = alu_rows(&program.instrs()[start..end]);
            println!("recomposing {num_chunks} quotient chunks: {rows:?} (base, ext) ALU rows");
        }
        let (_, shapes) = chunk_domains(5, 2);
        assert!(matches!(
            recompose_quotient(
                &mut Builder::new(),
                &shapes,
                &[],
                &mut ZetaPowers::new(Builder::new().witness_ext())
            ),
            Err(AirCheckError::Shape(_))
        ));
    }

    /// Quotient chunk openings that recompose to `target` at ζ: random chunks but the first,
    /// which is solved for.
    fn chunks_for(
        domains: &[TwoAdicMultiplicativeCoset<Val>],
        target: Challenge,
        zeta: Challenge,
        seed: &mut u64,
    ) -> Vec<Vec<Challenge>> {
        let mut chunks: Vec<Vec<Challenge>> =
            (0..domains.len()).map(|_| random_exts(seed, 4)).collect();
        chunks[0] = vec![Challenge::ZERO; 4];
        let rest = recompose_quotient_from_chunks::<InnerConfig>(domains, &chunks, zeta);
        chunks[0][0] = Challenge::ONE;
        let unit = recompose_quotient_from_chunks::<InnerConfig>(domains, &chunks, zeta) - rest;
        chunks[0][0] = (target - rest) / unit;
        assert_eq!(
            recompose_quotient_from_chunks::<InnerConfig>(domains, &chunks, zeta),
            target
        );
        chunks
    }

    /// The whole out-of-domain check of one instance: accepted with the quotient the
    /// constraints imply, rejected (a failed assertion in the run) when an opened value of the
    /// main trace, of the permutation trace or of a quotient chunk is changed.
    #[test]
    fn ood_check_accepts_the_honest_quotient_and_rejects_wrong_openings() {
        let mut seed = 9;
        let air = MemoryBoundaryChip;
        let log_size = 4;
        let instance = instance(&air);
        let openings = random_openings(&instance, &mut seed);
        let native = native_fold(&air, &instance, &openings, log_size);
        let selectors = TwoAdicMultiplicativeCoset::new(Val::ONE, log_size)
            .unwrap()
            .selectors_at_point(openings.zeta);
        let (domains, shapes) = chunk_domains(log_size, 2);
        let chunks = chunks_for(
            &domains,
            native * selectors.inv_vanishing,
            openings.zeta,
            &mut seed,
        );

        let run = |openings: &Openings, chunks: &[Vec<Challenge>]| {
            let mut h = Harness::default();
            let mut folded = build_fold(&mut h, &instance, openings, log_size).unwrap();
            let chunk_cells: Vec<[Ext; EXT_DEGREE]> = chunks
                .iter()
                .map(|c| core::array::from_fn(|k| h.ext(c[k])))
                .collect();
            let quotient = recompose_quotient(
                &mut h.builder,
                &shapes,
                &chunk_cells,
                &mut folded.zeta_powers,
            )
            .unwrap();
            ood_check(&mut h.builder, folded.folded, &folded.selectors, quotient);
            let program = h.builder.build().unwrap();
            execute(&program, &h.witness).map(|_| ())
        };
        run(&openings, &chunks).unwrap();

        let rejected = |result: Result<(), RuntimeError>| {
            assert!(
                matches!(result, Err(RuntimeError::AssertionFailed { .. })),
                "{result:?}"
            );
        };
        let mut wrong = openings.clone();
        wrong.main_local[0] += Challenge::ONE;
        rejected(run(&wrong, &chunks));
        let mut wrong = openings.clone();
        wrong.permutation_next[3] += Challenge::ONE;
        rejected(run(&wrong, &chunks));
        let mut wrong = openings.clone();
        wrong.public_values.iter_mut().for_each(|v| *v += Val::ONE);
        wrong.challenges[0] += Challenge::ONE;
        rejected(run(&wrong, &chunks));
        let mut wrong_chunks = chunks.clone();
        wrong_chunks[1][2] += Challenge::ONE;
        rejected(run(&openings, &wrong_chunks));
    }

    /// `x·1 + 0` costs nothing, constant-only constraints cost nothing beyond the fold step,
    /// and the same product built twice (distinct DAG nodes) is emitted once.
    #[test]
    fn constants_fold_and_repeated_work_is_shared() {
        let x = || {
            SymbolicExpression::<Val>::from(SymbolicVariable::new(BaseEntry::Main { offset: 0 }, 0))
        };
        let y = || {
            SymbolicExpression::<Val>::from(SymbolicVariable::new(BaseEntry::Main { offset: 0 }, 1))
        };
        let c = |v: u32| SymbolicExpression::<Val>::from(Val::from_u32(v));
        let constraints = vec![
            MixedConstraint::Base(x() * c(1) + c(0)),
            MixedConstraint::Base(c(2) * c(3) - c(6)),
            MixedConstraint::Base(x() * y()),
            MixedConstraint::Base(y() * x()),
        ];
        let mut seed = 10;
        let (xv, yv, alpha) = (
            random_ext(&mut seed),
            random_ext(&mut seed),
            random_ext(&mut seed),
        );
        let mut h = Harness::default();
        let main = h.exts(&[xv, yv]);
        let alpha_cell = h.ext(alpha);
        let zeta = h.ext(random_ext(&mut seed));
        let selectors = selectors_at_point(&mut h.builder, 3, &mut ZetaPowers::new(zeta)).unwrap();
        let start = h.builder.len();
        let folded = fold_constraints(
            &mut h.builder,
            &constraints,
            &OpenedRows {
                main_local: &main,
                main_next: None,
                preprocessed_local: &[],
                preprocessed_next: None,
                public_values: &[],
            },
            &LookupRows {
                permutation_local: &[],
                permutation_next: &[],
                challenges: &[],
                values: &[],
            },
            &selectors,
            alpha_cell,
        )
        .unwrap();
        let end = h.builder.len();
        let program = h.builder.build().unwrap();
        let run = execute(&program, &h.witness).unwrap();
        let expected = ((xv * alpha) * alpha + xv * yv) * alpha + xv * yv;
        assert_eq!(run.value(folded.addr()), ext_block(expected));
        // x·y once; acc·α three times (the first step folds 0·α); two adds of non-zero terms.
        assert_eq!(alu_rows(&program.instrs()[start..end]), (0, 6));

        // A column the opened rows do not have is a shape error, not a panic.
        let missing = fold_constraints(
            &mut Builder::new(),
            &constraints,
            &OpenedRows {
                main_local: &main[..1],
                main_next: None,
                preprocessed_local: &[],
                preprocessed_next: None,
                public_values: &[],
            },
            &LookupRows {
                permutation_local: &[],
                permutation_next: &[],
                challenges: &[],
                values: &[],
            },
            &selectors,
            alpha_cell,
        );
        assert_eq!(
            missing.unwrap_err(),
            AirCheckError::MissingColumn {
                what: "main",
                index: 1,
                len: 1
            }
        );
    }

    #[test]
    fn lookup_challenges_equal_native() {
        let mut seed = 11;
        for (width, num_buses) in [(1usize, 1usize), (5, 3), (8, 6), (13, 2)] {
            let (alpha, beta) = (random_ext(&mut seed), random_ext(&mut seed));
            let native = p3_lookup::Challenges::new(alpha, beta, width, num_buses);
            let mut h = Harness::default();
            let (alpha_cell, beta_cell) = (h.ext(alpha), h.ext(beta));
            let prefixes =
                bus_prefixes(&mut h.builder, alpha_cell, beta_cell, width, num_buses).unwrap();
            let bus_ids: Vec<usize> = (0..num_buses).rev().collect();
            let challenges = instance_lookup_challenges(&prefixes, beta_cell, &bus_ids).unwrap();
            let program = h.builder.build().unwrap();
            let run = execute(&program, &h.witness).unwrap();
            let expected: Vec<_> = bus_ids
                .iter()
                .flat_map(|&bus| [native.bus_prefix[bus], beta])
                .map(ext_block)
                .collect();
            let got: Vec<_> = challenges.iter().map(|c| run.value(c.addr())).collect();
            assert_eq!(got, expected, "width {width}, {num_buses} buses");
        }
        let mut b = Builder::new();
        let e = b.witness_ext();
        assert!(bus_prefixes(&mut b, e, e, 0, 1).is_err());
        assert!(instance_lookup_challenges(&[e], e, &[1]).is_err());
    }

    /// Work on public values and base constants only runs on the base table; it joins the
    /// extension table where it meets an opened value.
    #[test]
    fn base_only_work_stays_in_the_base_table() {
        let public =
            |i| SymbolicExpression::<Val>::from(SymbolicVariable::new(BaseEntry::Public, i));
        let x = SymbolicExpression::<Val>::from(SymbolicVariable::new(
            BaseEntry::Main { offset: 1 },
            0,
        ));
        let three = SymbolicExpression::<Val>::from(Val::from_u32(3));
        let constraints = [MixedConstraint::Base(public(0) * public(1) + three - x)];
        let mut seed = 12;
        let (p0, p1) = (random_val(&mut seed), random_val(&mut seed));
        let (local, next, alpha) = (
            random_ext(&mut seed),
            random_ext(&mut seed),
            random_ext(&mut seed),
        );
        let mut h = Harness::default();
        let public_cells = [h.felt(p0), h.felt(p1)];
        let (local_cell, next_cell, alpha_cell) = (h.ext(local), h.ext(next), h.ext(alpha));
        let zeta = h.ext(random_ext(&mut seed));
        let selectors = selectors_at_point(&mut h.builder, 2, &mut ZetaPowers::new(zeta)).unwrap();
        let start = h.builder.len();
        let next_row = [next_cell];
        let opened_with_next = OpenedRows {
            main_local: std::slice::from_ref(&local_cell),
            main_next: Some(&next_row),
            preprocessed_local: &[],
            preprocessed_next: None,
            public_values: &public_cells,
        };
        let opened_without_next = OpenedRows {
            main_next: None,
            ..opened_with_next
        };
        let no_lookups = LookupRows {
            permutation_local: &[],
            permutation_next: &[],
            challenges: &[],
            values: &[],
        };
        let folded = fold_constraints(
            &mut h.builder,
            &constraints,
            &opened_with_next,
            &no_lookups,
            &selectors,
            alpha_cell,
        )
        .unwrap();
        let end = h.builder.len();
        // Without an opened next row p3 reads zeros: only the base part remains.
        let without_next = fold_constraints(
            &mut h.builder,
            &constraints,
            &opened_without_next,
            &no_lookups,
            &selectors,
            alpha_cell,
        )
        .unwrap();
        let program = h.builder.build().unwrap();
        let run = execute(&program, &h.witness).unwrap();
        let base = p0 * p1 + Val::from_u32(3);
        assert_eq!(
            run.value(folded.addr()),
            ext_block(Challenge::from(base) - next)
        );
        assert_eq!(
            run.value(without_next.addr()),
            ext_block(Challenge::from(base))
        );
        assert_eq!(alu_rows(&program.instrs()[start..end]), (2, 1));
    }
}
