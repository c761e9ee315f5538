//! The zkVM services (`zkmips_abi::syscall`). Every service writes its result to `$v0` (0 for services
//! without one) and leaves all other registers alone. Misuse is a hard `BadSyscall` error.

use super::{CHUNK, SyscallOutcome, SyscallState, bad_syscall, precompiles, reg};
use crate::context::GuestContext;
use crate::error::ExecError;
use zkmips_abi::{NO_MORE_ITEMS, fd, syscall as nr};

/// Whether `number` is in the zkVM service range (known or not: unknown ones are reported by the caller).
pub(super) fn is_zkvm_service(number: u32) -> bool {
    number & 0xffff_0000 == 0x0001_0000
}

pub(super) fn dispatch(
    ctx: &mut impl GuestContext,
    state: &mut SyscallState,
    number: u32,
) -> Result<SyscallOutcome, ExecError> {
    let a0 = ctx.reg(reg::A0);
    let a1 = ctx.reg(reg::A1);
    let a2 = ctx.reg(reg::A2);
    let result = match number {
        nr::HALT => return Ok(SyscallOutcome::Exit(a0)),
        nr::WRITE => {
            if a0 != fd::STDOUT && a0 != fd::STDERR {
                return Err(bad_syscall(
                    ctx,
                    number,
                    format!("WRITE to fd {a0}: only 1 (stdout) and 2 (stderr) exist"),
                ));
            }
            for_each_chunk(ctx, a1, a2, |bytes| state.emit(a0, bytes))?;
            a2
        }
        nr::COMMIT => {
            for_each_chunk(ctx, a0, a1, |bytes| {
                state.public_values.extend_from_slice(bytes)
            })?;
            0
        }
        nr::HINT_WRITE => {
            for_each_chunk(ctx, a0, a1, |bytes| {
                state.hint_output.extend_from_slice(bytes)
            })?;
            0
        }
        nr::INPUT_LEN => item_len(ctx, number, "input", state.inputs.get(state.next_input))?,
        nr::HINT_LEN => item_len(ctx, number, "hint", state.hints.get(state.next_hint))?,
        nr::INPUT_READ => {
            read_item(
                ctx,
                number,
                "INPUT_READ",
                "input",
                state.inputs.get(state.next_input),
                a0,
                a1,
            )?;
            state.next_input += 1;
            0
        }
        nr::HINT_READ => {
            read_item(
                ctx,
                number,
                "HINT_READ",
                "hint",
                state.hints.get(state.next_hint),
                a0,
                a1,
            )?;
            state.next_hint += 1;
            0
        }
        nr::SHA256_EXTEND => {
            check_region(
                ctx,
                number,
                "SHA256_EXTEND schedule pointer ($a0)",
                a0,
                64 * 4,
            )?;
            let mut w = [0u32; 64];
            for (i, word) in w.iter_mut().take(16).enumerate() {
                *word = ctx.read_word(a0 + 4 * i as u32)?;
            }
            precompiles::sha256_extend_schedule(&mut w);
            for (i, word) in w.iter().enumerate().skip(16) {
                ctx.write_word(a0 + 4 * i as u32, *word)?;
            }
            0
        }
        nr::SHA256_COMPRESS => {
            check_region(
                ctx,
                number,
                "SHA256_COMPRESS schedule pointer ($a0)",
                a0,
                64 * 4,
            )?;
            check_region(
                ctx,
                number,
                "SHA256_COMPRESS state pointer ($a1)",
                a1,
                8 * 4,
            )?;
            let mut w = [0u32; 64];
            for (i, word) in w.iter_mut().enumerate() {
                *word = ctx.read_word(a0 + 4 * i as u32)?;
            }
            let mut h = [0u32; 8];
            for (i, word) in h.iter_mut().enumerate() {
                *word = ctx.read_word(a1 + 4 * i as u32)?;
            }
            precompiles::sha256_compress_schedule(&w, &mut h);
            for (i, word) in h.iter().enumerate() {
                ctx.write_word(a1 + 4 * i as u32, *word)?;
            }
            0
        }
        nr::KECCAK_PERMUTE => {
            check_region(
                ctx,
                number,
                "KECCAK_PERMUTE state pointer ($a0)",
                a0,
                25 * 8,
            )?;
            let mut lanes = [0u64; 25];
            for (i, lane) in lanes.iter_mut().enumerate() {
                let low = ctx.read_word(a0 + 8 * i as u32)?;
                let high = ctx.read_word(a0 + 8 * i as u32 + 4)?;
                *lane = u64::from(low) | (u64::from(high) << 32);
            }
            precompiles::keccak_permute_lanes(&mut lanes);
            for (i, lane) in lanes.iter().enumerate() {
                ctx.write_word(a0 + 8 * i as u32, *lane as u32)?;
                ctx.write_word(a0 + 8 * i as u32 + 4, (*lane >> 32) as u32)?;
            }
            0
        }
        _ => {
            return Err(ExecError::UnknownSyscall {
                pc: ctx.pc(),
                number,
            });
        }
    };
    ctx.set_reg(reg::V0, result);
    Ok(SyscallOutcome::Continue)
}

/// Reads `len` guest bytes at `addr` piece by piece and hands each piece to `sink`.
/// A fault is an error: zkVM services have no errno.
fn for_each_chunk(
    ctx: &mut impl GuestContext,
    addr: u32,
    len: u32,
    mut sink: impl FnMut(&[u8]),
) -> Result<(), ExecError> {
    if addr.checked_add(len).is_none() {
        let number = ctx.reg(reg::V0);
        return Err(bad_syscall(
            ctx,
            number,
            format!("buffer {addr:#010x} + {len} bytes wraps around"),
        ));
    }
    let mut done = 0u32;
    while done < len {
        let piece = (len - done).min(CHUNK);
        let bytes = ctx.read_bytes(addr + done, piece)?;
        sink(&bytes);
        done += piece;
    }
    Ok(())
}

fn item_len(
    ctx: &impl GuestContext,
    number: u32,
    stream: &str,
    item: Option<&Vec<u8>>,
) -> Result<u32, ExecError> {
    match item {
        None => Ok(NO_MORE_ITEMS),
        Some(bytes) => match u32::try_from(bytes.len()) {
            Ok(len) if len != NO_MORE_ITEMS => Ok(len),
            _ => Err(bad_syscall(
                ctx,
                number,
                format!(
                    "the next {stream} item ({} bytes) does not fit guest memory",
                    bytes.len()
                ),
            )),
        },
    }
}

fn read_item(
    ctx: &mut impl GuestContext,
    number: u32,
    service: &str,
    stream: &str,
    item: Option<&Vec<u8>>,
    addr: u32,
    len: u32,
) -> Result<(), ExecError> {
    let Some(bytes) = item else {
        return Err(bad_syscall(
            ctx,
            number,
            format!("{service}: the {stream} stream is exhausted"),
        ));
    };
    if bytes.len() != len as usize {
        return Err(bad_syscall(
            ctx,
            number,
            format!(
                "{service}: length $a1 = {len} does not match the next {stream} item's length {}",
                bytes.len()
            ),
        ));
    }
    if addr.checked_add(len).is_none() {
        return Err(bad_syscall(
            ctx,
            number,
            format!("{service}: buffer {addr:#010x} + {len} bytes wraps around"),
        ));
    }
    for (i, piece) in bytes.chunks(CHUNK as usize).enumerate() {
        ctx.write_bytes(addr + i as u32 * CHUNK, piece)?;
    }
    Ok(())
}

/// Precompile operands are arrays of words: the pointer must be word-aligned and the array must not wrap
/// around the top of the address space.
fn check_region(
    ctx: &impl GuestContext,
    number: u32,
    what: &str,
    addr: u32,
    size: u32,
) -> Result<(), ExecError> {
    if !addr.is_multiple_of(4) {
        return Err(bad_syscall(
            ctx,
            number,
            format!("{what} {addr:#010x} is not 4-byte aligned"),
        ));
    }
    if addr.checked_add(size).is_none() {
        return Err(bad_syscall(
            ctx,
            number,
            format!("{what} {addr:#010x} + {size} bytes wraps around"),
        ));
    }
    Ok(())
}
