//! `host-sim bench --curve`: the sync's growth (issue 21).

use super::{
    BenchOptions, HostConfig, Limit, Row, Synced, deliveries, generated_webinar, row, sync,
};

/// One size's measures, for the ratios against the next.
#[derive(Clone, Copy)]
struct Point {
    n: usize,
    wall: f64,
    fuel: f64,
    peak: f64,
}

/// Issue 21: the full sync at each of `sizes` registrants (70 % of them
/// attending), one run each with fuel counted: its time (and the fakes'
/// and storage's shares), CRM calls, peak guest memory and guest
/// instructions per record, how they grow against the size before (time
/// and instructions linear: the ratio of the sizes; memory bounded), and
/// the webhook rate with that state. A size the default limits stop says
/// why in its row.
pub async fn curve(sizes: &[usize], config: &HostConfig) -> Result<Vec<Row>, String> {
    let mut config = HostConfig {
        component: config.component.clone(),
        ..HostConfig::default()
    };
    config.limits.fuel = true;
    let mut rows = Vec::new();
    let mut before: Option<Point> = None;
    for &n in sizes {
        let options = BenchOptions {
            registrants: n,
            attendees: n * 7 / 10,
            runs: 1,
            ..BenchOptions::default()
        };
        let (sim, webinar) = generated_webinar(options, &config, false).await?;
        let fuel_before = sim.runtime.fuel_used().unwrap_or(0);
        let synced = match sync(&sim, &webinar).await {
            Ok(synced) => synced,
            Err(why) => {
                rows.push(row(&format!("{n}: the sync failed: {why}"), 0.0, "", None));
                before = None;
                continue;
            }
        };
        let point = Point {
            n,
            wall: synced.wall.as_secs_f64(),
            fuel: (sim.runtime.fuel_used().unwrap_or(0) - fuel_before) as f64,
            peak: sim.runtime.peak_memory_bytes() as f64 / (1024.0 * 1024.0),
        };
        rows.extend(size_rows(point, &synced));
        if let Some(before) = before {
            rows.extend(ratio_rows(point, before));
        }
        before = Some(point);
        // The webhook rate against the state's size: the webinar's people
        // are in the state now (its ledger, their records).
        let label = format!(" with {n} people in the state");
        rows.extend(deliveries(&sim, &webinar, 2_000, &label).await?);
    }
    Ok(rows)
}

/// The measures of one size.
fn size_rows(point: Point, synced: &Synced) -> Vec<Row> {
    let Point {
        n,
        wall,
        fuel,
        peak,
    } = point;
    let fakes = synced.in_fakes.as_secs_f64();
    let storage = synced.in_storage.as_secs_f64();
    vec![
        row(
            &format!("{n}: sync wall time (fuel counted)"),
            wall,
            "s",
            None,
        ),
        row(&format!("{n}: ... of which in the fakes"), fakes, "s", None),
        row(&format!("{n}: ... of which in storage"), storage, "s", None),
        row(
            &format!("{n}: ... the plugin's own (the rest)"),
            wall - fakes - storage,
            "s",
            None,
        ),
        row(
            &format!("{n}: CRM calls"),
            synced.crm_calls as f64,
            "calls",
            Some((
                &format!("<= floor {} + 5", synced.floor),
                Limit::AtMost((synced.floor + 5) as f64),
            )),
        ),
        row(
            &format!("{n}: peak guest memory"),
            peak,
            "MiB",
            Some(("< 16 MiB", Limit::Below(16.0))),
        ),
        row(
            &format!("{n}: guest instructions per record"),
            fuel / f64::from(synced.written.max(1)),
            "instr.",
            None,
        ),
    ]
}

/// How one size grew against the one before.
fn ratio_rows(point: Point, before: Point) -> Vec<Row> {
    let (n, m) = (point.n, before.n);
    let sizes = n as f64 / m as f64;
    let linear = format!("~ {sizes:.1} (linear)");
    vec![
        row(
            &format!("{n} against {m}: time ratio"),
            point.wall / before.wall,
            "x",
            Some((&linear, Limit::AtMost(sizes * 1.1))),
        ),
        row(
            &format!("{n} against {m}: instructions ratio"),
            point.fuel / before.fuel,
            "x",
            Some((&linear, Limit::AtMost(sizes * 1.1))),
        ),
        // Bounded by the slice, not the webinar: a few per cent for the
        // table that routes attendees to their registration.
        row(
            &format!("{n} against {m}: peak memory ratio"),
            point.peak / before.peak,
            "x",
            Some(("< 1.25 (bounded)", Limit::Below(1.25))),
        ),
    ]
}
