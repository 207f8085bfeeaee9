// TCP listeners in a pod's virtual network: the port bitmap, the bookkeeping that turns worker
// reports into PodNetworkPorts calls, the wasi:sockets host, and ports freed however a guest ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimEphemeralPort, claimPort, createPortBitmap, EPHEMERAL_FIRST, EPHEMERAL_LAST, isPortClaimed, releasePort } from '../../runtime/network/port-bitmap.js';
import { PortSpace } from '../../runtime/network/pod-port-space.js';
import type { GuestControl } from '../../runtime/wasi/guest-control.js';
import { Pollable } from '../../runtime/wasi/io.js';
import { createSocketsImports, type PodPorts } from '../../runtime/wasi/sockets.js';
import { WasiError } from '../../runtime/wasi/wasi-errors.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';
import { CONTROL_FIRST_PORT_INDEX, createControlBuffer } from '../../runtime/worker/guest-messages.js';
import { exampleBytes } from '../contracts/runtime.contract.js';
import { RecordingNetwork, startComponent } from './support/run-components.js';
import { listenThenComponent } from './support/wat-components.js';

describe('port bitmap', () => {
  it('gives a port to one claimer until it is released', () => {
    const bits = new Int32Array(createPortBitmap());
    expect(claimPort(bits, 8080)).toBe(true);
    expect(claimPort(bits, 8080)).toBe(false);
    expect(claimPort(bits, 8081)).toBe(true);
    releasePort(bits, 8080);
    expect(isPortClaimed(bits, 8080)).toBe(false);
    expect(isPortClaimed(bits, 8081)).toBe(true);
    expect(claimPort(bits, 8080)).toBe(true);
  });

  it('hands out free ephemeral ports, and none when all are taken', () => {
    const bits = new Int32Array(createPortBitmap());
    const first = claimEphemeralPort(bits, () => 0)!;
    expect(first).toBe(EPHEMERAL_FIRST);
    expect(claimEphemeralPort(bits, () => 0)).toBe(EPHEMERAL_FIRST + 1);
    for (let port = EPHEMERAL_FIRST; port <= EPHEMERAL_LAST; port++) claimPort(bits, port);
    expect(claimEphemeralPort(bits)).toBeUndefined();
  });
});

describe('PortSpace', () => {
  it('tells the network in order when a port changes hands before the old holder reported closing', () => {
    const space = new PortSpace();
    const network = new RecordingNetwork();
    const a = space.lease(network);
    const b = space.lease(network);
    a.listening(9000);
    b.listening(9000); // a's 'port-closed' comes from another worker and has not arrived yet
    a.closed(9000); // late: ignored
    expect(network.events).toEqual(['listening 9000', 'closed 9000', 'listening 9000']);
  });

  it('frees the ports left in a finished run\'s control block and closes its listeners', () => {
    const space = new PortSpace();
    const network = new RecordingNetwork();
    const lease = space.lease(network);
    const bits = new Int32Array(space.bitmap);
    const control = new Int32Array(createControlBuffer());
    claimPort(bits, 7000);
    control[CONTROL_FIRST_PORT_INDEX] = 7000 + 1;
    lease.listening(7000);
    lease.end(control);
    expect(isPortClaimed(bits, 7000)).toBe(false);
    expect(network.events).toEqual(['listening 7000', 'closed 7000']);
    lease.listening(7000); // a report arriving after the end changes nothing
    expect(network.events).toHaveLength(2);
  });
});

describe('wasi:sockets tcp host', () => {
  const control: GuestControl = { checkStop: () => undefined, sleepUntil: () => undefined };
  const fakePorts = () => {
    const calls: string[] = [];
    const taken = new Set<number>();
    const ports: PodPorts = {
      claim: (port) => (taken.has(port) ? 'address-in-use' : (taken.add(port || 40000), calls.push(`claim ${port}`), port || 40000)),
      release: (port) => void (taken.delete(port), calls.push(`release ${port}`)),
      listening: (port) => void calls.push(`listening ${port}`),
      closed: (port) => void (taken.delete(port), calls.push(`closed ${port}`)),
    };
    return { ports, calls };
  };
  type Socket = Record<string, (...args: unknown[]) => unknown> & { [key: symbol]: () => void };
  const socket = (ports?: PodPorts): Socket => {
    const imports = createSocketsImports(control, ports);
    return imports['wasi:sockets/tcp-create-socket'].createTcpSocket('ipv4') as unknown as Socket;
  };
  const ipv4 = (port: number, address = [0, 0, 0, 0]) => ({ tag: 'ipv4', val: { port, address } });
  const code = (call: () => unknown) => {
    try {
      call();
    } catch (error) {
      return (error as WasiError).payload;
    }
    return 'ok';
  };
  const dispose = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

  it('binds, listens, answers would-block to accept, and gives the port back when dropped', () => {
    const { ports, calls } = fakePorts();
    const s = socket(ports);
    expect(code(() => s['startListen']!())).toBe('invalid-state');
    expect(code(() => s['startBind']!({}, ipv4(8080, [10, 0, 0, 5])))).toBe('address-not-bindable');
    expect(code(() => s['startBind']!({}, { tag: 'ipv6', val: { port: 8080, flowInfo: 0, address: [0, 0, 0, 0, 0, 0, 0, 1], scopeId: 0 } }))).toBe('invalid-argument');
    s['startBind']!({}, ipv4(8080, [127, 0, 0, 1]));
    s['finishBind']!();
    expect(s['localAddress']!()).toEqual(ipv4(8080, [127, 0, 0, 1]));
    expect((s['subscribe']!() as Pollable).ready()).toBe(true);
    s['startListen']!();
    s['finishListen']!();
    expect(s['isListening']!()).toBe(true);
    expect(code(() => s['accept']!())).toBe('would-block');
    expect((s['subscribe']!() as Pollable).ready()).toBe(false); // no connection ever arrives
    expect(code(() => s['startConnect']!({}, ipv4(80, [127, 0, 0, 1])))).toBe('invalid-state');
    s[dispose]!();
    expect(calls).toEqual(['claim 8080', 'listening 8080', 'closed 8080']);
  });

  it('refuses a port held by another socket, releases a bound port that never listened, and picks one for port 0', () => {
    const { ports, calls } = fakePorts();
    const holder = socket(ports);
    holder['startBind']!({}, ipv4(7000));
    expect(code(() => socket(ports)['startBind']!({}, ipv4(7000)))).toBe('address-in-use');
    holder[dispose]!();
    const any = socket(ports);
    any['startBind']!({}, ipv4(0));
    any['finishBind']!();
    expect(any['localAddress']!()).toEqual(ipv4(40000));
    expect(calls).toEqual(['claim 7000', 'release 7000', 'claim 0']);
  });

  it('denies binding and connecting without a pod network', () => {
    const s = socket(undefined);
    expect(code(() => s['startBind']!({}, ipv4(8080)))).toBe('access-denied');
    expect(code(() => s['startConnect']!({}, ipv4(80, [127, 0, 0, 1])))).toBe('access-denied');
  });
});

describe('pod ports on WasmPodRuntime', () => {
  let runtime: WasmPodRuntime;
  beforeAll(() => {
    runtime = new WasmPodRuntime({ warmWorkers: 1 });
  });
  afterAll(async () => {
    await runtime.close();
  });

  it('frees the port of a guest that traps after listening', async () => {
    const network = new RecordingNetwork();
    const trapper = await startComponent(runtime, await listenThenComponent(7200, 'trap'), 'listen-trap', { network });
    expect((await trapper.container.exited).message).toMatch(/unreachable/);
    expect(network.events).toEqual(['listening 7200', 'closed 7200']);
    const next = await startComponent(runtime, exampleBytes('tcp-listen'), 'tcp-listen', { env: [['PORT', '7200']], network });
    await network.waitFor('listening 7200');
    await next.container.stop(0);
  }, 120_000); // cold compiles on a loaded machine

  it('frees the port of a guest whose worker had to be terminated', async () => {
    const network = new RecordingNetwork();
    const spinner = await startComponent(runtime, await listenThenComponent(7300, 'spin'), 'listen-spin', { network });
    await network.waitFor('listening 7300');
    expect((await spinner.container.stop(0)).reason).toBe('Killed');
    expect(network.events).toEqual(['listening 7300', 'closed 7300']);
    const next = await startComponent(runtime, exampleBytes('tcp-listen'), 'tcp-listen', { env: [['PORT', '7300']], network });
    await next.printed('listening on 7300');
    await next.container.stop(0);
  }, 120_000); // cold compiles on a loaded machine

  it('reports the ephemeral port a guest got for port 0', async () => {
    const network = new RecordingNetwork();
    const guest = await startComponent(runtime, exampleBytes('tcp-listen'), 'tcp-listen', { env: [['PORT', '0']], network });
    await guest.printed('listening on');
    const port = Number(/listening on (\d+)/.exec(guest.stdout())![1]);
    expect(port).toBeGreaterThanOrEqual(EPHEMERAL_FIRST);
    await network.waitFor(`listening ${port}`);
    await guest.container.stop(0);
  }, 120_000); // cold compiles on a loaded machine

  it('shares ports among views of one pod network namespace', async () => {
    const namespace = {};
    const app = new RecordingNetwork(namespace);
    const sidecar = new RecordingNetwork(namespace);
    const first = await startComponent(runtime, exampleBytes('tcp-listen'), 'tcp-listen', { env: [['PORT', '7400']], network: app });
    await app.waitFor('listening 7400');
    const second = await startComponent(runtime, exampleBytes('tcp-listen'), 'tcp-listen', { env: [['PORT', '7400']], network: sidecar });
    expect((await second.container.exited).exitCode).toBe(1);
    expect(second.stderr()).toMatch(/address-in-use/);
    expect(sidecar.events).toEqual([]);
    await first.container.stop(0);
  }, 120_000); // cold compiles on a loaded machine
});
