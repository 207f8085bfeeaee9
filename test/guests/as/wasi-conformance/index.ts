// wasi-conformance (AssemblyScript with @assemblyscript/wasi-shim): what AssemblyScript programs do
// (process.argv and env, stdio, Date, crypto, allocation), and the preview 1 calls for files,
// called through the shim's bindings. Same inputs and output as the C guest: `ok N - what` /
// `not ok N - what: detail`, `# N checks, M failed`, exit 0 only if all passed.
//   argv [argv0, "alpha", "beta gamma", "", "δέλτα"]; env CONF_ONE=1 CONF_TWO="two words"
//   CONF_EMPTY= CONF_UNICODE=ünïcödé; stdin $CONF_STDIN (none in a pod); /scratch (rw), /ro (ro.txt)
import { clock_time_get, clock_res_get, poll_oneoff, sched_yield, errno } from "bindings/wasi_snapshot_preview1";
import { check, expectErrno, summary, out, data } from "./harness";
import { files, directories, paths, readOnly } from "./fs";

function argsEnvStdio(): void {
  const argv = process.argv;
  check(argv.length == 5, "argc counts every argument, empty ones included");
  check(argv.length > 4 && argv[1] == "alpha" && argv[2] == "beta gamma" && argv[3] == "" && argv[4] == "δέλτα", "several arguments, empty and UTF-8 ones included");
  const env = process.env;
  check(env.has("CONF_ONE") && env.get("CONF_ONE") == "1", "environment variable");
  check(env.has("CONF_TWO") && env.get("CONF_TWO") == "two words", "environment variable with a space");
  check(env.has("CONF_EMPTY") && env.get("CONF_EMPTY") == "", "empty environment variable is set");
  check(env.has("CONF_UNICODE") && env.get("CONF_UNICODE") == "ünïcödé", "UTF-8 environment variable");
  check(!env.has("CONF_MISSING"), "unset variable is absent");
  const input = new ArrayBuffer(64);
  let total = 0;
  for (let n = process.stdin.read(input, total); n > 0; n = process.stdin.read(input, total)) total += n;
  // stdin holds $CONF_STDIN (a pod's stdin is empty: then so is the variable)
  const want = env.has("CONF_STDIN") ? env.get("CONF_STDIN") : "";
  check(String.UTF8.decode(input.slice(0, total)) == want, "stdin read to the end");
  process.stderr.write("stderr works\n");
}

function allocation(): void {
  // AssemblyScript's allocator takes [__heap_base, memory.size) when it starts: with the preview 1
  // adapter that included the adapter's state page ("assertion failed at adapter line 2858")
  const arrays = new Array<Uint8Array>(0);
  for (let i = 0; i < 64; i++) {
    const a = new Uint8Array(64 * 1024);
    a.fill(<u8>i);
    arrays.push(a);
  }
  let intact = true;
  for (let i = 0; i < arrays.length; i++) intact = intact && arrays[i][1000] == <u8>i && arrays[i][65535] == <u8>i;
  check(intact, "64 arrays of 64 KiB keep their contents");
  let text = "";
  for (let i = 0; i < 2000; i++) text += i.toString();
  check(text.length == 6890 && text.endsWith("1999"), "a growing string");
}

function clocksRandomPoll(): void {
  check(Date.now() > 1600000000000, "Date.now is now");
  const a = process.hrtime();
  const b = process.hrtime();
  check(b >= a, "process.hrtime never goes back");
  check(clock_res_get(1, out) == 0 && load<u64>(out) > 0, "monotonic resolution");
  expectErrno(clock_time_get(2, 1, out), errno.BADF, "process cputime clock is EBADF");
  const random = new Uint8Array(32);
  crypto.getRandomValues(random);
  let nonzero = false;
  for (let i = 0; i < random.length; i++) nonzero = nonzero || random[i] != 0;
  check(nonzero, "crypto.getRandomValues");
  expectErrno(sched_yield(), 0, "sched_yield");
  // a 15 ms relative sleep: subscription {userdata u64, tag u8 @8, clock id u32 @16, timeout u64 @24, flags u16 @40}
  memory.fill(data, 0, 48);
  store<u64>(data, 9);
  store<u32>(data, 1, 16);
  store<u64>(data, 15000000, 24);
  const before = process.hrtime();
  check(poll_oneoff(data, data + 64, 1, out) == 0 && load<u32>(out) == 1 && load<u64>(data + 64) == 9, "poll_oneoff clock event");
  check(process.hrtime() - before >= 15000000, "poll_oneoff slept for its timeout");
  expectErrno(poll_oneoff(data, data + 64, 0, out), errno.INVAL, "poll_oneoff without subscriptions is EINVAL");
}

argsEnvStdio();
allocation();
clocksRandomPoll();
files();
directories();
paths();
readOnly();
process.exit(summary());
