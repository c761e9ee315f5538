//! Runs every prebuilt example guest (`examples/bin/*.elf`) through `zkmips run` and checks its stdout, exit
//! code and committed public values against values computed here on the host with independent code
//! (the host `sha2` / `tiny-keccak` crates, a direct Fibonacci loop, a plain Adler-32, ...), and that every
//! exit path publishes the SHA-256 of the public values at `PUBLIC_DIGEST_ADDR`, where the verifier reads it.
#[macro_use]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
}

fn example_elf(name: &str) -> PathBuf {
    repo().join("examples/bin").join(format!("{name}.elf"))
}

/// A scratch file unique to this test process and `tag`.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkmips-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(tag)
}

/// Writes `bytes` to a scratch file and returns its path.
fn scratch_input(tag: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch(tag);
    std::fs::write(&path, bytes).unwrap();
    path
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    public_values: Vec<u8>,
}

/// `zkmips run examples/bin/<name>.elf --input <each input> --public-values-out <tmp> <extra...>`.
fn run_example(name: &str, tag: &str, inputs: &[&Path], extra: &[&str]) -> Run {
    let public_values_out = scratch(&format!("{tag}.public"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_zkmips"));
    command.arg("run").arg(example_elf(name));
    for input in inputs {
        command.arg("--input").arg(input);
    }
    command
        .arg("--public-values-out")
        .arg(&public_values_out)
        .args(extra);
    let output = command.output().expect("run zkmips");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        public_values: std::fs::read(&public_values_out).unwrap_or_default(),
    };
    let _ = std::fs::remove_file(&public_values_out);
    run
}

/// Asserts a successful run, showing the guest's stderr otherwise.
fn assert_success(run: &Run) {
    assert_eq!(
        run.code,
        Some(0),
        "exit code; stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fibonacci_mod_2_64(n: u32) -> u64 {
    let mut fib = [0u64, 1];
    for i in 2..=n as usize {
        fib[i % 2] = fib[0].wrapping_add(fib[1]);
    }
    fib[n as usize % 2]
}

#[test]
fn fibonacci_commits_n_and_fib_n() {
    let sample = repo().join("examples/fibonacci/input.bin");
    let n = u32::from_le_bytes(
        std::fs::read(&sample)
            .unwrap()
            .try_into()
            .expect("input.bin is 4 bytes"),
    );
    let ninety_three = scratch_input("fib93", &93u32.to_le_bytes());
    let zero = scratch_input("fib0", &0u32.to_le_bytes());
    for (tag, input, n) in [
        ("fib-sample", sample.as_path(), n),
        ("fib93", &ninety_three, 93),
        ("fib0", &zero, 0),
    ] {
        let run = run_example("fibonacci", tag, &[input], &[]);
        assert_success(&run);
        let fib = fibonacci_mod_2_64(n);
        assert_eq!(run.stdout, format!("fib({n}) mod 2^64 = {fib}\n"));
        let mut expected = n.to_le_bytes().to_vec();
        expected.extend(fib.to_le_bytes());
        assert_eq!(run.public_values, expected, "public values of fib({n})");
    }
    assert_eq!(
        fibonacci_mod_2_64(93),
        12_200_160_415_121_876_738,
        "the host reference itself"
    );
}

#[test]
fn fibonacci_stats_report_the_public_values_digest() {
    let run = run_example(
        "fibonacci",
        "fib-stats",
        &[&repo().join("examples/fibonacci/input.bin")],
        &["--stats"],
    );
    assert_success(&run);
    let digest = hex(&Sha256::digest(&run.public_values));
    assert!(
        run.stderr
            .contains(&format!("public values sha256: {digest}")),
        "stats must name the public-values digest {digest}:\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("stats: public values digest: published\n"),
        "stats must confirm the guest published the digest:\n{}",
        run.stderr
    );
}

#[test]
fn guest_panic_prints_the_message_and_exits_with_1() {
    let short = scratch_input("fib-short", &[1, 2, 3]);
    let run = run_example("fibonacci", "fib-short", &[&short], &[]);
    assert_eq!(run.code, Some(1), "stderr:\n{}", run.stderr);
    assert!(run.stderr.contains("guest panicked at"), "{}", run.stderr);
    assert!(
        run.stderr.contains("n as exactly 4 little-endian bytes"),
        "{}",
        run.stderr
    );
    assert!(
        run.public_values.is_empty(),
        "nothing is committed before the panic"
    );

    // No input item at all: the SDK's own message.
    let run = run_example("fibonacci", "fib-none", &[], &[]);
    assert_eq!(run.code, Some(1), "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains("the input stream has no item left"),
        "{}",
        run.stderr
    );
}

#[test]
fn sha256_commits_the_digest() {
    let sample = repo().join("examples/sha256/input.txt");
    let empty = scratch_input("sha-empty", b"");
    for (tag, input) in [("sha-sample", sample.as_path()), ("sha-empty", &empty)] {
        let message = std::fs::read(input).unwrap();
        let digest = Sha256::digest(&message);
        let run = run_example("sha256", tag, &[input], &[]);
        assert_success(&run);
        assert_eq!(
            run.public_values,
            digest.as_slice(),
            "digest of {}",
            input.display()
        );
        assert_eq!(
            run.stdout,
            format!("sha256({} bytes) = {}\n", message.len(), hex(&digest))
        );
    }
}

fn keccak256(message: &[u8]) -> [u8; 32] {
    use tiny_keccak::Hasher;
    let mut hasher = tiny_keccak::Keccak::v256();
    hasher.update(message);
    let mut digest = [0u8; 32];
    hasher.finalize(&mut digest);
    digest
}

#[test]
fn keccak_software_and_precompile_agree_on_the_digest() {
    let sample = repo().join("examples/keccak/input.txt");
    // Lengths around the 136-byte rate exercise the precompile path's padding.
    let empty = scratch_input("keccak-0", b"");
    let one_block = scratch_input("keccak-135", &[0xa5; 135]);
    let exact_rate = scratch_input("keccak-136", &[0x5a; 136]);
    for (tag, input) in [
        ("keccak-sample", sample.as_path()),
        ("keccak-0", &empty),
        ("keccak-135", &one_block),
        ("keccak-136", &exact_rate),
    ] {
        let message = std::fs::read(input).unwrap();
        let digest = keccak256(&message);
        let run = run_example("keccak", tag, &[input], &[]);
        assert_success(&run);
        assert_eq!(run.public_values, digest, "digest of {}", input.display());
        assert_eq!(
            run.stdout,
            format!("keccak256({} bytes) = {}\n", message.len(), hex(&digest))
        );
    }
    assert_eq!(
        hex(&keccak256(b"")),
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
        "the host reference itself"
    );
}

// Host mirrors of the serde-demo guest's types (same field order = same postcard encoding).
#[derive(Deserialize)]
struct Order {
    customer: String,
    item: String,
    quantity: u32,
    unit_price_cents: u64,
}

#[derive(Deserialize)]
struct Batch {
    region: String,
    orders: Vec<Order>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct CustomerTotal {
    customer: String,
    spent_cents: u64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Summary {
    region: String,
    order_count: u32,
    total_cents: u64,
    customers: Vec<CustomerTotal>,
    items: Vec<String>,
}

/// The summary, computed differently from the guest: linear scans over vectors instead of B-tree maps.
fn expected_summary(batch: &Batch) -> Summary {
    let mut customers: Vec<CustomerTotal> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    for order in &batch.orders {
        let cost = u64::from(order.quantity) * order.unit_price_cents;
        match customers.iter_mut().find(|c| c.customer == order.customer) {
            Some(total) => total.spent_cents += cost,
            None => customers.push(CustomerTotal {
                customer: order.customer.clone(),
                spent_cents: cost,
            }),
        }
        if !items.contains(&order.item) {
            items.push(order.item.clone());
        }
    }
    customers.sort_by_key(|c| (std::cmp::Reverse(c.spent_cents), c.customer.clone()));
    items.sort();
    Summary {
        region: batch.region.clone(),
        order_count: batch.orders.len() as u32,
        total_cents: customers.iter().map(|c| c.spent_cents).sum(),
        customers,
        items,
    }
}

#[test]
fn serde_demo_commits_the_aggregated_summary() {
    let sample = repo().join("examples/serde-demo/input.bin");
    let batch: Batch = postcard::from_bytes(&std::fs::read(&sample).unwrap())
        .expect("input.bin is a postcard Batch");
    let expected = expected_summary(&batch);

    let run = run_example("serde-demo", "serde-sample", &[&sample], &[]);
    assert_success(&run);
    let committed: Summary =
        postcard::from_bytes(&run.public_values).expect("public values are a postcard Summary");
    assert_eq!(committed, expected);
    assert_eq!(run.public_values, postcard::to_allocvec(&expected).unwrap());

    let top = &expected.customers[0];
    assert_eq!(
        run.stdout,
        format!(
            "{}: {} orders, {} items, total {}.{:02}\ntop customer: {} ({}.{:02})\n",
            expected.region,
            expected.order_count,
            expected.items.len(),
            expected.total_cents / 100,
            expected.total_cents % 100,
            top.customer,
            top.spent_cents / 100,
            top.spent_cents % 100
        )
    );
}

#[test]
fn serde_demo_rejects_a_malformed_batch() {
    let garbage = scratch_input("serde-garbage", &[0xff; 7]);
    let run = run_example("serde-demo", "serde-garbage", &[&garbage], &[]);
    assert_eq!(run.code, Some(1), "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains("input item is not a postcard"),
        "{}",
        run.stderr
    );
}

/// Adler-32 as RFC 1950 defines it, one modulo per byte.
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

#[test]
fn c_sum_commits_length_and_adler32() {
    let sample = repo().join("examples/c-sum/input.txt");
    // 6000 bytes of 0xff crosses the guest's 5552-byte modulo block with the largest sums.
    let large = scratch_input("csum-ff", &[0xff; 6000]);
    for (tag, input) in [("csum-sample", sample.as_path()), ("csum-ff", &large)] {
        let message = std::fs::read(input).unwrap();
        let checksum = adler32(&message);
        let run = run_example("c-sum", tag, &[input], &[]);
        assert_success(&run);
        let mut expected = (message.len() as u32).to_le_bytes().to_vec();
        expected.extend(checksum.to_le_bytes());
        assert_eq!(
            run.public_values,
            expected,
            "public values for {}",
            input.display()
        );
        assert_eq!(
            run.stdout,
            format!("adler32({} bytes) = 0x{checksum:08x}\n", message.len())
        );
    }
    assert_eq!(
        adler32(b"Wikipedia"),
        0x11e6_0398,
        "the host reference itself"
    );
}

#[test]
fn c_sum_without_input_exits_with_3() {
    let run = run_example("c-sum", "csum-none", &[], &[]);
    assert_eq!(run.code, Some(3), "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains("c-sum: no input item"),
        "{}",
        run.stderr
    );
    assert!(run.public_values.is_empty());
}

#[test]
fn prebuilt_elf_files_have_the_sdk_layout() {
    use zkmips_abi::layout::{GUEST_TEXT_START, PAGE_SIZE, PUBLIC_DIGEST_ADDR, PUBLIC_DIGEST_LEN};
    for name in [
        "fibonacci",
        "sha256",
        "keccak",
        "serde-demo",
        "sdk-check",
        "c-sum",
    ] {
        let bytes = std::fs::read(example_elf(name)).unwrap_or_else(|e| panic!("{name}.elf: {e}"));
        let program = zkmips_executor::Program::from_elf(&bytes)
            .unwrap_or_else(|e| panic!("{name}.elf: {e}"));
        assert_eq!(program.entry, GUEST_TEXT_START, "{name}: entry");
        let text = program
            .segments
            .iter()
            .find(|s| s.executable)
            .expect("a code segment");
        assert_eq!(text.vaddr, GUEST_TEXT_START, "{name}: code address");
        for segment in &program.segments {
            assert!(
                !(segment.writable && segment.executable),
                "{name}: writable code at {:#x}",
                segment.vaddr
            );
            assert_eq!(
                segment.vaddr % PAGE_SIZE,
                0,
                "{name}: segment {:#x} shares a page",
                segment.vaddr
            );
            assert!(
                segment.vaddr >= PUBLIC_DIGEST_ADDR + PUBLIC_DIGEST_LEN,
                "{name}: segment {:#x} covers the public-values digest region",
                segment.vaddr
            );
        }
    }
}

/// `zkvm/c/zkmips.h` restates the ABI numbers for C; they must equal `zkmips_abi`'s.
#[test]
fn c_header_matches_the_abi() {
    use zkmips_abi::syscall;
    let header = std::fs::read_to_string(repo().join("zkvm/c/zkmips.h")).unwrap();
    let define = |name: &str| -> u32 {
        let line = header
            .lines()
            .find(|line| {
                line.split_whitespace().nth(1) == Some(name) && line.starts_with("#define")
            })
            .unwrap_or_else(|| panic!("zkmips.h lacks {name}"));
        let value = line.split_whitespace().nth(2).unwrap();
        match value.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
            None => value.parse().unwrap(),
        }
    };
    let expected = [
        ("ZKMIPS_SYS_HALT", syscall::HALT),
        ("ZKMIPS_SYS_WRITE", syscall::WRITE),
        ("ZKMIPS_SYS_COMMIT", syscall::COMMIT),
        ("ZKMIPS_SYS_INPUT_LEN", syscall::INPUT_LEN),
        ("ZKMIPS_SYS_INPUT_READ", syscall::INPUT_READ),
        ("ZKMIPS_SYS_HINT_LEN", syscall::HINT_LEN),
        ("ZKMIPS_SYS_HINT_READ", syscall::HINT_READ),
        ("ZKMIPS_SYS_HINT_WRITE", syscall::HINT_WRITE),
        ("ZKMIPS_SYS_SHA256_EXTEND", syscall::SHA256_EXTEND),
        ("ZKMIPS_SYS_SHA256_COMPRESS", syscall::SHA256_COMPRESS),
        ("ZKMIPS_SYS_KECCAK_PERMUTE", syscall::KECCAK_PERMUTE),
        ("ZKMIPS_NO_MORE_ITEMS", zkmips_abi::NO_MORE_ITEMS),
        ("ZKMIPS_STDOUT", zkmips_abi::fd::STDOUT),
        ("ZKMIPS_STDERR", zkmips_abi::fd::STDERR),
        (
            "ZKMIPS_PUBLIC_DIGEST_ADDR",
            zkmips_abi::layout::PUBLIC_DIGEST_ADDR,
        ),
        (
            "ZKMIPS_PUBLIC_DIGEST_LEN",
            zkmips_abi::layout::PUBLIC_DIGEST_LEN,
        ),
    ];
    for (name, value) in expected {
        assert_eq!(define(name), value, "{name}");
    }
    let defined = header
        .lines()
        .filter(|line| line.starts_with("#define ZKMIPS_") && !line.contains("ZKMIPS_H"))
        .count();
    assert_eq!(
        defined,
        expected.len(),
        "zkmips.h defines a constant this test does not check"
    );
}

/// What the sdk-check guest commits: (args, isqrt(x), sum, hint-2 length, (dirty sum, growth sum, count)).
type SdkCheckOutput = (Vec<String>, u64, u64, u32, (u32, u64, u32));

/// sdk-check's inputs: x = 10^12 + 5 (8 bytes LE) and a postcard `Vec<u32>`, hints: isqrt(x) and 5 bytes.
fn sdk_check_files(tag: &str, root_hint: u64) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let x: u64 = 1_000_000_000_005;
    let values: Vec<u32> = vec![7, 70_000, u32::MAX, 0];
    let inputs = vec![
        scratch_input(&format!("{tag}-x"), &x.to_le_bytes()),
        scratch_input(
            &format!("{tag}-values"),
            &postcard::to_allocvec(&values).unwrap(),
        ),
    ];
    let hints = vec![
        scratch_input(
            &format!("{tag}-root"),
            &postcard::to_allocvec(&root_hint).unwrap(),
        ),
        scratch_input(&format!("{tag}-extra"), b"extra"),
    ];
    (inputs, hints)
}

fn sdk_check_command(inputs: &[PathBuf], hints: &[PathBuf], public_values_out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zkmips"));
    command.arg("run").arg(example_elf("sdk-check"));
    for input in inputs {
        command.arg("--input").arg(input);
    }
    for hint in hints {
        command.arg("--hint").arg(hint);
    }
    command.arg("--public-values-out").arg(public_values_out);
    command
}

#[test]
fn sdk_check_reads_inputs_hints_and_args() {
    let (inputs, hints) = sdk_check_files("sdk", 1_000_000);
    let public_values_out = scratch("sdk.public");
    let output = sdk_check_command(&inputs, &hints, &public_values_out)
        .args(["--", "first", "second arg"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(stderr.contains("sdk-check: 3 args, 4 values"), "{stderr}");

    let (args, root, sum, extra_len, (dirty_sum, grown_sum, count)): SdkCheckOutput =
        postcard::from_bytes(&std::fs::read(&public_values_out).unwrap()).unwrap();
    assert_eq!(args.len(), 3, "program name plus two arguments: {args:?}");
    assert_eq!(&args[1..], ["first", "second arg"]);
    assert_eq!(root, 1_000_000);
    assert_eq!(sum, 7 + 70_000 + u64::from(u32::MAX));
    assert_eq!(extra_len, 5);
    assert_eq!(dirty_sum, 0xaa * 4096);
    let multiples: Vec<u64> = (0..5_000u64).step_by(50).collect();
    assert_eq!(
        grown_sum,
        (0..5_000u64).sum::<u64>() + multiples.iter().map(|i| i * 3).sum::<u64>()
    );
    assert_eq!(count as usize, multiples.len());
}

#[test]
fn sdk_check_rejects_a_wrong_hint() {
    let (inputs, hints) = sdk_check_files("sdk-bad", 1_000_001);
    let output = sdk_check_command(&inputs, &hints, &scratch("sdk-bad.public"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains("hint 1000001 is not the integer square root of 1000000000005"),
        "{stderr}"
    );
}

/// The hint-output channel is not exposed by `zkmips run`, so this runs the executor library directly.
#[test]
fn sdk_check_hint_output_reaches_the_host() {
    use zkmips_executor::{Executor, ExecutorConfig, Program};
    let (inputs, hints) = sdk_check_files("sdk-lib", 1_000_000);
    let program = Program::from_elf(&std::fs::read(example_elf("sdk-check")).unwrap()).unwrap();
    let mut config = ExecutorConfig {
        args: vec!["sdk-check".into()],
        ..ExecutorConfig::default()
    };
    config.syscalls.inputs = inputs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    config.syscalls.hints = hints.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let report = Executor::new(&program, config).unwrap().run().unwrap();
    assert_eq!(
        report.exit_code,
        0,
        "stderr:\n{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let mut expected = postcard::to_allocvec(&(1_000_000_000_005u64, 1_000_000u64)).unwrap();
    expected.extend(b"done");
    assert_eq!(report.hint_output, expected);
}

/// SHA-256 of the empty string (FIPS 180-4 example): what a guest that commits nothing publishes.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A finished run through the executor library, with what the guest left in the digest region.
struct LibraryRun {
    exit_code: u32,
    stdout: String,
    stderr: String,
    public_values: Vec<u8>,
    /// The `PUBLIC_DIGEST_LEN` bytes at `PUBLIC_DIGEST_ADDR` in the final memory.
    published: [u8; 32],
    status: zkmips_executor::PublicDigestStatus,
}

/// Runs `examples/bin/<name>.elf` in the executor library (`zkmips run` does not expose final memory).
fn run_in_library(
    name: &str,
    inputs: Vec<Vec<u8>>,
    hints: Vec<Vec<u8>>,
    args: &[&str],
) -> LibraryRun {
    run_elf_in_library(&example_elf(name), name, inputs, hints, args)
}

/// Runs the ELF at `path` in the executor library with `name` as `argv[0]`.
fn run_elf_in_library(
    path: &Path,
    name: &str,
    inputs: Vec<Vec<u8>>,
    hints: Vec<Vec<u8>>,
    args: &[&str],
) -> LibraryRun {
    use zkmips_executor::{
        Executor, ExecutorConfig, Program, public_digest_status, published_public_digest,
    };
    let program = Program::from_elf(&std::fs::read(path).unwrap()).unwrap();
    let mut config = ExecutorConfig {
        args: std::iter::once(name)
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
        ..ExecutorConfig::default()
    };
    config.syscalls.inputs = inputs;
    config.syscalls.hints = hints;
    let mut executor = Executor::new(&program, config).unwrap();
    let report = executor
        .run()
        .unwrap_or_else(|err| panic!("{name}: the run stopped on an error: {err}"));
    LibraryRun {
        exit_code: report.exit_code,
        stdout: String::from_utf8_lossy(&report.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&report.stderr).into_owned(),
        published: published_public_digest(executor.memory()),
        status: public_digest_status(executor.memory(), &report.public_values),
        public_values: report.public_values,
    }
}

/// The published digest is SHA-256 of the public values (recomputed here with the host `sha2` crate), and
/// the executor's own check agrees.
fn assert_digest_published(what: &str, run: &LibraryRun) {
    assert_eq!(
        hex(&run.published),
        hex(&Sha256::digest(&run.public_values)),
        "{what}: digest region vs sha256 of {} public-value bytes; stderr:\n{}",
        run.public_values.len(),
        run.stderr
    );
    assert_eq!(
        run.status,
        zkmips_executor::PublicDigestStatus::Published,
        "{what}"
    );
}

fn sample(path: &str) -> Vec<u8> {
    std::fs::read(repo().join("examples").join(path)).unwrap()
}

#[test]
fn every_example_publishes_the_public_values_digest() {
    let (sdk_inputs, sdk_hints) = sdk_check_files("digest-sdk", 1_000_000);
    let read_all = |paths: Vec<PathBuf>| -> Vec<Vec<u8>> {
        paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
    };
    let cases = [
        ("fibonacci", vec![sample("fibonacci/input.bin")], vec![]),
        ("sha256", vec![sample("sha256/input.txt")], vec![]),
        ("keccak", vec![sample("keccak/input.txt")], vec![]),
        ("serde-demo", vec![sample("serde-demo/input.bin")], vec![]),
        ("c-sum", vec![sample("c-sum/input.txt")], vec![]),
        ("sdk-check", read_all(sdk_inputs), read_all(sdk_hints)),
    ];
    for (name, inputs, hints) in cases {
        let run = run_in_library(name, inputs, hints, &[]);
        assert_eq!(run.exit_code, 0, "{name}; stderr:\n{}", run.stderr);
        assert!(!run.public_values.is_empty(), "{name} commits something");
        assert_digest_published(name, &run);
    }
}

#[test]
fn guests_that_commit_nothing_publish_the_empty_digest() {
    assert_eq!(
        hex(&Sha256::digest(b"")),
        EMPTY_SHA256,
        "the host reference"
    );
    // A Rust panic (short input, then no input at all) and a C guest returning 3 from main.
    let cases = [
        ("fibonacci", vec![vec![1u8, 2, 3]], 1),
        ("fibonacci", vec![], 1),
        ("c-sum", vec![], 3),
    ];
    for (name, inputs, exit_code) in cases {
        let run = run_in_library(name, inputs, vec![], &[]);
        assert_eq!(run.exit_code, exit_code, "{name}; stderr:\n{}", run.stderr);
        assert!(run.public_values.is_empty(), "{name} commits nothing");
        assert_eq!(hex(&run.published), EMPTY_SHA256, "{name}");
        assert_digest_published(name, &run);
    }
}

/// sdk-check commits its public values in pieces (the long argument list, an empty slice, then a few short
/// fields). Padding its argument makes the total length end at every interesting offset of a 64-byte
/// SHA-256 block: the running hash must split pieces across blocks and put the length in an extra block
/// when fewer than 9 bytes are left. `exit-code=N` makes the guest leave through `zkmips_zkvm::halt(N)`.
#[test]
fn sdk_check_publishes_the_digest_of_pieces_across_block_boundaries() {
    let (inputs, hints) = sdk_check_files("digest-pieces", 1_000_000);
    let inputs: Vec<Vec<u8>> = inputs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let hints: Vec<Vec<u8>> = hints.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let base = run_in_library("sdk-check", inputs.clone(), hints.clone(), &["x"]);
    assert_eq!(base.exit_code, 0, "stderr:\n{}", base.stderr);
    let base_len = base.public_values.len();
    // Longer args move the end by the same number of bytes while the postcard length prefix stays 1 byte.
    for residue in [0usize, 1, 55, 56, 63] {
        let extra = (residue + 64 - base_len % 64) % 64 + 64;
        let arg = "x".repeat(1 + extra);
        let run = run_in_library("sdk-check", inputs.clone(), hints.clone(), &[&arg]);
        assert_eq!(run.exit_code, 0, "stderr:\n{}", run.stderr);
        assert_eq!(
            run.public_values.len() % 64,
            residue,
            "the padding arithmetic"
        );
        assert_digest_published(
            &format!("{} public-value bytes", run.public_values.len()),
            &run,
        );
    }
    let run = run_in_library("sdk-check", inputs, hints, &["exit-code=7"]);
    assert_eq!(run.exit_code, 7, "stderr:\n{}", run.stderr);
    assert_digest_published("explicit halt(7)", &run);
}

/// A guest whose runtime halts without publishing (here a two-instruction program: `HALT(0)`) is reported by
/// `zkmips run --stats`: a proof of it would not verify.
#[test]
fn stats_report_a_missing_digest() {
    const TEXT: u32 = 0x0040_0000;
    const HEADERS: u32 = 52 + 32;
    let code = [0x3c02_0001u32, 0x0000_000c]; // lui $v0, 1 (HALT = 0x1_0000); syscall
    let mut elf = Vec::new();
    elf.extend(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0"); // 32-bit, little-endian, version 1
    for half in [2u16, 8, 0] {
        elf.extend(half.to_le_bytes()); // ET_EXEC, EM_MIPS, (high half of e_version)
    }
    elf.truncate(20);
    elf.extend(1u32.to_le_bytes()); // e_version
    elf.extend((TEXT + HEADERS).to_le_bytes()); // e_entry
    elf.extend(52u32.to_le_bytes()); // e_phoff
    elf.extend(0u32.to_le_bytes()); // e_shoff
    elf.extend(0x7000_1000u32.to_le_bytes()); // e_flags: MIPS32r2, o32
    for half in [52u16, 32, 1, 40, 0, 0] {
        elf.extend(half.to_le_bytes()); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
    }
    let size = HEADERS + 4 * code.len() as u32;
    // PT_LOAD of the whole file at TEXT, R+X.
    for word in [1u32, 0, TEXT, TEXT, size, size, 5, 0x1000] {
        elf.extend(word.to_le_bytes());
    }
    for word in code {
        elf.extend(word.to_le_bytes());
    }
    let path = scratch("no-digest.elf");
    std::fs::write(&path, &elf).unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_zkmips"))
        .arg("run")
        .arg(&path)
        .arg("--stats")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "stats: public values digest: missing or wrong (expected {EMPTY_SHA256}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("digest: published"), "{stderr}");
}

/// The C SDK's running hash (`zkvm/c/zkmips.c`), on a test guest that commits a message in pieces: message
/// lengths end at every interesting offset of a 64-byte block, pieces straddle block boundaries, and both
/// exits (return from `main`, `zkmips_halt`) publish. The guest also prints `zkmips_public_digest()`.
#[test]
fn c_sdk_publishes_the_digest_of_pieces_across_block_boundaries() {
    require_tools!(support::GCC);
    let elf = support::build_c_guest("sdk_commit_pieces");
    let pieces: Vec<u8> = vec![1, 0, 2, 3, 61, 64, 5, 0, 70, 9];
    for len in [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 300, 1000] {
        let message: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        let expected = hex(&Sha256::digest(&message));
        for halt_explicitly in [false, true] {
            let mut inputs = vec![message.clone(), pieces.clone()];
            if halt_explicitly {
                inputs.push(Vec::new());
            }
            let what = format!("{len} bytes, explicit halt: {halt_explicitly}");
            let run = run_elf_in_library(&elf, "sdk_commit_pieces", inputs, vec![], &[]);
            assert_eq!(run.exit_code, if halt_explicitly { 5 } else { 0 }, "{what}");
            assert_eq!(run.public_values, message, "{what}");
            assert_eq!(
                run.stdout,
                format!("{expected}\n"),
                "{what}: zkmips_public_digest"
            );
            assert_digest_published(&what, &run);
        }
    }
}
