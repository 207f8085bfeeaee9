// Makes a component large for tests (pull progress, streaming): a custom section, which any Wasm
// module or component may end with and which runtimes skip.

/** A Wasm custom section named "padding" carrying `bytes` zero bytes. */
export function customSection(bytes: number): Buffer {
  const name = Buffer.from('padding');
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.alloc(bytes)]);
  const size: number[] = [];
  let n = payload.length;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    size.push(byte);
  } while (n);
  return Buffer.concat([Buffer.from([0, ...size]), payload]);
}
