//! Rebuilds the crate when a migration changes: `embed_migrations!` reads them at compile time, which Cargo does not
//! track by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
