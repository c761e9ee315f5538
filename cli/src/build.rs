//! `zkmips build`: compiles a Rust guest crate to a MIPS ELF.
//!
//! `mipsel-unknown-none` is a tier-3 target without a prebuilt standard library, so guests build `core` and
//! `alloc` from source (`-Zbuild-std`). That needs either rustup's nightly toolchain with the `rust-src`
//! component, or Debian's `rustc-web` packages (a stable rustc whose unstable flags `RUSTC_BOOTSTRAP=1`
//! unlocks, with the std source in `/usr/lib/rustlib/src`). Either way the linker is `rust-lld`, which ships
//! with every rustup toolchain but not with Debian's rustc.
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// The target triple every guest builds for.
pub const GUEST_TARGET: &str = "mipsel-unknown-none";

/// Rustflags of every guest build: the ISA level, the SDK's linker script (which `zkmips-zkvm` puts on the
/// search path) and 4 KiB segment alignment (lld's MIPS default of 64 KiB bloats the files).
pub const GUEST_RUSTFLAGS: [&str; 3] = [
    "-Ctarget-cpu=mips32r2",
    "-Clink-arg=-Tlink.x",
    "-Clink-arg=-zmax-page-size=4096",
];

/// Install commands printed when no toolchain is usable.
const INSTALL_NIGHTLY: &str = "rustup toolchain install nightly --component rust-src";
const INSTALL_DEBIAN: &str = "apt-get install rustc-web cargo-web rust-web-src";

const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_SYSROOT: &str = "/usr";

/// Environment variable cargo reads the guest linker from; when set, detection keeps it.
const LINKER_ENV: &str = "CARGO_TARGET_MIPSEL_UNKNOWN_NONE_LINKER";

/// What `zkmips build` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// Directory of the guest crate (holds its `Cargo.toml`).
    pub guest_dir: PathBuf,
    /// `--release` (default) or `--debug`.
    pub release: bool,
    /// Copy the ELF here (`-o`); otherwise it stays in the guest's target directory.
    pub output: Option<PathBuf>,
}

/// How cargo is run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `rustup run nightly cargo`, with the `rust-src` component installed.
    RustupNightly,
    /// Debian's `/usr/bin/cargo` + `/usr/bin/rustc` with `RUSTC_BOOTSTRAP=1`.
    DebianBootstrap { cargo: PathBuf, rustc: PathBuf },
}

/// A usable guest toolchain: how to run cargo and which linker to give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    pub route: Route,
    pub linker: PathBuf,
}

/// Facts about this machine that decide the toolchain. Gathered by [`ToolchainProbe::detect`], kept apart
/// from [`choose_toolchain`] so the decision can be tested without the tools.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolchainProbe {
    /// `rustup run nightly rustc --print sysroot`, when rustup and a nightly toolchain exist.
    pub nightly_sysroot: Option<PathBuf>,
    /// Whether that sysroot holds the standard-library source (`rust-src`).
    pub nightly_has_std_source: bool,
    /// `/usr/bin/cargo` and `/usr/bin/rustc`, when both exist.
    pub debian_cargo: Option<PathBuf>,
    pub debian_rustc: Option<PathBuf>,
    /// Whether `/usr/lib/rustlib/src` holds the standard-library source (`rust-web-src`).
    pub debian_has_std_source: bool,
    /// A linker named by the user through `CARGO_TARGET_MIPSEL_UNKNOWN_NONE_LINKER`.
    pub linker_override: Option<PathBuf>,
    /// Existing `rust-lld` / `ld.lld` executables, best first.
    pub lld_candidates: Vec<PathBuf>,
    /// Where the candidates were looked for, for the error message.
    pub lld_search: Vec<PathBuf>,
}

impl ToolchainProbe {
    /// Looks at this machine: runs `rustup` and `rustc --print sysroot`, checks the Debian paths, and
    /// searches the rustup sysroots and `PATH` for `rust-lld`.
    pub fn detect() -> Self {
        let mut probe = ToolchainProbe {
            nightly_sysroot: sysroot_of(Command::new("rustup").args(["run", "nightly", "rustc"])),
            ..Self::default()
        };
        probe.nightly_has_std_source = probe.nightly_sysroot.as_deref().is_some_and(has_std_source);

        let (cargo, rustc) = (Path::new(DEBIAN_CARGO), Path::new(DEBIAN_RUSTC));
        if cargo.is_file() && rustc.is_file() {
            probe.debian_cargo = Some(cargo.to_path_buf());
            probe.debian_rustc = Some(rustc.to_path_buf());
        }
        probe.debian_has_std_source = has_std_source(Path::new(DEBIAN_SYSROOT));
        probe.linker_override = std::env::var_os(LINKER_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);

        // Any rust-lld links MIPS; prefer the nightly one, then the default and stable toolchains.
        let mut sysroots: Vec<PathBuf> = probe.nightly_sysroot.iter().cloned().collect();
        sysroots.extend(sysroot_of(&mut Command::new("rustc")));
        sysroots.extend(sysroot_of(
            Command::new("rustup").args(["run", "stable", "rustc"]),
        ));
        for sysroot in sysroots {
            let rustlib = sysroot.join("lib").join("rustlib");
            let Ok(hosts) = std::fs::read_dir(&rustlib) else {
                continue;
            };
            for host in hosts.flatten() {
                let lld = host.path().join("bin").join("rust-lld");
                probe.lld_search.push(lld.clone());
                // `is_file` follows symlinks, so a dangling `rust-lld` link is skipped.
                if lld.is_file() && !probe.lld_candidates.contains(&lld) {
                    probe.lld_candidates.push(lld);
                }
            }
        }
        for name in ["rust-lld", "ld.lld"] {
            match find_in_path(name) {
                Some(path) => probe.lld_candidates.push(path),
                None => probe
                    .lld_search
                    .push(PathBuf::from(format!("{name} on PATH"))),
            }
        }
        probe
    }
}

/// Picks the toolchain: rustup nightly with `rust-src` first, then Debian's `rustc-web`; the linker is the
/// user's override or the first `rust-lld` found. The error names what is missing and how to install it.
pub fn choose_toolchain(probe: &ToolchainProbe) -> anyhow::Result<Toolchain> {
    let route = if probe.nightly_sysroot.is_some() && probe.nightly_has_std_source {
        Route::RustupNightly
    } else if let (Some(cargo), Some(rustc), true) = (
        &probe.debian_cargo,
        &probe.debian_rustc,
        probe.debian_has_std_source,
    ) {
        Route::DebianBootstrap {
            cargo: cargo.clone(),
            rustc: rustc.clone(),
        }
    } else {
        let nightly = match &probe.nightly_sysroot {
            None => "no rustup nightly toolchain".to_string(),
            Some(sysroot) => format!(
                "rustup nightly ({}) lacks the rust-src component",
                sysroot.display()
            ),
        };
        let mut debian_missing = Vec::new();
        if probe.debian_cargo.is_none() {
            debian_missing.push(format!("{DEBIAN_CARGO} (cargo-web)"));
        }
        if probe.debian_rustc.is_none() {
            debian_missing.push(format!("{DEBIAN_RUSTC} (rustc-web)"));
        }
        if !probe.debian_has_std_source {
            debian_missing.push(format!(
                "{}/lib/rustlib/src/rust/library (rust-web-src)",
                DEBIAN_SYSROOT
            ));
        }
        bail!(
            "no Rust toolchain that can build {GUEST_TARGET} guests (they need the standard-library source \
             for -Zbuild-std):\n  - {nightly}\n  - Debian rustc-web: missing {}\ninstall one of them:\n  \
             {INSTALL_NIGHTLY}\n  {INSTALL_DEBIAN}",
            debian_missing.join(", ")
        );
    };

    let linker = match (&probe.linker_override, probe.lld_candidates.first()) {
        (Some(linker), _) => linker.clone(),
        (None, Some(lld)) => lld.clone(),
        (None, None) => {
            let searched: Vec<String> = probe
                .lld_search
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            bail!(
                "no rust-lld linker for {GUEST_TARGET} guests (looked at: {}).\ninstall a rustup toolchain, \
                 which ships rust-lld (`rustup toolchain install stable`), or set {LINKER_ENV} to an ld.lld",
                searched.join(", ")
            )
        }
    };
    Ok(Toolchain { route, linker })
}

/// A cargo command line, as data so tests can inspect it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CargoInvocation {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub envs: Vec<(String, OsString)>,
    pub env_removes: Vec<String>,
    pub dir: PathBuf,
}

impl CargoInvocation {
    /// The cargo build of `opts.guest_dir` with `toolchain`.
    pub fn new(toolchain: &Toolchain, opts: &BuildOptions) -> Self {
        let mut args: Vec<OsString> = Vec::new();
        let mut envs: Vec<(String, OsString)> = Vec::new();
        // The rustflags are complete here: CARGO_ENCODED_RUSTFLAGS replaces every other rustflags source,
        // including the host workspace's `-C target-cpu=native` when the guest lives inside it.
        let mut env_removes = vec!["RUSTFLAGS".to_string(), "RUSTUP_TOOLCHAIN".to_string()];
        let program = match &toolchain.route {
            Route::RustupNightly => {
                args.extend(["run", "nightly", "cargo"].map(OsString::from));
                env_removes.push("RUSTC".to_string());
                PathBuf::from("rustup")
            }
            Route::DebianBootstrap { cargo, rustc } => {
                envs.push(("RUSTC".to_string(), rustc.clone().into_os_string()));
                // Unlocks -Z flags and #![feature] on Debian's stable compiler.
                envs.push(("RUSTC_BOOTSTRAP".to_string(), "1".into()));
                cargo.clone()
            }
        };
        args.extend(
            [
                "build",
                "--target",
                GUEST_TARGET,
                "-Zbuild-std=core,alloc",
                "-Zbuild-std-features=compiler-builtins-mem",
                "--message-format=json-render-diagnostics",
            ]
            .map(OsString::from),
        );
        if opts.release {
            args.push("--release".into());
        }
        envs.push((
            LINKER_ENV.to_string(),
            toolchain.linker.clone().into_os_string(),
        ));
        envs.push((
            "CARGO_ENCODED_RUSTFLAGS".to_string(),
            GUEST_RUSTFLAGS.join("\x1f").into(),
        ));
        CargoInvocation {
            program,
            args,
            envs,
            env_removes,
            dir: opts.guest_dir.clone(),
        }
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(&self.dir);
        for name in &self.env_removes {
            command.env_remove(name);
        }
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// Executables among cargo's `--message-format=json` lines (`compiler-artifact` messages of bin targets).
pub fn parse_executables(cargo_stdout: &str) -> Vec<PathBuf> {
    cargo_stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| {
            message["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
        })
        .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
        .collect()
}

/// Builds the guest and returns the path of its ELF (`opts.output` when given).
pub fn build_guest(opts: &BuildOptions) -> anyhow::Result<PathBuf> {
    let manifest = opts.guest_dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "{} has no Cargo.toml: GUEST_DIR must be the directory of a guest crate",
            opts.guest_dir.display()
        );
    }
    let toolchain = choose_toolchain(&ToolchainProbe::detect())?;
    let invocation = CargoInvocation::new(&toolchain, opts);
    let output = invocation
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", invocation.program.display()))?;
    if !output.status.success() {
        bail!(
            "building the guest in {} failed ({}); the compiler output is above. A guest must depend on \
             zkmips-zkvm, which provides link.x",
            opts.guest_dir.display(),
            output.status
        );
    }
    let executables = parse_executables(&String::from_utf8_lossy(&output.stdout));
    let elf = match executables.as_slice() {
        [elf] => elf.clone(),
        [] => bail!(
            "building {} produced no binary: is it a bin crate?",
            opts.guest_dir.display()
        ),
        several => bail!(
            "{} builds several binaries ({}); run zkmips build in the directory of one package",
            opts.guest_dir.display(),
            several
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    match &opts.output {
        None => Ok(elf),
        Some(out) => {
            if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::copy(&elf, out)
                .with_context(|| format!("cannot copy {} to {}", elf.display(), out.display()))?;
            Ok(out.clone())
        }
    }
}

/// The sysroot printed by `command --print sysroot`, if the command runs.
fn sysroot_of(command: &mut Command) -> Option<PathBuf> {
    let output = command
        .arg("--print")
        .arg("sysroot")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let sysroot = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !sysroot.trim().is_empty()).then(|| PathBuf::from(sysroot.trim()))
}

fn has_std_source(sysroot: &Path) -> bool {
    sysroot
        .join("lib/rustlib/src/rust/library/Cargo.lock")
        .is_file()
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nightly_probe() -> ToolchainProbe {
        ToolchainProbe {
            nightly_sysroot: Some("/rustup/nightly".into()),
            nightly_has_std_source: true,
            debian_cargo: Some(DEBIAN_CARGO.into()),
            debian_rustc: Some(DEBIAN_RUSTC.into()),
            debian_has_std_source: true,
            linker_override: None,
            lld_candidates: vec![
                "/rustup/nightly/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld".into(),
            ],
            lld_search: vec![],
        }
    }

    fn debian_route() -> Route {
        Route::DebianBootstrap {
            cargo: DEBIAN_CARGO.into(),
            rustc: DEBIAN_RUSTC.into(),
        }
    }

    #[test]
    fn nightly_with_rust_src_is_preferred() {
        let toolchain = choose_toolchain(&nightly_probe()).unwrap();
        assert_eq!(toolchain.route, Route::RustupNightly);
        assert_eq!(toolchain.linker, nightly_probe().lld_candidates[0]);
    }

    #[test]
    fn debian_route_when_nightly_lacks_rust_src() {
        let probe = ToolchainProbe {
            nightly_has_std_source: false,
            ..nightly_probe()
        };
        assert_eq!(choose_toolchain(&probe).unwrap().route, debian_route());
        let probe = ToolchainProbe {
            nightly_sysroot: None,
            nightly_has_std_source: false,
            ..nightly_probe()
        };
        assert_eq!(choose_toolchain(&probe).unwrap().route, debian_route());
    }

    #[test]
    fn missing_toolchain_error_names_what_is_missing_and_how_to_install() {
        let probe = ToolchainProbe {
            nightly_has_std_source: false,
            debian_cargo: None,
            debian_has_std_source: false,
            ..nightly_probe()
        };
        let message = choose_toolchain(&probe).unwrap_err().to_string();
        assert!(
            message.contains("lacks the rust-src component"),
            "{message}"
        );
        assert!(message.contains("/usr/bin/cargo (cargo-web)"), "{message}");
        assert!(message.contains("rust-web-src"), "{message}");
        assert!(
            !message.contains("rustc-web)"),
            "rustc is present, so it must not be listed: {message}"
        );
        assert!(
            message.contains(INSTALL_NIGHTLY) && message.contains(INSTALL_DEBIAN),
            "{message}"
        );
    }

    #[test]
    fn linker_override_wins_and_missing_linker_is_an_error() {
        let probe = ToolchainProbe {
            linker_override: Some("/opt/ld.lld".into()),
            ..nightly_probe()
        };
        assert_eq!(
            choose_toolchain(&probe).unwrap().linker,
            PathBuf::from("/opt/ld.lld")
        );

        let probe = ToolchainProbe {
            lld_candidates: vec![],
            lld_search: vec!["/somewhere/bin/rust-lld".into()],
            ..nightly_probe()
        };
        let message = choose_toolchain(&probe).unwrap_err().to_string();
        assert!(
            message.contains("no rust-lld") && message.contains("/somewhere/bin/rust-lld"),
            "{message}"
        );
        assert!(message.contains(LINKER_ENV), "{message}");
    }

    fn env<'a>(invocation: &'a CargoInvocation, name: &str) -> Option<&'a OsString> {
        invocation
            .envs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    #[test]
    fn debian_invocation_uses_bootstrap_and_the_debian_rustc() {
        let toolchain = Toolchain {
            route: debian_route(),
            linker: "/lld".into(),
        };
        let opts = BuildOptions {
            guest_dir: "guest".into(),
            release: true,
            output: None,
        };
        let invocation = CargoInvocation::new(&toolchain, &opts);
        assert_eq!(invocation.program, PathBuf::from(DEBIAN_CARGO));
        assert_eq!(invocation.args[0], "build");
        assert!(
            invocation
                .args
                .iter()
                .any(|a| a == "-Zbuild-std=core,alloc")
        );
        assert!(
            invocation
                .args
                .iter()
                .any(|a| a == "-Zbuild-std-features=compiler-builtins-mem")
        );
        assert!(
            invocation
                .args
                .windows(2)
                .any(|w| w[0] == "--target" && w[1] == GUEST_TARGET)
        );
        assert!(invocation.args.iter().any(|a| a == "--release"));
        assert_eq!(env(&invocation, "RUSTC_BOOTSTRAP").unwrap(), "1");
        assert_eq!(env(&invocation, "RUSTC").unwrap(), DEBIAN_RUSTC);
        assert_eq!(env(&invocation, LINKER_ENV).unwrap(), "/lld");
        assert_eq!(invocation.dir, PathBuf::from("guest"));
    }

    #[test]
    fn nightly_invocation_goes_through_rustup_and_clears_rustc() {
        let toolchain = Toolchain {
            route: Route::RustupNightly,
            linker: "/lld".into(),
        };
        let opts = BuildOptions {
            guest_dir: "guest".into(),
            release: false,
            output: None,
        };
        let invocation = CargoInvocation::new(&toolchain, &opts);
        assert_eq!(invocation.program, PathBuf::from("rustup"));
        assert_eq!(
            &invocation.args[..4],
            ["run", "nightly", "cargo", "build"].map(OsString::from)
        );
        assert!(!invocation.args.iter().any(|a| a == "--release"));
        assert!(env(&invocation, "RUSTC_BOOTSTRAP").is_none());
        assert!(invocation.env_removes.iter().any(|name| name == "RUSTC"));
        let rustflags = env(&invocation, "CARGO_ENCODED_RUSTFLAGS")
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(rustflags.split('\x1f').collect::<Vec<_>>(), GUEST_RUSTFLAGS);
    }

    #[test]
    fn executables_are_read_from_bin_artifacts_only() {
        let stdout = concat!(
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"zkmips_zkvm"},"executable":null}"#,
            "\n",
            r#"{"reason":"build-script-executed","package_id":"x"}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"fibonacci"},"#,
            r#""executable":"/g/target/mipsel-unknown-none/release/fibonacci"}"#,
            "\n",
            "not json\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            parse_executables(stdout),
            [PathBuf::from(
                "/g/target/mipsel-unknown-none/release/fibonacci"
            )]
        );
    }

    #[test]
    fn missing_manifest_is_reported() {
        let opts = BuildOptions {
            guest_dir: "/nonexistent/guest".into(),
            release: true,
            output: None,
        };
        let message = build_guest(&opts).unwrap_err().to_string();
        assert!(
            message.contains("/nonexistent/guest has no Cargo.toml"),
            "{message}"
        );
    }

    /// Builds the real fibonacci example. Skips (with a note) when this machine has no guest toolchain,
    /// except in CI, which installs the Debian packages and must run it.
    #[test]
    fn builds_the_fibonacci_example() {
        if let Err(err) = choose_toolchain(&ToolchainProbe::detect()) {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have a guest toolchain: {err:#}"
            );
            eprintln!("skipping builds_the_fibonacci_example: {err:#}");
            return;
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let out = std::env::temp_dir()
            .join(format!("zkmips-build-test-{}", std::process::id()))
            .join("fib.elf");
        let opts = BuildOptions {
            guest_dir: repo.join("examples/fibonacci"),
            release: true,
            output: Some(out.clone()),
        };
        let built = build_guest(&opts).unwrap();
        assert_eq!(built, out);

        let program =
            zkmips_executor::elf::Program::from_elf(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(program.entry, zkmips_abi::layout::GUEST_TEXT_START);
        assert!(
            program.segments.iter().any(|s| s.executable),
            "no code segment"
        );
        assert!(
            program
                .segments
                .iter()
                .all(|s| !(s.writable && s.executable)),
            "writable code segment"
        );
        let _ = std::fs::remove_dir_all(out.parent().unwrap());
    }
}
