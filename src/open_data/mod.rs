//! `GET /export/open-data.zip`: every public record in one download, for researchers. One CSV file per
//! collection (UTF-8 with a byte-order mark, names beside ids, the same columns as each list's CSV export), a
//! Frictionless `datapackage.json` describing every file's columns, and a README with the licence and the
//! export time. It is read in one repeatable-read snapshot and streamed as it is read.

pub mod collections;
pub mod handlers;
pub mod package;
