import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { guardPacketSize, MalformedPacketError, PacketSizeScanner, PacketTooLargeError } from '../../control-plane/broker/packet-size-guard.js';

/** A PUBLISH-like packet with `bodyBytes` of remaining length. */
function packet(bodyBytes: number): Buffer {
  const length: number[] = [];
  let rest = bodyBytes;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    length.push(byte);
  } while (rest > 0);
  return Buffer.concat([Buffer.from([0x30, ...length]), Buffer.alloc(bodyBytes, 1)]);
}

describe('packet size scanner', () => {
  it('follows packets split and joined arbitrarily across chunks', () => {
    const scanner = new PacketSizeScanner(1000);
    const stream = Buffer.concat([packet(0), packet(5), packet(200), packet(995)]);
    for (let i = 0; i < stream.length; i += 7) scanner.feed(stream.subarray(i, i + 7));
    expect(() => scanner.feed(packet(10))).not.toThrow();
  });

  it('rejects a packet above the cap from its header alone', () => {
    const scanner = new PacketSizeScanner(1000);
    const header = packet(998).subarray(0, 3); // 1 + 2 length bytes + 998 = 1001
    expect(() => scanner.feed(header)).toThrow(PacketTooLargeError);
  });

  it('rejects a remaining length longer than four bytes', () => {
    const scanner = new PacketSizeScanner(1000);
    expect(() => scanner.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]))).toThrow(MalformedPacketError);
  });
});

describe('guarded broker connection', () => {
  it('sends what is written in one turn in one socket write, in order, and everything before the end', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = connect(port, '127.0.0.1');
    const [socket] = await accepted;
    try {
      const writes = vi.spyOn(socket, 'write');
      const guarded = guardPacketSize(socket, 1 << 20, () => undefined);
      const received: Buffer[] = [];
      client.on('data', (c: Buffer) => received.push(c));
      const ended = once(client, 'end');
      const packets = Array.from({ length: 100 }, (_, i) => packet(i));
      for (const p of packets) guarded.write(p);
      await new Promise((resolve) => setImmediate(resolve));
      expect(writes).toHaveBeenCalledTimes(1);
      guarded.write(packet(7));
      guarded.end(); // the queued packet goes out before the FIN
      await ended;
      expect(Buffer.concat(received).equals(Buffer.concat([...packets, packet(7)]))).toBe(true);
      expect(writes).toHaveBeenCalledTimes(2);
    } finally {
      client.destroy();
      socket.destroy();
      server.close();
    }
  });
});
