//! The zkmips command-line tool's library: each subcommand's logic, so it can be tested.
