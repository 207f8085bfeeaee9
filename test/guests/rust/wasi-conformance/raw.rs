// Preview 1 calls std does not reach, called directly: clocks, poll, prestat, fd flags and rights,
// advise/allocate, renumber, readdir cookies, path_open flags, trailing slashes, a read-only preopen.
use crate::harness::*;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> u32;
    fn clock_res_get(id: u32, out: *mut u64) -> u32;
    fn random_get(buf: *mut u8, len: usize) -> u32;
    fn sched_yield() -> u32;
    fn proc_raise(signal: u32) -> u32;
    fn poll_oneoff(subs: *const u8, events: *mut u8, count: usize, out: *mut usize) -> u32;
    fn fd_prestat_get(fd: u32, out: *mut u32) -> u32;
    fn fd_prestat_dir_name(fd: u32, buf: *mut u8, len: usize) -> u32;
    fn fd_fdstat_get(fd: u32, out: *mut u8) -> u32;
    fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u32;
    fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> u32;
    fn fd_advise(fd: u32, offset: u64, len: u64, advice: u32) -> u32;
    fn fd_allocate(fd: u32, offset: u64, len: u64) -> u32;
    fn fd_close(fd: u32) -> u32;
    fn fd_renumber(from: u32, to: u32) -> u32;
    fn fd_seek(fd: u32, offset: i64, whence: u32, out: *mut u64) -> u32;
    fn fd_tell(fd: u32, out: *mut u64) -> u32;
    fn fd_write(fd: u32, iovs: *const [usize; 2], count: usize, out: *mut usize) -> u32;
    fn fd_pwrite(fd: u32, iovs: *const [usize; 2], count: usize, offset: u64, out: *mut usize) -> u32;
    fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32) -> u32;
    fn fd_readdir(fd: u32, buf: *mut u8, len: usize, cookie: u64, out: *mut usize) -> u32;
    fn path_open(fd: u32, dirflags: u32, path: *const u8, path_len: usize, oflags: u32, base: u64, inheriting: u64, fdflags: u32, out: *mut u32) -> u32;
    fn path_create_directory(fd: u32, path: *const u8, len: usize) -> u32;
    fn path_remove_directory(fd: u32, path: *const u8, len: usize) -> u32;
    fn path_unlink_file(fd: u32, path: *const u8, len: usize) -> u32;
    fn path_symlink(old: *const u8, old_len: usize, fd: u32, new: *const u8, new_len: usize) -> u32;
    fn path_link(old_fd: u32, flags: u32, old: *const u8, old_len: usize, new_fd: u32, new: *const u8, new_len: usize) -> u32;
    fn path_rename(fd: u32, old: *const u8, old_len: usize, new_fd: u32, new: *const u8, new_len: usize) -> u32;
    fn sock_accept(fd: u32, flags: u32, out: *mut u32) -> u32;
}

const SCRATCH: u32 = 3;
const RO: u32 = 4;
const READ: u64 = 1 << 1;
const WRITE: u64 = 1 << 6;
const CREAT: u32 = 1;
const DIRECTORY: u32 = 2;
const EXCL: u32 = 4;
const FOLLOW: u32 = 1;

fn open(dir: u32, lookup: u32, path: &str, oflags: u32, rights: u64, fdflags: u32) -> Result<u32, u32> {
    let mut fd = 0;
    match unsafe { path_open(dir, lookup, path.as_ptr(), path.len(), oflags, rights, rights, fdflags, &mut fd) } {
        0 => Ok(fd),
        e => Err(e),
    }
}

fn open_errno(lookup: u32, path: &str, oflags: u32, rights: u64) -> u32 {
    match open(SCRATCH, lookup, path, oflags, rights, 0) {
        Ok(fd) => unsafe { fd_close(fd) },
        Err(e) => e,
    }
}

fn write(fd: u32, data: &[u8]) -> Result<usize, u32> {
    let iov = [data.as_ptr() as usize, data.len()];
    let mut n = 0;
    match unsafe { fd_write(fd, &iov, 1, &mut n) } {
        0 => Ok(n),
        e => Err(e),
    }
}

pub fn clocks_random_poll() {
    let (mut a, mut b, mut res) = (0u64, 0u64, 0u64);
    check(unsafe { clock_time_get(0, 1, &mut a) } == 0 && a > 1_600_000_000 * 1_000_000_000, "realtime clock is now");
    check(unsafe { clock_time_get(1, 1, &mut a) == 0 && clock_time_get(1, 1, &mut b) == 0 } && b >= a, "monotonic clock never goes back");
    check(unsafe { clock_res_get(1, &mut res) } == 0 && res > 0, "monotonic resolution");
    expect_errno(unsafe { clock_time_get(2, 1, &mut a) }, EBADF, "process cputime clock is EBADF");
    expect_errno(unsafe { clock_time_get(9, 1, &mut a) }, EINVAL, "an unknown clock is EINVAL");
    let mut bytes = [0u8; 32];
    check(unsafe { random_get(bytes.as_mut_ptr(), bytes.len()) } == 0 && bytes.iter().any(|&x| x != 0), "random_get");
    expect_errno(unsafe { sched_yield() }, 0, "sched_yield");
    expect_errno(unsafe { proc_raise(6) }, ENOTSUP, "proc_raise is ENOTSUP");
    expect_errno(unsafe { sock_accept(1, 0, &mut 0) }, ENOTSOCK, "sock_accept on stdout is ENOTSOCK");
    // a 15 ms relative sleep: subscription {userdata u64, tag u8 @8, clock id u32 @16, timeout u64 @24, precision @32, flags u16 @40}
    let mut sub = [0u8; 48];
    sub[0..8].copy_from_slice(&7u64.to_le_bytes());
    sub[16..20].copy_from_slice(&1u32.to_le_bytes());
    sub[24..32].copy_from_slice(&15_000_000u64.to_le_bytes());
    let mut event = [0u8; 32];
    let mut n = 0usize;
    unsafe { clock_time_get(1, 1, &mut a) };
    check(unsafe { poll_oneoff(sub.as_ptr(), event.as_mut_ptr(), 1, &mut n) } == 0 && n == 1 && event[0] == 7 && event[10] == 0, "poll_oneoff clock event");
    unsafe { clock_time_get(1, 1, &mut b) };
    check(b - a >= 15_000_000, "poll_oneoff slept for its timeout");
    expect_errno(unsafe { poll_oneoff(sub.as_ptr(), event.as_mut_ptr(), 0, &mut n) }, EINVAL, "poll_oneoff without subscriptions is EINVAL");
}

pub fn prestat_and_fds() {
    let mut prestat = [0u32; 2];
    check(unsafe { fd_prestat_get(SCRATCH, prestat.as_mut_ptr()) } == 0 && prestat == [0, 8], "prestat of the first preopen");
    let mut name = [0u8; 8];
    check(unsafe { fd_prestat_dir_name(SCRATCH, name.as_mut_ptr(), 8) } == 0 && &name == b"/scratch", "preopen name");
    expect_errno(unsafe { fd_prestat_dir_name(SCRATCH, name.as_mut_ptr(), 2) }, ENAMETOOLONG, "preopen name into a short buffer");
    expect_errno(unsafe { fd_prestat_get(1, prestat.as_mut_ptr()) }, EBADF, "prestat of stdout is EBADF");
    let mut stat = [0u8; 24];
    check(unsafe { fd_fdstat_get(1, stat.as_mut_ptr()) } == 0 && stat[0] == 0, "stdout is no terminal (filetype unknown)");
    check(unsafe { fd_fdstat_get(SCRATCH, stat.as_mut_ptr()) } == 0 && stat[0] == 3, "a preopen is a directory");
    expect_errno(write(99, b"x").err().unwrap_or(0), EBADF, "write to an invalid fd is EBADF");
    let mut pos = 0u64;
    expect_errno(unsafe { fd_seek(1, 0, 1, &mut pos) }, ESPIPE, "seek on stdout is ESPIPE");
    expect_errno(unsafe { fd_seek(SCRATCH, 0, 1, &mut pos) }, EBADF, "seek on a directory is EBADF");
    expect_errno(unsafe { fd_tell(SCRATCH, &mut pos) }, EBADF, "tell on a directory is EBADF");
    let fd = open(SCRATCH, 0, "flags", CREAT, READ | WRITE, 0).expect("create a file");
    expect_errno(unsafe { fd_advise(fd, 0, 10, 1) }, 0, "advise a file");
    expect_errno(unsafe { fd_advise(SCRATCH, 0, 10, 1) }, EBADF, "advise a directory is EBADF");
    expect_errno(unsafe { fd_allocate(fd, 0, 10) }, ENOTSUP, "allocate is ENOTSUP");
    expect_errno(unsafe { fd_fdstat_set_rights(fd, 0, 0) }, ENOTSUP, "fdstat_set_rights is ENOTSUP");
    expect_errno(unsafe { fd_fdstat_set_flags(fd, 2) }, EINVAL, "setting DSYNC is EINVAL");
    expect_errno(unsafe { fd_fdstat_set_flags(fd, 1) }, 0, "set APPEND");
    check(write(fd, b"ab").is_ok() && unsafe { fd_seek(fd, 0, 0, &mut pos) } == 0 && write(fd, b"cd").is_ok(), "write twice in append mode");
    check(unsafe { fd_tell(fd, &mut pos) } == 0 && pos == 4, "append moves the cursor to the end");
    check(unsafe { fd_fdstat_get(fd, stat.as_mut_ptr()) } == 0 && stat[2] & 1 == 1, "fdstat shows APPEND");
    let iov = [b"Z".as_ptr() as usize, 1];
    let mut n = 0usize;
    check(unsafe { fd_pwrite(fd, &iov, 1, 0, &mut n) } == 0 && n == 1, "pwrite in append mode");
    check(std::fs::read("/scratch/flags").ok().as_deref() == Some(&b"abcdZ"[..]), "in append mode pwrite appends too (Linux)");
    check(unsafe { fd_filestat_set_times(fd, 0, 3_000_000_000, 4) } == 0, "set the modification time");
    check(std::fs::metadata("/scratch/flags").and_then(|m| m.modified()).map(|t| t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)).ok() == Some(3), "the modification time took");
    expect_errno(unsafe { fd_filestat_set_times(fd, 1, 1, 1 | 2) }, EINVAL, "ATIM with ATIM_NOW is EINVAL");
    let other = open(SCRATCH, 0, "flags", 0, READ, 0).expect("open again");
    expect_errno(unsafe { fd_renumber(fd, other) }, 0, "renumber onto an open fd");
    expect_errno(unsafe { fd_close(fd) }, EBADF, "the renumbered fd is closed");
    expect_errno(unsafe { fd_renumber(other, 4000) }, EBADF, "renumber onto an unused fd is EBADF");
    unsafe { fd_close(other) };
    // readdir: `.` and `..`, then one entry; from cookie 2 only the entry
    let mut buf = [0u8; 256];
    check(unsafe { fd_readdir(SCRATCH, buf.as_mut_ptr(), buf.len(), 0, &mut n) } == 0 && n == 3 * 24 + 1 + 2 + 5, "readdir of a directory with one file");
    check(unsafe { fd_readdir(SCRATCH, buf.as_mut_ptr(), buf.len(), 2, &mut n) } == 0 && n == 24 + 5 && &buf[24..29] == b"flags", "readdir from a cookie");
    check(unsafe { fd_readdir(SCRATCH, buf.as_mut_ptr(), 10, 0, &mut n) } == 0 && n == 10, "readdir into a small buffer fills it");
    std::fs::remove_file("/scratch/flags").ok();
}

pub fn paths() {
    std::fs::write("/scratch/file", b"content").ok();
    std::fs::create_dir("/scratch/sub").ok();
    expect_errno(open_errno(0, "file", CREAT | EXCL, READ | WRITE), EEXIST, "CREAT|EXCL on an existing file is EEXIST");
    expect_errno(open_errno(0, "file", DIRECTORY, 0), ENOTDIR, "DIRECTORY on a file is ENOTDIR");
    expect_errno(open_errno(0, "x", DIRECTORY | CREAT, 0), EINVAL, "DIRECTORY|CREAT is EINVAL");
    expect_errno(open_errno(0, "file/", 0, 0), ENOTDIR, "a file with a trailing slash is ENOTDIR");
    expect_errno(open_errno(0, "/file", 0, 0), EPERM, "an absolute path is EPERM");
    expect_errno(open_errno(0, "sub/../../file", 0, 0), EPERM, ".. above the directory is EPERM");
    expect_errno(open_errno(0, "file\0", 0, 0), EINVAL, "a NUL in the path is EINVAL");
    expect_errno(open_errno(0, "sub/./../file", 0, 0), 0, ". and .. inside the directory");
    expect_errno(open_errno(0, ".", DIRECTORY, READ | WRITE), EISDIR, "open a directory for writing is EISDIR");
    let sym = |target: &str, name: &str| unsafe { path_symlink(target.as_ptr(), target.len(), SCRATCH, name.as_ptr(), name.len()) };
    expect_errno(sym("file", "link"), 0, "symlink");
    expect_errno(open_errno(0, "link", 0, 0), ELOOP, "open a symlink without following is ELOOP");
    expect_errno(open_errno(FOLLOW, "link", 0, 0), 0, "open a symlink following it");
    expect_errno(sym("/", "root"), EPERM, "a symlink to an absolute path is refused");
    expect_errno(sym("x", "file/"), ENOTDIR, "symlink onto a file with a trailing slash is ENOTDIR");
    expect_errno(sym("x", "sub/"), EEXIST, "symlink onto a directory with a trailing slash is EEXIST");
    let link = |old: &str, new: &str, flags: u32| unsafe { path_link(SCRATCH, flags, old.as_ptr(), old.len(), SCRATCH, new.as_ptr(), new.len()) };
    expect_errno(link("file", "hard", FOLLOW), EINVAL, "link following symlinks is EINVAL");
    expect_errno(link("sub", "hard", 0), EPERM, "a hard link to a directory is EPERM");
    expect_errno(link("file", "new/", 0), ENOENT, "a link named with a trailing slash is ENOENT");
    let unlink = |p: &str| unsafe { path_unlink_file(SCRATCH, p.as_ptr(), p.len()) };
    let rmdir = |p: &str| unsafe { path_remove_directory(SCRATCH, p.as_ptr(), p.len()) };
    expect_errno(unlink("sub"), EISDIR, "unlink a directory is EISDIR");
    expect_errno(unlink("sub/"), EISDIR, "unlink a directory with a trailing slash is EISDIR");
    expect_errno(unlink("file/"), ENOTDIR, "unlink a file with a trailing slash is ENOTDIR");
    expect_errno(rmdir("file"), ENOTDIR, "rmdir a file is ENOTDIR");
    expect_errno(rmdir("file/"), ENOTDIR, "rmdir a file with a trailing slash is ENOTDIR");
    let mkdir = |p: &str| unsafe { path_create_directory(SCRATCH, p.as_ptr(), p.len()) };
    let rename = |a: &str, b: &str| unsafe { path_rename(SCRATCH, a.as_ptr(), a.len(), SCRATCH, b.as_ptr(), b.len()) };
    expect_errno(mkdir("d1"), 0, "mkdir");
    expect_errno(rename("d1/", "d2"), 0, "rename a directory named with a trailing slash");
    expect_errno(rename("d2", "file"), ENOTDIR, "rename a directory onto a file is ENOTDIR");
    expect_errno(rename("d2", "sub"), 0, "rename a directory onto an empty one");
    for p in ["link", "file"] {
        unlink(p);
    }
    rmdir("sub");
}

pub fn read_only() {
    check(std::fs::read_to_string("/ro/ro.txt").as_deref().ok() == Some("read only test file\n"), "read-only preopen: read");
    expect_errno(errno_of(std::fs::write("/ro/ro.txt", b"x")), EPERM, "read-only preopen: writing is EPERM");
    expect_errno(errno_of(std::fs::create_dir("/ro/d")), EPERM, "read-only preopen: mkdir is EPERM");
    expect_errno(errno_of(std::fs::remove_file("/ro/ro.txt")), EPERM, "read-only preopen: remove is EPERM");
    expect_either(errno_of(std::fs::rename("/ro/ro.txt", "/scratch/stolen")), EPERM, EACCES, "rename out of a read-only preopen is EPERM");
    let ro = open(RO, 0, "ro.txt", 0, READ, 0).expect("open read-only");
    expect_either(write(ro, b"x").err().unwrap_or(0), EBADF, EPERM, "read-only preopen: write is EBADF (EPERM through the adapter)");
    unsafe { fd_close(ro) };
}
