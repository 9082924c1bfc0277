//! What hostile input costs before it is refused: each case is a request an
//! unauthenticated attacker can send, measured on the rule that must refuse it.
//! - `skills/7000`: a signup or profile edit listing 7,000 skills (limit 20);
//! - `image/8192x8192_png`: a 255 KB PNG that decodes to 8192 × 8192 pixels.
//!
//! Run with `cargo bench -p devconnect-core --bench hostile`; figures in the README.

use std::io::Cursor;

use criterion::{Criterion, criterion_group, criterion_main};
use devconnect_core::Upload;
use devconnect_core::media::{DEFAULT_UPLOAD_LIMIT, process_image};
use devconnect_core::profile::parse_skills;

fn skills(c: &mut Criterion) {
    let many: Vec<String> = (0..7000).map(|i| format!("skill{i}")).collect();
    c.bench_function("skills/7000", |b| b.iter(|| parse_skills(&many).is_err()));
    let twenty: Vec<String> = (0..20).map(|i| format!("Skill {i}")).collect();
    c.bench_function("skills/20", |b| b.iter(|| parse_skills(&twenty).is_ok()));
}

/// An 8192 × 8192 black PNG: a few hundred KB that decode to 192 MiB of pixels.
fn huge_png() -> Upload {
    let mut out = Cursor::new(Vec::new());
    let image = image::DynamicImage::new_rgb8(8192, 8192);
    let _ = image.write_to(&mut out, image::ImageFormat::Png);
    Upload(out.into_inner())
}

fn images(c: &mut Criterion) {
    let png = huge_png();
    let mut group = c.benchmark_group("image");
    group.sample_size(10);
    group.bench_function("8192x8192_png", |b| b.iter(|| process_image(&png, DEFAULT_UPLOAD_LIMIT).is_err()));
    group.finish();
}

criterion_group!(benches, skills, images);
criterion_main!(benches);
