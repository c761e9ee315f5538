//! `zkmips prove` / `zkmips verify` end to end on bundled examples: proofs verify by ELF and by
//! vkey and print the proven public values; a proof checked against another program and a corrupt
//! or foreign file fail with exit code 2 and a clear `error:` line.

#[macro_use]
#[allow(unused_macros)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{scratch_dir, zkmips_bin};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/bin")
        .join(format!("{name}.elf"))
}

fn zkmips(args: &[&str]) -> Output {
    Command::new(zkmips_bin())
        .args(args)
        .output()
        .expect("zkmips runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit code 2, no panic, and the `error:` line.
fn expect_failure(output: &Output, what: &str) -> String {
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked"), "{what}: panicked:\n{stderr}");
    assert_eq!(output.status.code(), Some(2), "{what}:\n{stderr}");
    stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("{what}: no error line:\n{stderr}"))
        .to_string()
}

#[test]
fn prove_then_verify_by_elf_and_by_vkey() {
    let dir = scratch_dir(&["prove", "fibonacci"]);
    let input = dir.join("input.bin");
    std::fs::write(&input, 12u32.to_le_bytes()).unwrap();
    let proof = dir.join("proof.bin");
    let elf = example("fibonacci");
    let prove = zkmips(&[
        "prove",
        elf.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--shard-size",
        "2000",
        "-o",
        proof.to_str().unwrap(),
    ]);
    let stderr = text(&prove.stderr);
    assert!(prove.status.success(), "prove failed:\n{stderr}");
    assert!(stderr.contains("shard(s)"), "{stderr}");

    // fib(12) = 144: the guest commits n (u32) and fib(n) (u64), little-endian.
    let expected_public = "0c0000009000000000000000";
    let verify = zkmips(&[
        "verify",
        proof.to_str().unwrap(),
        "--elf",
        elf.to_str().unwrap(),
    ]);
    let stdout = text(&verify.stdout);
    assert!(
        verify.status.success(),
        "verify failed:\n{}",
        text(&verify.stderr)
    );
    assert!(stdout.contains("exit code:      0"), "{stdout}");
    assert!(stdout.contains(expected_public), "{stdout}");

    let vkey = text(&zkmips(&["vkey", elf.to_str().unwrap()]).stdout);
    let verify = zkmips(&["verify", proof.to_str().unwrap(), "--vkey", vkey.trim()]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));

    // The same proof against another program.
    let other = example("sdk-check");
    let wrong = zkmips(&[
        "verify",
        proof.to_str().unwrap(),
        "--elf",
        other.to_str().unwrap(),
    ]);
    let line = expect_failure(&wrong, "other program");
    assert!(line.contains("expected"), "{line}");

    // A corrupt file.
    let mut bytes = std::fs::read(&proof).unwrap();
    let corrupt = dir.join("corrupt.bin");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&corrupt, &bytes).unwrap();
    let bad = zkmips(&[
        "verify",
        corrupt.to_str().unwrap(),
        "--elf",
        elf.to_str().unwrap(),
    ]);
    expect_failure(&bad, "corrupt proof");
    std::fs::write(&corrupt, b"hello").unwrap();
    let line = expect_failure(
        &zkmips(&[
            "verify",
            corrupt.to_str().unwrap(),
            "--elf",
            elf.to_str().unwrap(),
        ]),
        "not a proof",
    );
    assert!(line.contains("not a zkmips proof file"), "{line}");
}

#[test]
fn malformed_vkey_is_a_clear_error() {
    let line = expect_failure(
        &zkmips(&["verify", "/nonexistent.bin", "--vkey", "0x1234"]),
        "missing file",
    );
    assert!(line.contains("/nonexistent.bin"), "{line}");
    let dir = scratch_dir(&["prove", "vkey"]);
    let file = dir.join("p.bin");
    std::fs::write(&file, b"ZKMIPSPF").unwrap();
    let line = expect_failure(
        &zkmips(&["verify", file.to_str().unwrap(), "--vkey", "0x1234"]),
        "short vkey",
    );
    assert!(
        line.contains("proof file") || line.contains("vkey"),
        "{line}"
    );
}

/// Every bundled example (except sdk-check, which needs hints: `prover/tests/machine.rs` proves it)
/// proves and verifies from the command line on its bundled input, keccak through its precompile.
#[test]
fn every_example_proves_and_verifies_from_the_cli() {
    let dir = scratch_dir(&["prove", "examples"]);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for (name, input) in [
        ("fibonacci", "input.bin"),
        ("sha256", "input.txt"),
        ("keccak", "input.txt"),
        ("serde-demo", "input.bin"),
        ("c-sum", "input.txt"),
    ] {
        let elf = example(name);
        let input = examples.join(name).join(input);
        let proof = dir.join(format!("{name}.proof"));
        let prove = zkmips(&[
            "prove",
            elf.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--shard-size",
            "65536",
            "-o",
            proof.to_str().unwrap(),
        ]);
        assert!(prove.status.success(), "{name}: {}", text(&prove.stderr));
        let verify = zkmips(&[
            "verify",
            proof.to_str().unwrap(),
            "--elf",
            elf.to_str().unwrap(),
        ]);
        let stdout = text(&verify.stdout);
        assert!(verify.status.success(), "{name}: {}", text(&verify.stderr));
        assert!(stdout.contains("exit code:      0"), "{name}: {stdout}");
    }
}
