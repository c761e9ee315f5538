//! `zkmips export-verifier`: renders the Solidity Groth16 verifier of the current wrap circuit
//! from its cached (or freshly derived) dev keys. The keys come from a PUBLIC seed: this is not
//! a trusted setup, and the command says so on stderr and in the generated file.

use std::path::PathBuf;

use anyhow::Context;
use zkmips_wrapper::keys::{
    CURRENT_WRAP_CIRCUIT_NAME, DEV_KEYS_WARNING, KeyCache, KeySource, current_wrap_circuit,
    render_dev_verifier,
};
use zkmips_wrapper::solidity::GROTH16_VERIFIER_PATH;

#[derive(clap::Args, Debug)]
pub struct ExportVerifierArgs {
    /// Where to write the Solidity verifier.
    #[arg(short, long, value_name = "PATH", default_value = GROTH16_VERIFIER_PATH)]
    pub output: PathBuf,
    /// Key cache directory [default: $ZKMIPS_KEYS_DIR, else target/zkmips-keys].
    #[arg(long, value_name = "DIR")]
    pub keys_dir: Option<PathBuf>,
    /// Re-derive the keys from the dev seed and overwrite the cache (e.g. after the cache was
    /// reported corrupt or the circuit changed).
    #[arg(long)]
    pub regenerate_keys: bool,
}

pub fn export_verifier(args: &ExportVerifierArgs) -> anyhow::Result<()> {
    // The circuit's constants include the shrink program's fixed tables, cached beside the keys.
    let circuit = current_wrap_circuit(&key_cache(args))?;
    export_verifier_of(args, CURRENT_WRAP_CIRCUIT_NAME, circuit)
}

fn key_cache(args: &ExportVerifierArgs) -> KeyCache {
    match &args.keys_dir {
        Some(dir) => KeyCache::new(dir),
        None => KeyCache::from_env(),
    }
}

/// [`export_verifier`] for any circuit (tests use a small one: the real circuit's keys take
/// minutes to derive).
fn export_verifier_of<C>(args: &ExportVerifierArgs, name: &str, circuit: C) -> anyhow::Result<()>
where
    C: ark_relations::gr1cs::ConstraintSynthesizer<zkmips_wrapper::Fr> + Clone,
{
    eprintln!("WARNING: {DEV_KEYS_WARNING}");
    let cache = key_cache(args);
    let keys = if args.regenerate_keys {
        cache.regenerate(name, circuit)
    } else {
        cache.load_or_derive(name, circuit)
    }
    .with_context(|| format!("keys of circuit `{name}`"))?;
    let source = match keys.source {
        KeySource::Loaded => "loaded from",
        KeySource::Derived => "derived from the dev seed into",
    };
    eprintln!(
        "keys of circuit `{}` {source} {}",
        keys.circuit,
        cache.entry_dir(&keys.circuit).display()
    );
    let solidity = render_dev_verifier(&keys.verifying_key).context("rendering the verifier")?;
    if let Some(parent) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&args.output, solidity)
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!("wrote {}", args.output.display());
    println!("circuit         {}", keys.circuit);
    println!("circuit digest  0x{}", hex(&keys.circuit_digest));
    println!("vk hash         0x{}", hex(&keys.verifying_key_hash));
    println!("selector        0x{}", hex(&keys.verifying_key_hash[..4]));
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkmips_wrapper::keys::{STAND_IN_CIRCUIT_NAME, StandInCircuit, derive_dev_keys};

    #[test]
    fn exports_the_verifier_and_refuses_a_corrupt_cache() {
        let dir = std::env::temp_dir().join(format!("zkmips-export-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let args = ExportVerifierArgs {
            output: dir.join("out/Groth16Verifier.sol"),
            keys_dir: Some(dir.join("keys")),
            regenerate_keys: false,
        };
        let name = STAND_IN_CIRCUIT_NAME;
        let export =
            |args: &ExportVerifierArgs| export_verifier_of(args, name, StandInCircuit::default());
        export(&args).unwrap();
        let keys = derive_dev_keys(name, StandInCircuit::default()).unwrap();
        let written = std::fs::read_to_string(&args.output).unwrap();
        assert_eq!(written, render_dev_verifier(&keys.verifying_key).unwrap());
        assert!(written.starts_with("// !!! DEVELOPMENT KEYS: NOT A TRUSTED-SETUP CEREMONY !!!"));

        // A flipped byte in the cached verifying key: refused, naming the file.
        let vk_file = dir.join("keys").join(name).join("verifying_key.bin");
        let mut bytes = std::fs::read(&vk_file).unwrap();
        bytes[10] ^= 0x80;
        std::fs::write(&vk_file, bytes).unwrap();
        let err = format!("{:#}", export(&args).unwrap_err());
        assert!(err.contains("verifying_key.bin"), "{err}");
        assert!(err.contains("sha256"), "{err}");

        // Regenerating on request repairs it and writes the same verifier.
        std::fs::remove_file(&args.output).unwrap();
        export(&ExportVerifierArgs {
            regenerate_keys: true,
            ..args
        })
        .unwrap();
        let rewritten = std::fs::read_to_string(dir.join("out/Groth16Verifier.sol")).unwrap();
        assert_eq!(rewritten, written);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
