//! Panics print `guest panicked at FILE:LINE:COL:` and the message to stderr, then halt with exit code 1.
use core::fmt::Write;
use core::panic::PanicInfo;

use crate::io::FdWriter;

/// Exit code of a guest that panicked.
pub const PANIC_EXIT_CODE: u32 = 1;

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    // No allocation here: the panic may be an out-of-memory report.
    let mut stderr = FdWriter::new(zkmips_abi::fd::STDERR);
    let _ = match info.location() {
        Some(location) => write!(
            stderr,
            "guest panicked at {location}:\n{}\n",
            info.message()
        ),
        None => write!(stderr, "guest panicked:\n{}\n", info.message()),
    };
    stderr.flush();
    crate::halt(PANIC_EXIT_CODE)
}
