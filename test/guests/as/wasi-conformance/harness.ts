// Numbered `ok` / `not ok` lines, one per check; the raw calls' buffers and path encoding.
import { errno } from "bindings/wasi_snapshot_preview1";

let checks = 0;
let failures = 0;

export function report(ok: bool, what: string, detail: string): void {
  checks++;
  if (!ok) failures++;
  console.log((ok ? "" : "not ") + "ok " + checks.toString() + " - " + what + (ok || detail.length == 0 ? "" : ": " + detail));
}

export function check(ok: bool, what: string): void {
  report(ok, what, "");
}

/** A call's errno against the one wasmtime gives (0: success). */
export function expectErrno(got: errno, want: errno, what: string): void {
  report(got == want, what, "errno " + got.toString() + ", want " + want.toString());
}

/** Either errno (where wasmtime's own p1 and its p2-with-adapter differ). */
export function expectEither(got: errno, want: errno, orWant: errno, what: string): void {
  report(got == want || got == orWant, what, "errno " + got.toString() + ", want " + want.toString() + " or " + orWant.toString());
}

export function summary(): i32 {
  console.log("# " + checks.toString() + " checks, " + failures.toString() + " failed");
  return failures == 0 ? 0 : 1;
}

/** Scratch memory for out-parameters (results, iovecs, structs). */
export const out = changetype<usize>(new ArrayBuffer(256));
export const data = changetype<usize>(new ArrayBuffer(1024));

/** A string as UTF-8 bytes, kept alive by the caller's reference. */
export function utf8(text: string): ArrayBuffer {
  return String.UTF8.encode(text);
}
