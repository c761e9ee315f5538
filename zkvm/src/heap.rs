//! The global allocator: a bump allocator over `[_end, HEAP_END)`.
//!
//! A zkVM run is short and single-threaded, so a bump allocator is the cheapest correct choice in cycles.
//! Two refinements keep common patterns cheap: freeing (or growing) the most recent allocation works in
//! place, which makes `Vec` growth and short-lived buffers free; and memory that was never handed out is
//! known to be zero (all guest memory starts zeroed), so `alloc_zeroed` only clears reused bytes.
//!
//! When the heap is exhausted, allocation returns null and `alloc` reports
//! `memory allocation of N bytes failed` through the panic handler (exit code 1).
use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;

/// First address past the heap. The region up to [`zkmips_abi::layout::MMAP_TOP`] is unused by zkVM guests
/// (they have no `mmap`), and the stack grows down from `STACK_TOP` above it.
pub const HEAP_END: u32 = zkmips_abi::layout::MMAP_TOP;

unsafe extern "C" {
    /// End of `.bss`, defined by `link.x`.
    static _end: u8;
}

struct BumpAllocator {
    /// Next free address; 0 until the first allocation.
    next: Cell<usize>,
    /// Highest address ever handed out: memory from here up has never been written.
    high_water: Cell<usize>,
}

// SAFETY: the zkVM runs one hart with no interrupts, so the cells are never accessed concurrently.
unsafe impl Sync for BumpAllocator {}

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator {
    next: Cell::new(0),
    high_water: Cell::new(0),
};

fn heap_start() -> usize {
    (&raw const _end) as usize
}

impl BumpAllocator {
    fn next(&self) -> usize {
        match self.next.get() {
            0 => heap_start(),
            next => next,
        }
    }

    fn bump(&self, layout: Layout) -> *mut u8 {
        let align_mask = layout.align() - 1;
        let Some(start) = self.next().checked_add(align_mask).map(|a| a & !align_mask) else {
            return core::ptr::null_mut();
        };
        match start.checked_add(layout.size()) {
            Some(end) if end <= HEAP_END as usize => {
                self.set_next(end);
                start as *mut u8
            }
            _ => core::ptr::null_mut(),
        }
    }

    fn set_next(&self, next: usize) {
        self.next.set(next);
        if next > self.high_water.get() {
            self.high_water.set(next);
        }
    }
}

unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.bump(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let fresh_from = self.high_water.get().max(heap_start());
        let ptr = self.bump(layout);
        if !ptr.is_null() {
            let reused = fresh_from.saturating_sub(ptr as usize).min(layout.size());
            // SAFETY: `ptr` is valid for `layout.size()` bytes, and `reused` is at most that.
            unsafe { ptr.write_bytes(0, reused) };
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ptr as usize + layout.size() == self.next() {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The last allocation can grow or shrink where it is.
        if ptr as usize + layout.size() == self.next() {
            if let Some(end) = (ptr as usize).checked_add(new_size)
                && end <= HEAP_END as usize
            {
                self.set_next(end);
                return ptr;
            }
            return core::ptr::null_mut();
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: the caller guarantees `layout.align()` with `new_size` forms a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new_ptr = self.bump(new_layout);
        if !new_ptr.is_null() {
            // SAFETY: both blocks are valid for `layout.size()` bytes and do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size()) };
        }
        new_ptr
    }
}

/// Bytes of heap in use (from `_end` to the bump pointer).
pub fn heap_used() -> usize {
    ALLOCATOR.next() - heap_start()
}
