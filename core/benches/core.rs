//! Criterion benchmarks of the pure building blocks (filled in as the modules land).
#![allow(missing_docs)]
use criterion::{Criterion, criterion_group, criterion_main};

fn benches(_c: &mut Criterion) {}

criterion_group!(core_benches, benches);
criterion_main!(core_benches);
