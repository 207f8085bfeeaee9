// Numbered `ok` / `not ok` lines, one per check, and the WASI errno values the checks compare.
use std::sync::atomic::{AtomicU32, Ordering};

static CHECKS: AtomicU32 = AtomicU32::new(0);
static FAILURES: AtomicU32 = AtomicU32::new(0);

pub fn report(ok: bool, what: &str, detail: &str) {
    let n = CHECKS.fetch_add(1, Ordering::SeqCst) + 1;
    if ok {
        println!("ok {} - {}", n, what);
    } else {
        FAILURES.fetch_add(1, Ordering::SeqCst);
        println!("not ok {} - {}: {}", n, what, detail);
    }
}

pub fn check(ok: bool, what: &str) {
    report(ok, what, "");
}

/// A call's errno against the one wasmtime gives (0: success).
pub fn expect_errno(got: u32, want: u32, what: &str) {
    report(got == want, what, &format!("errno {}, want {}", got, want));
}

/// Either errno (where wasmtime's own p1 and its p2-with-adapter differ).
pub fn expect_either(got: u32, want: u32, or_want: u32, what: &str) {
    report(got == want || got == or_want, what, &format!("errno {}, want {} or {}", got, want, or_want));
}

/// The errno of a std::io::Error (on WASI, raw_os_error is the WASI errno).
pub fn errno_of<T>(result: std::io::Result<T>) -> u32 {
    match result {
        Ok(_) => 0,
        Err(e) => e.raw_os_error().map(|n| n as u32).unwrap_or(u32::MAX),
    }
}

pub fn summary() -> i32 {
    let (checks, failures) = (CHECKS.load(Ordering::SeqCst), FAILURES.load(Ordering::SeqCst));
    println!("# {} checks, {} failed", checks, failures);
    if failures == 0 { 0 } else { 1 }
}

pub const EACCES: u32 = 2;
pub const EBADF: u32 = 8;
pub const EEXIST: u32 = 20;
pub const EINVAL: u32 = 28;
pub const EISDIR: u32 = 31;
pub const ELOOP: u32 = 32;
pub const ENAMETOOLONG: u32 = 37;
pub const ENOENT: u32 = 44;
pub const ENOTDIR: u32 = 54;
pub const ENOTEMPTY: u32 = 55;
pub const ENOTSOCK: u32 = 57;
pub const ENOTSUP: u32 = 58;
pub const EPERM: u32 = 63;
pub const ESPIPE: u32 = 70;
