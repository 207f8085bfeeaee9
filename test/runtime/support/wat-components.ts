// Small components for runtime tests, built in-process from WAT with jco's wasm-tools (~0.1 s):
// an HTTP handler whose behaviour depends on the request method, and commands that listen on a
// TCP port of the pod network, then trap or spin. WASI packages come from jco's bundled 0.2.12 WIT.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';

const JCO_WIT = join(dirname(createRequire(import.meta.url).resolve('@bytecodealliance/jco')), '..', 'lib', 'wit', 'builtin', '0.2.12');

async function nestedWasiPackage(pkg: string): Promise<string> {
  const text = await readFile(join(JCO_WIT, pkg, 'package.wit'), 'utf8');
  const withoutWorlds = text.replace(/^(?:[ \t]*(?:\/\/.*|@\w+\([^)]*\))\n)*world [\w-]+ \{[^}]*\}/gm, '');
  return `${withoutWorlds.replace(/^package ([^;]+);/m, 'package $1 {')}\n}\n`;
}

async function build(wat: string, world: string, packages: string[]): Promise<Uint8Array> {
  const witSource = `package skiff:tests;\n${world}\n${(await Promise.all(packages.map(nestedWasiPackage))).join('\n')}`;
  const core = await parse(wat);
  return componentNew(await componentEmbed({ binary: core, witSource, world: 'test' }), []);
}

const HTTP = '"wasi:http/types@0.2.12"';

/**
 * An incoming-handler by request method: GET answers 204 with no body; POST traps; PUT spins
 * forever; DELETE returns without a response; PATCH grows its memory by 256 MiB (trapping if it
 * cannot), then answers 204.
 */
export function handlerModesComponent(): Promise<Uint8Array> {
  const wat = `(module
    (import ${HTTP} "[method]incoming-request.method" (func $method (param i32 i32)))
    (import ${HTTP} "[constructor]fields" (func $fields (result i32)))
    (import ${HTTP} "[constructor]outgoing-response" (func $response (param i32) (result i32)))
    (import ${HTTP} "[method]outgoing-response.set-status-code" (func $status (param i32 i32) (result i32)))
    (import ${HTTP} "[static]response-outparam.set" (func $set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (global.get $heap)
      (global.set $heap (i32.add (global.get $heap) (local.get 3))))
    (func (export "wasi:http/incoming-handler@0.2.12#handle") (param $request i32) (param $out i32)
      (local $m i32) (local $r i32)
      (call $method (local.get $request) (i32.const 16))
      (local.set $m (i32.load8_u (i32.const 16)))
      (if (i32.eq (local.get $m) (i32.const 2)) (then unreachable))
      (if (i32.eq (local.get $m) (i32.const 3)) (then (loop $spin (br $spin))))
      (if (i32.eq (local.get $m) (i32.const 4)) (then return))
      (if (i32.eq (local.get $m) (i32.const 8))
        (then (if (i32.eq (memory.grow (i32.const 4096)) (i32.const -1)) (then unreachable))))
      (local.set $r (call $response (call $fields)))
      (drop (call $status (local.get $r) (i32.const 204)))
      (call $set (local.get $out) (i32.const 0) (local.get $r) (i32.const 0) (i64.const 0)
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))`;
  const world = 'world test { export wasi:http/incoming-handler@0.2.12; }';
  return build(wat, world, ['wasi-http', 'wasi-io', 'wasi-clocks']);
}

/**
 * An incoming-handler that counts the requests its instance served (a global: it survives only in
 * a reused instance) and answers 200 + count % 100. By method: GET answers; POST counts, then
 * traps; PUT spins; PATCH grows its memory by one page first (trapping if it cannot); OPTIONS
 * keeps its request handle and, when it kept one before, calls a method on that stale handle first.
 */
export function handlerCounterComponent(): Promise<Uint8Array> {
  const wat = `(module
    (import ${HTTP} "[method]incoming-request.method" (func $method (param i32 i32)))
    (import ${HTTP} "[constructor]fields" (func $fields (result i32)))
    (import ${HTTP} "[constructor]outgoing-response" (func $response (param i32) (result i32)))
    (import ${HTTP} "[method]outgoing-response.set-status-code" (func $status (param i32 i32) (result i32)))
    (import ${HTTP} "[static]response-outparam.set" (func $set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (global $count (mut i32) (i32.const 0))
    (global $kept (mut i32) (i32.const -1))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (global.get $heap)
      (global.set $heap (i32.add (global.get $heap) (local.get 3))))
    (func (export "wasi:http/incoming-handler@0.2.12#handle") (param $request i32) (param $out i32)
      (local $m i32) (local $r i32)
      (call $method (local.get $request) (i32.const 16))
      (local.set $m (i32.load8_u (i32.const 16)))
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      (if (i32.eq (local.get $m) (i32.const 2)) (then unreachable))
      (if (i32.eq (local.get $m) (i32.const 3)) (then (loop $spin (br $spin))))
      (if (i32.eq (local.get $m) (i32.const 8))
        (then (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))))
      (if (i32.eq (local.get $m) (i32.const 6))
        (then
          (if (i32.ne (global.get $kept) (i32.const -1)) (then (call $method (global.get $kept) (i32.const 32))))
          (global.set $kept (local.get $request))))
      (local.set $r (call $response (call $fields)))
      (drop (call $status (local.get $r) (i32.add (i32.const 200) (i32.rem_u (global.get $count) (i32.const 100)))))
      (call $set (local.get $out) (i32.const 0) (local.get $r) (i32.const 0) (i64.const 0)
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))`;
  const world = 'world test { export wasi:http/incoming-handler@0.2.12; }';
  return build(wat, world, ['wasi-http', 'wasi-io', 'wasi-clocks']);
}

const TCP = '"wasi:sockets/tcp@0.2.12"';

/** A command that listens on 0.0.0.0:`port`, then traps or spins (returns 1 if it cannot listen). */
export function listenThenComponent(port: number, then: 'trap' | 'spin'): Promise<Uint8Array> {
  const check = '(if (i32.load8_u (i32.const 32)) (then (return (i32.const 1))))';
  const wat = `(module
    (import "wasi:sockets/instance-network@0.2.12" "instance-network" (func $network (result i32)))
    (import "wasi:sockets/tcp-create-socket@0.2.12" "create-tcp-socket" (func $create (param i32 i32)))
    (import ${TCP} "[method]tcp-socket.start-bind"
      (func $bind (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
    (import ${TCP} "[method]tcp-socket.finish-bind" (func $finish_bind (param i32 i32)))
    (import ${TCP} "[method]tcp-socket.start-listen" (func $listen (param i32 i32)))
    (import ${TCP} "[method]tcp-socket.finish-listen" (func $finish_listen (param i32 i32)))
    (memory (export "memory") 1)
    (func (export "wasi:cli/run@0.2.12#run") (result i32)
      (local $socket i32)
      (call $create (i32.const 0) (i32.const 32)) ${check}
      (local.set $socket (i32.load (i32.const 36)))
      (call $bind (local.get $socket) (call $network) (i32.const 0) (i32.const ${port})
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 32)) ${check}
      (call $finish_bind (local.get $socket) (i32.const 32)) ${check}
      (call $listen (local.get $socket) (i32.const 32)) ${check}
      (call $finish_listen (local.get $socket) (i32.const 32)) ${check}
      ${then === 'trap' ? 'unreachable' : '(loop $spin (br $spin))'}
      (i32.const 0)))`;
  const world = 'world test { import wasi:sockets/tcp-create-socket@0.2.12; import wasi:sockets/tcp@0.2.12; import wasi:sockets/instance-network@0.2.12; export wasi:cli/run@0.2.12; }\npackage wasi:cli@0.2.12 { interface run { run: func() -> result; } }';
  return build(wat, world, ['wasi-sockets', 'wasi-io', 'wasi-clocks']);
}

/**
 * A component without wasi:cli/run for `--invoke`: top-level `add(u32, u32) -> u32` and
 * `length(string) -> u32`, and `double(s64) -> s64` in an exported interface `skiff:tests/math`.
 */
export function calculatorComponent(): Promise<Uint8Array> {
  const wat = `(module
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (global.get $heap)
      (global.set $heap (i32.add (global.get $heap) (local.get 3))))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "length") (param i32 i32) (result i32) (local.get 1))
    (func (export "skiff:tests/math#double") (param i64) (result i64) (i64.mul (local.get 0) (i64.const 2))))`;
  const world = 'interface math { double: func(x: s64) -> s64; }\nworld test { export add: func(a: u32, b: u32) -> u32; export length: func(s: string) -> u32; export math; }';
  return build(wat, world, []);
}

/** A preview 1 reactor for `--invoke`: `_initialize` sets a base that `add` adds; `scale(f64)`, `wide(i64)`. */
export const PREVIEW1_REACTOR_WAT = `(module
  (memory (export "memory") 1)
  (global $base (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $base (i32.const 100)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (global.get $base) (i32.add (local.get 0) (local.get 1))))
  (func (export "scale") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 1.5)))
  (func (export "wide") (param i64) (result i64 i32) (local.get 0) (i32.const -1)))`;

const CLI_STDOUT = '"wasi:cli/stdout@0.2.12"';
const IO_STREAMS = '"wasi:io/streams@0.2.12"';

/**
 * An incoming-handler that writes one line to stdout in every request, then by method: GET
 * answers 204 (line `served`); POST traps (line `about to trap`); PUT spins forever (line `about to
 * spin`).
 */
export function handlerPrintingComponent(): Promise<Uint8Array> {
  const wat = `(module
    (import ${HTTP} "[method]incoming-request.method" (func $method (param i32 i32)))
    (import ${HTTP} "[constructor]fields" (func $fields (result i32)))
    (import ${HTTP} "[constructor]outgoing-response" (func $response (param i32) (result i32)))
    (import ${HTTP} "[method]outgoing-response.set-status-code" (func $status (param i32 i32) (result i32)))
    (import ${HTTP} "[static]response-outparam.set" (func $set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
    (import ${CLI_STDOUT} "get-stdout" (func $stdout (result i32)))
    (import ${IO_STREAMS} "[method]output-stream.blocking-write-and-flush" (func $write (param i32 i32 i32 i32)))
    (import ${IO_STREAMS} "[resource-drop]output-stream" (func $dropStream (param i32)))
    (memory (export "memory") 1)
    (data (i32.const 256) "served\\n")
    (data (i32.const 272) "about to trap\\n")
    (data (i32.const 288) "about to spin\\n")
    (global $heap (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (global.get $heap)
      (global.set $heap (i32.add (global.get $heap) (local.get 3))))
    (func $print (param $at i32) (param $len i32)
      (local $s i32)
      (local.set $s (call $stdout))
      (call $write (local.get $s) (local.get $at) (local.get $len) (i32.const 64))
      (call $dropStream (local.get $s)))
    (func (export "wasi:http/incoming-handler@0.2.12#handle") (param $request i32) (param $out i32)
      (local $m i32) (local $r i32)
      (call $method (local.get $request) (i32.const 16))
      (local.set $m (i32.load8_u (i32.const 16)))
      (if (i32.eq (local.get $m) (i32.const 2)) (then (call $print (i32.const 272) (i32.const 14)) unreachable))
      (if (i32.eq (local.get $m) (i32.const 3)) (then (call $print (i32.const 288) (i32.const 14)) (loop $spin (br $spin))))
      (call $print (i32.const 256) (i32.const 7))
      (local.set $r (call $response (call $fields)))
      (drop (call $status (local.get $r) (i32.const 204)))
      (call $set (local.get $out) (i32.const 0) (local.get $r) (i32.const 0) (i64.const 0)
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))`;
  const world = 'world test { import wasi:cli/stdout@0.2.12; export wasi:http/incoming-handler@0.2.12; }';
  return build(wat, world, ['wasi-http', 'wasi-io', 'wasi-clocks', 'wasi-cli']);
}
