//! Prints the soundness of the inner configuration for the chips of this crate and for a
//! representative full-size shard. Run with
//! `cargo run --release -p zkmips-prover --example security_report`.

use zkmips_prover::chips::{AddSubChip, BitwiseChip, ByteChip, LtChip, MipsAir, ShiftChip};
use zkmips_prover::config::{Challenge, FriSettings, INNER_FRI, Val};
use zkmips_prover::security::{BatchSecurityShape, INNER_COLLISION_BITS, batch_shape, estimate};

fn print(label: &str, shape: &BatchSecurityShape) {
    let e = estimate(&INNER_FRI, shape);
    println!("{label}:");
    println!("  shape: {shape:?}");
    println!(
        "  proven {:.1} bits (binds: {}), conjectured {:.1} bits (binds: {}), legacy {:.1} bits",
        e.proven_bits, e.proven_binding, e.conjectured_bits, e.conjectured_binding, e.legacy_bits
    );
}

fn main() {
    println!("FRI settings: {INNER_FRI:?}");
    let airs = [
        MipsAir::Byte(ByteChip),
        MipsAir::AddSub(AddSubChip),
        MipsAir::Bitwise(BitwiseChip),
        MipsAir::Shift(ShiftChip),
        MipsAir::Lt(LtChip),
    ];
    for air in &airs {
        let log_height = if matches!(air, MipsAir::Byte(_)) {
            16
        } else {
            8
        };
        let shape = batch_shape::<Val, Challenge, _>(std::slice::from_ref(air), &[log_height]);
        println!(
            "{}: {} constraints, degree {}, {} quotient chunks, {} opened polynomials, {} bus messages/row",
            air.name(),
            shape.num_constraints,
            shape.max_constraint_degree,
            shape.num_quotient_chunks,
            shape.num_batched_functions,
            shape.lookup_messages_per_row
        );
    }
    for log_rows in [8, 16, 20, 22] {
        let shape =
            batch_shape::<Val, Challenge, _>(&airs, &[16, log_rows, log_rows, log_rows, log_rows]);
        print(
            &format!("byte table + AddSub + Bitwise + Shift + Lt at 2^{log_rows} rows"),
            &shape,
        );
    }
    let shard = BatchSecurityShape {
        log_max_height: 22,
        challenge_field_bits: 123,
        collision_bits: INNER_COLLISION_BITS,
        num_batched_functions: 2000,
        num_constraints: 500,
        max_constraint_degree: 3,
        num_quotient_chunks: 2,
        max_combo: 2,
        lookup_messages_per_row: 64,
        max_message_width: 8,
    };
    print(
        "hypothetical full machine shard (2^22 rows, 64 messages/row, 2000 openings)",
        &shard,
    );

    println!("alternatives on the hypothetical shard (log_blowup, queries):");
    for (log_blowup, num_queries) in [(1, 100), (1, 120), (2, 50), (2, 60), (3, 34), (3, 40)] {
        let settings = FriSettings {
            log_blowup,
            num_queries,
            ..INNER_FRI
        };
        let e = estimate(&settings, &shard);
        println!(
            "  blowup 2^{log_blowup}, {num_queries} queries: proven {:.1}, conjectured {:.1} ({}), legacy {:.1}",
            e.proven_bits, e.conjectured_bits, e.conjectured_binding, e.legacy_bits
        );
    }
}
