// wasi-conformance (Rust std, built with Debian's rustc 1.63 for wasm32-wasi): what Rust programs
// do through std (args, env, stdio, std::fs, io::Error kinds and errno values, allocation), and the
// preview 1 calls std does not reach, called directly. Same inputs and output as the C guest:
// `ok N - what` / `not ok N - what: detail`, `# N checks, M failed`, exit 0 only if all passed.
//   argv [argv0, "alpha", "beta gamma", "", "δέλτα"]; env CONF_ONE=1 CONF_TWO="two words"
//   CONF_EMPTY= CONF_UNICODE=ünïcödé; stdin $CONF_STDIN (none in a pod); /scratch (rw), /ro (ro.txt)
mod harness;
mod raw;
mod std_fs;

use harness::{check, summary};
use std::io::{Read, Write};

fn args_env_stdio() {
    let args: Vec<String> = std::env::args().collect();
    check(args.len() == 5, "argc counts every argument, empty ones included");
    check(args.get(1).map(String::as_str) == Some("alpha"), "argv[1]");
    check(args.get(2).map(String::as_str) == Some("beta gamma"), "an argument with a space");
    check(args.get(3).map(String::as_str) == Some(""), "an empty argument");
    check(args.get(4).map(String::as_str) == Some("δέλτα"), "a UTF-8 argument");
    check(std::env::var("CONF_ONE").as_deref() == Ok("1"), "environment variable");
    check(std::env::var("CONF_TWO").as_deref() == Ok("two words"), "environment variable with a space");
    check(std::env::var("CONF_EMPTY").as_deref() == Ok(""), "empty environment variable is set");
    check(std::env::var("CONF_UNICODE").as_deref() == Ok("ünïcödé"), "UTF-8 environment variable");
    check(std::env::var_os("CONF_MISSING").is_none(), "unset variable is absent");
    let vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("CONF_")).collect();
    check(vars.len() == 4 + std::env::var_os("CONF_STDIN").map_or(0, |_| 1), "vars() lists every variable once");
    let mut input = String::new();
    // stdin holds $CONF_STDIN (a pod's stdin is empty: then so is the variable)
    let want = std::env::var("CONF_STDIN").unwrap_or_default();
    check(std::io::stdin().read_to_string(&mut input).is_ok() && input == want, "stdin read to the end");
    check(std::io::stderr().write_all(b"stderr works\n").is_ok(), "write to stderr");
    check(std::io::stdout().flush().is_ok(), "flush stdout");
}

fn allocation() {
    // Rust std allocates through wasi-libc's malloc: with the preview 1 adapter its state page was
    // claimed as heap and these writes trapped the adapter ("unreachable" before main's work)
    let big: Vec<u8> = vec![7; 8 << 20];
    check(big.iter().all(|&b| b == 7), "an 8 MiB Vec keeps its contents");
    let mut blocks: Vec<Box<[u64; 4096]>> = Vec::new();
    for i in 0..64u64 {
        blocks.push(Box::new([i; 4096]));
    }
    check(blocks.iter().enumerate().all(|(i, b)| b.iter().all(|&x| x == i as u64)), "64 boxed 32 KiB blocks keep their contents");
    let text: String = (0..10_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    check(text.len() == 10_000 && text.ends_with("nopqrstuvwxyzabcdefghijklmnop"), "a growing String");
}

fn main() {
    args_env_stdio();
    allocation();
    raw::clocks_random_poll();
    raw::prestat_and_fds();
    std_fs::files();
    std_fs::directories_and_links();
    raw::paths();
    raw::read_only();
    std::process::exit(summary());
}
