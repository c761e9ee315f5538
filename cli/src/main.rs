//! The `zkmips` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zkmips_cli::build::{BuildOptions, build_guest};
use zkmips_cli::prove::{ProveArgs, VerifyArgs, prove, verify};
use zkmips_cli::run::{RunArgs, RunOutcome, run};

mod export;

/// Exit code for a guest that stopped on an error, or a host-side failure.
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "zkmips",
    version,
    about = "A zero-knowledge virtual machine for MIPS32r2"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a MIPS32r2 ELF (a zkVM guest or a static Linux binary).
    Run(RunArgs),
    /// Build a Rust guest to a MIPS ELF.
    Build {
        /// The guest crate's directory.
        #[arg(default_value = ".")]
        guest_dir: std::path::PathBuf,
        /// Build without optimisations.
        #[arg(long)]
        debug: bool,
        /// Copy the ELF here.
        #[arg(short, long, value_name = "OUT.elf")]
        output: Option<std::path::PathBuf>,
    },
    /// Prove a run of a zkVM guest: every shard, written to one proof file.
    Prove(ProveArgs),
    /// Verify a proof file and print the proven exit code and public values.
    Verify(VerifyArgs),
    /// Write the Solidity Groth16 verifier for the current (dev-seed, NOT ceremony) keys.
    ExportVerifier(export::ExportVerifierArgs),
    /// Print a program's verifying key (bytes32 hex).
    Vkey {
        /// The program's ELF file.
        program: std::path::PathBuf,
        /// Print the key of EVM proofs (`programVKey` of `prove --evm` and the contracts) instead.
        #[arg(long)]
        evm: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => match run(&args) {
            Ok(RunOutcome::Exited(code)) => match u8::try_from(code) {
                Ok(code) => ExitCode::from(code),
                // A zkVM HALT code that no process status can carry: never let it read as success.
                Err(_) => {
                    eprintln!(
                        "note: the guest exited with code {code}, which does not fit an exit status"
                    );
                    ExitCode::FAILURE
                }
            },
            Ok(RunOutcome::Failed(err)) => {
                eprintln!("error: {err}");
                ExitCode::from(EXIT_ERROR)
            }
            Err(err) => {
                eprintln!("error: {}", error_chain(&err));
                ExitCode::from(EXIT_ERROR)
            }
        },
        Command::Build {
            guest_dir,
            debug,
            output,
        } => {
            match build_guest(&BuildOptions {
                guest_dir,
                release: !debug,
                output,
            }) {
                Ok(path) => {
                    println!("{}", path.display());
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("error: {}", error_chain(&err));
                    ExitCode::from(EXIT_ERROR)
                }
            }
        }
        Command::Prove(args) => report(prove(&args)),
        Command::Verify(args) => report(verify(&args)),
        Command::ExportVerifier(args) => report(export::export_verifier(&args)),
        Command::Vkey { program, evm } => {
            let vkey = std::fs::read(&program)
                .map_err(|err| format!("cannot read {}: {err}", program.display()))
                .and_then(|bytes| {
                    if evm {
                        // The programVKey of the EVM statement over the recursion path:
                        // the program's fixed tables committed under the compress settings.
                        zkmips_prover::evm::EvmProgram::from_elf(&bytes)
                            .and_then(|p| p.compressed_vkey(&zkmips_prover::config::COMPRESS_FRI))
                            .map(|key| key.to_hex())
                            .map_err(|err| format!("{}: {err}", program.display()))
                    } else {
                        zkmips_prover::vkey_of_elf(&bytes)
                            .map_err(|err| format!("{}: {err}", program.display()))
                    }
                });
            match vkey {
                Ok(vkey) => {
                    println!("{vkey}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::from(EXIT_ERROR)
                }
            }
        }
    }
}

/// An error and its causes on one line, `outer: cause: root`. Many library errors already
/// print their source inside their own message (`"MIPS shard: {0}"`); a cause whose text the
/// message before it already ends with is not printed twice.
fn error_chain(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Exit status of a host-side command: success, or the error chain on stderr.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", error_chain(&err));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    /// An error that prints its source in its own message and also reports it as its source.
    #[derive(Debug)]
    struct Wrapping(std::io::Error);

    impl std::fmt::Display for Wrapping {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "MIPS run: {}", self.0)
        }
    }

    impl std::error::Error for Wrapping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_already_printed_is_not_repeated() {
        let root = || std::io::Error::other("exit code 1");
        let err = anyhow::Error::new(Wrapping(root())).context("fibonacci.elf");
        assert_eq!(error_chain(&err), "fibonacci.elf: MIPS run: exit code 1");
        // A cause the message does not include is still printed.
        let err = anyhow::Error::new(root()).context("fibonacci.elf");
        assert_eq!(error_chain(&err), "fibonacci.elf: exit code 1");
    }
}
