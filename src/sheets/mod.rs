//! The spreadsheet layer: reading what clerks upload (calamine, csv) and writing what they
//! download (rust_xlsxwriter).

pub mod budget;
pub mod duty_log;
pub mod ledger;
pub mod reader;
pub mod roster;
pub mod roster_export;
pub mod scorecard;
pub mod scorecard_read;
pub mod table;
