//! Command-line arguments passed by the host (`zkmips run guest.elf -- ARGS...`).
//!
//! Arguments are not part of the proven statement unless the guest commits them; use the input stream
//! ([`crate::io`]) for proven inputs.
use core::ffi::{CStr, c_char};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

static ARGC: AtomicUsize = AtomicUsize::new(0);
static ARGV: AtomicPtr<*const c_char> = AtomicPtr::new(core::ptr::null_mut());

/// Records argc/argv from the initial stack block.
///
/// # Safety
/// `initial_sp` must point at the executor's initial argc/argv block (or be null).
pub(crate) unsafe fn init(initial_sp: *const u32) {
    if initial_sp.is_null() {
        return;
    }
    // SAFETY: per the caller, the block holds argc and then argc argv pointers.
    unsafe {
        ARGC.store(*initial_sp as usize, Ordering::Relaxed);
        ARGV.store(initial_sp.add(1) as *mut *const c_char, Ordering::Relaxed);
    }
}

/// Number of arguments, including the program name.
pub fn argc() -> usize {
    ARGC.load(Ordering::Relaxed)
}

/// The arguments, including the program name, as the host passed them.
pub fn args() -> impl Iterator<Item = &'static CStr> {
    let argv = ARGV.load(Ordering::Relaxed);
    (0..argc()).map(move |i| {
        // SAFETY: `init` stored a valid argv with `argc` NUL-terminated entries that live for the whole run.
        unsafe { CStr::from_ptr(*argv.add(i)) }
    })
}
