//! The cost of one call: a fresh instance of the component plus a trivial
//! export (`properties.contact-property-group`), with and without the
//! pooling allocator. Run with `cargo bench -p host-sim --bench call_overhead`.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use host_sim::config::HostConfig;
use host_sim::outbound::Outbound;
use host_sim::runtime::{Installation, Runtime, RuntimeOptions};
use host_sim::storage::Database;

fn call_overhead(c: &mut Criterion) {
    let tokio = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let installation = Installation {
        id: "bench".into(),
        storage: Database::in_memory()
            .expect("sqlite in memory")
            .namespace("bench"),
        config: Arc::new(HostConfig::default().plugin_config()),
        outbound: Arc::new(Outbound::deny_all()),
        clock: host_sim::clock::Clock::real(),
        syncs: Default::default(),
    };
    let mut group = c.benchmark_group("instantiate + trivial export");
    for pooling in [true, false] {
        let runtime = Runtime::new(
            host_sim::PLUGIN_COMPONENT,
            RuntimeOptions {
                pooling,
                ..RuntimeOptions::default()
            },
        )
        .expect("the component loads");
        let name = if pooling { "pooling" } else { "on-demand" };
        group.bench_function(name, |b| {
            b.to_async(&tokio).iter(|| async {
                runtime
                    .contact_property_group(&installation)
                    .await
                    .expect("the call succeeds")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, call_overhead);
criterion_main!(benches);
