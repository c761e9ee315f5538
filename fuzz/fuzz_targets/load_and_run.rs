//! Feeds arbitrary bytes to the ELF loader; whatever loads gets an initial stack, the invariants the executor
//! relies on are checked, and the program runs for a few thousand cycles. Any panic, hang or runaway
//! allocation is a bug: bad input must come back as an `ElfError` or `ExecError`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkmips_abi::layout;
use zkmips_executor::elf::Program;
use zkmips_executor::executor::{Executor, ExecutorConfig, Mode};
use zkmips_executor::image::try_build_initial_stack;
use zkmips_executor::syscalls::SyscallConfig;

/// Enough to get through a static binary's first syscalls, small enough to keep runs fast.
const MAX_CYCLES: u64 = 20_000;

fuzz_target!(|data: &[u8]| {
    let Ok(program) = Program::from_elf(data) else {
        return;
    };

    assert!(!program.segments.is_empty());
    for pair in program.segments.windows(2) {
        assert!(
            pair[0].end() <= u64::from(pair[1].vaddr),
            "segments overlap or are unsorted"
        );
    }
    for segment in &program.segments {
        assert!(segment.data.len() as u64 <= u64::from(segment.mem_size));
        assert!(segment.vaddr >= layout::NULL_GUARD_END);
        assert!(segment.end() <= u64::from(layout::MMAP_TOP));
    }
    assert!(program.entry.is_multiple_of(4) && program.is_executable(program.entry));
    let brk = program.brk_start();
    assert!(
        brk.is_multiple_of(layout::PAGE_SIZE)
            && u64::from(brk) >= program.segments.last().unwrap().end()
    );

    let args = vec!["fuzz".to_string(), "arg".to_string()];
    let env = vec!["A=1".to_string()];
    let stack = try_build_initial_stack(&program, &args, &env).expect("small arguments fit");
    assert!(stack.sp.is_multiple_of(16));
    assert_eq!(
        u64::from(stack.base) + stack.bytes.len() as u64,
        u64::from(layout::STACK_TOP)
    );

    // The input is the whole ELF, so the mode comes from its length: both paths get exercised.
    let mode = if data.len().is_multiple_of(2) {
        Mode::Fast
    } else {
        Mode::Tracing
    };
    let config = ExecutorConfig {
        max_cycles: Some(MAX_CYCLES),
        mode,
        args,
        env,
        syscalls: SyscallConfig {
            stdin: b"fuzz stdin\n".to_vec(),
            echo_output: false,
            ..Default::default()
        },
        ..Default::default()
    };
    if let Ok(mut executor) = Executor::new(&program, config) {
        // Errors (traps, bad addresses, the cycle limit) are expected; only panics are bugs.
        let _ = executor.run();
    }
});
