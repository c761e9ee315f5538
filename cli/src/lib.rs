//! The zkmips command-line tool's library: each subcommand's logic, so it can be tested.

pub mod build;
pub mod prove;
pub mod prove_evm;
pub mod run;
