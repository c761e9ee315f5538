//! Reads a batch of orders (postcard), aggregates it with heap collections, and commits a summary (postcard).
//!
//! Input: one item, `postcard(Batch)`. Public values: `postcard(Summary)`. Both types are below; a host
//! encodes the input with `postcard::to_allocvec(&batch)` using the same field order.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use zkmips_zkvm::{io, println};

zkmips_zkvm::entrypoint!(main);

#[derive(Deserialize)]
struct Order {
    customer: String,
    item: String,
    quantity: u32,
    unit_price_cents: u64,
}

#[derive(Deserialize)]
struct Batch {
    region: String,
    orders: Vec<Order>,
}

#[derive(Serialize)]
struct CustomerTotal {
    customer: String,
    spent_cents: u64,
}

#[derive(Serialize)]
struct Summary {
    region: String,
    order_count: u32,
    total_cents: u64,
    /// Highest spend first; equal spends by customer name.
    customers: Vec<CustomerTotal>,
    /// Distinct items, sorted.
    items: Vec<String>,
}

fn main() {
    let batch: Batch = io::read();

    let mut spent: BTreeMap<String, u64> = BTreeMap::new();
    let mut items = BTreeSet::new();
    let mut total_cents = 0u64;
    for order in batch.orders.iter() {
        let cost = u64::from(order.quantity)
            .checked_mul(order.unit_price_cents)
            .expect("serde-demo: order cost overflows u64");
        total_cents = total_cents
            .checked_add(cost)
            .expect("serde-demo: batch total overflows u64");
        let entry = spent.entry(order.customer.clone()).or_default();
        *entry = entry
            .checked_add(cost)
            .expect("serde-demo: customer total overflows u64");
        items.insert(order.item.clone());
    }

    let mut customers: Vec<CustomerTotal> = spent
        .into_iter()
        .map(|(customer, spent_cents)| CustomerTotal {
            customer,
            spent_cents,
        })
        .collect();
    customers.sort_by(|a, b| {
        b.spent_cents
            .cmp(&a.spent_cents)
            .then_with(|| a.customer.cmp(&b.customer))
    });

    let summary = Summary {
        region: batch.region,
        order_count: u32::try_from(batch.orders.len()).expect("serde-demo: more than 2^32 orders"),
        total_cents,
        customers,
        items: items.into_iter().collect(),
    };
    io::commit(&summary);

    println!(
        "{}: {} orders, {} items, total {}.{:02}",
        summary.region,
        summary.order_count,
        summary.items.len(),
        summary.total_cents / 100,
        summary.total_cents % 100
    );
    if let Some(top) = summary.customers.first() {
        println!(
            "top customer: {} ({}.{:02})",
            top.customer,
            top.spent_cents / 100,
            top.spent_cents % 100
        );
    }
}
