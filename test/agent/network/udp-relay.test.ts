// UDP by relay on the agent's side (decision 054 "By relay"): the mesh sends datagrams to another
// node's pods by relay when its mode says so, or (auto) when the peer's tunnel link cannot be
// opened, and goes back to direct after UNREACHABLE_MS; the `udp` call hands each relayed frame to
// NodeUdp.fromPeer with the calling node the control plane named, and drops hostile input (seeded fuzz).
import { PassThrough, type Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DesiredPeer } from '../../../api/mqtt/messages.js';
import { encodeFrame, FrameReader, type DatagramFrame } from '../../../api/net/udp-frames.js';
import type { RpcReply } from '../../../agent/agent-channel.js';
import type { NodeCertificate } from '../../../agent/credentials/node-certificate.js';
import { NodeMesh, UNREACHABLE_MS, type Relay } from '../../../agent/network/mesh.js';
import type { NodeNetwork } from '../../../agent/network/node-network.js';
import { relayUdpCounts, serveRelayUdp } from '../../../agent/network/relay-udp-server.js';
import { PodNetworkError } from '../../../runtime/pod-runtime.js';
import { hostileJson, seededRandom } from '../../support/seeded-random.js';

const peer: DesiredPeer = { node: 'node-2', podCIDR: '10.42.2.0/24', address: '127.0.0.1', port: 1 } as DesiredPeer;

function fakeReply() {
  const out: unknown[] = [];
  let input: ((data: unknown) => void) | undefined;
  const reply: RpcReply = {
    data: (chunk) => out.push(chunk), done: (d) => out.push({ done: d }), error: (code, message) => out.push({ error: code, message }),
    signal: new AbortController().signal, onInput: (listener) => { input = listener; },
  };
  return { reply, out, input: (data: unknown) => input!(data) };
}

async function meshWith(relayLinks: PassThrough[], now: () => number) {
  const relay: Relay = {
    request: () => Promise.reject(new Error('unused')),
    openDatagramLink: async () => {
      const link = new PassThrough();
      relayLinks.push(link);
      return link as Duplex;
    },
  };
  // no node certificate yet: the tunnel's link cannot be opened
  const certificate = { onChange: () => () => undefined, current: undefined, load: async () => undefined, maintain: async () => undefined } as unknown as NodeCertificate;
  const mesh = new NodeMesh({ certificate, host: '127.0.0.1', port: 0, relay: () => relay, now });
  const network = { udp: { remote: undefined } } as unknown as NodeNetwork;
  await mesh.start(network);
  const send = (text: string) => network.udp.remote!(peer, { host: '10.42.1.2', port: 4000 }, '10.42.2.5', 53, Buffer.from(text));
  return { mesh, send };
}

const framesOn = (link: PassThrough): string[] => {
  const chunks: Buffer[] = [];
  let chunk: Buffer | null;
  while ((chunk = link.read() as Buffer | null)) chunks.push(chunk);
  return new FrameReader().push(Buffer.concat(chunks)).map((f) => Buffer.from(f.data).toString());
};

describe('UDP by relay, the agent\'s side', () => {
  it('sends by relay in relay mode, and falls back to it in auto mode when the tunnel cannot be reached', async () => {
    let clock = 1_000;
    const links: PassThrough[] = [];
    const { mesh, send } = await meshWith(links, () => clock);
    // direct only: the guest learns the peer cannot be reached
    mesh.setMode('direct');
    await expect(Promise.resolve().then(() => send('direct'))).rejects.toBeInstanceOf(PodNetworkError);
    expect(links).toHaveLength(0);
    mesh.setMode('relay');
    await send('relay 1');
    await send('relay 2');
    expect(links).toHaveLength(1); // one link per peer node
    expect(framesOn(links[0]!)).toEqual(['relay 1', 'relay 2']);
    mesh.setMode('auto');
    await send('auto 1'); // the tunnel fails: by relay, and the peer is marked unreachable
    expect(framesOn(links[0]!)).toEqual(['auto 1']);
    const directDropped = mesh.udp.counts.dropped;
    await send('auto 2'); // straight by relay, not trying the tunnel again
    expect(mesh.udp.counts.dropped).toBe(directDropped);
    clock += UNREACHABLE_MS + 1; // then the tunnel is tried again (and is retried after its own RETRY_MS)
    await send('auto 3');
    expect(framesOn(links[0]!)).toEqual(['auto 2', 'auto 3']);
    expect(mesh.udpRelay!.counts.sent).toBe(5);
    await mesh.close();
  });

  it('hands each relayed frame to NodeUdp.fromPeer as coming from the calling node, and drops hostile input (seeded fuzz)', () => {
    const taken: Array<[string, DatagramFrame]> = [];
    const { reply, out, input } = fakeReply();
    serveRelayUdp({ fromPeer: (node, frame) => { taken.push([node, frame]); return true; } }, { from: 'node-1' }, reply);
    expect(out).toEqual([{ open: true }]);
    const frames = Buffer.concat([
      encodeFrame({ host: '10.42.1.2', port: 4000 }, { host: '10.42.2.5', port: 53 }, Buffer.from('one')),
      encodeFrame({ host: '10.42.1.3', port: 4001 }, { host: '10.42.2.6', port: 54 }, Buffer.from('two')),
    ]);
    input({ frames: frames.toString('base64') });
    expect(taken.map(([node, f]) => [node, f.from.host, f.to.port, Buffer.from(f.data).toString()])).toEqual([['node-1', '10.42.1.2', 53, 'one'], ['node-1', '10.42.1.3', 54, 'two']]);
    const malformed = relayUdpCounts.malformed;
    input({ frames: frames.subarray(0, 25).toString('base64') }); // a cut frame
    input({ frames: 'not base64!' });
    expect(relayUdpCounts.malformed).toBe(malformed + 2);
    const next = seededRandom(5406);
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)));
      expect(() => input(next() < 0.5 ? hostileJson(next) : { frames: bytes.toString('base64') })).not.toThrow();
    }
    for (const [node] of taken) expect(node).toBe('node-1');
    // a call without a calling node is refused
    const bad = fakeReply();
    serveRelayUdp({ fromPeer: () => true }, { from: 42 }, bad.reply);
    expect(bad.out).toEqual([expect.objectContaining({ error: 400 })]);
  });
});
