// wasi:sockets with no network: sockets can be created (as in wasmtime without network access) but
// binding, connecting and listening answer access-denied, and name lookups fail permanently.
// The pod's virtual network replaces this in the networking work.
import type { GuestControl } from './guest-control.js';
import { Pollable } from './io.js';
import { WasiError } from './wasi-errors.js';

type IpAddressFamily = 'ipv4' | 'ipv6';

const denied = (): never => {
  throw new WasiError('access-denied');
};
const invalidState = (): never => {
  throw new WasiError('invalid-state');
};

class Network {}

abstract class DeniedSocket {
  constructor(
    private readonly family: IpAddressFamily,
    private readonly control: GuestControl,
  ) {}
  startBind = denied;
  finishBind = invalidState;
  localAddress = invalidState;
  remoteAddress = invalidState;
  addressFamily(): IpAddressFamily {
    return this.family;
  }
  subscribe(): Pollable {
    return new Pollable(this.control);
  }
  // socket options have no effect on a socket that can never be bound
  unicastHopLimit = (): number => 64;
  setUnicastHopLimit = (): void => undefined;
  receiveBufferSize = (): bigint => 65_536n;
  setReceiveBufferSize = (): void => undefined;
  sendBufferSize = (): bigint => 65_536n;
  setSendBufferSize = (): void => undefined;
}

class TcpSocket extends DeniedSocket {
  startConnect = denied;
  finishConnect = invalidState;
  startListen = denied;
  finishListen = invalidState;
  accept = invalidState;
  shutdown = invalidState;
  isListening = (): boolean => false;
  setListenBacklogSize = invalidState;
  keepAliveEnabled = (): boolean => false;
  setKeepAliveEnabled = (): void => undefined;
  keepAliveIdleTime = (): bigint => 7_200_000_000_000n;
  setKeepAliveIdleTime = (): void => undefined;
  keepAliveInterval = (): bigint => 75_000_000_000n;
  setKeepAliveInterval = (): void => undefined;
  keepAliveCount = (): number => 9;
  setKeepAliveCount = (): void => undefined;
  hopLimit = (): number => 64;
  setHopLimit = (): void => undefined;
}

class UdpSocket extends DeniedSocket {
  stream = invalidState;
}
class IncomingDatagramStream {}
class OutgoingDatagramStream {}
class ResolveAddressStream {}

export function createSocketsImports(control: GuestControl) {
  const network = new Network();
  return {
    'wasi:sockets/network': { Network },
    'wasi:sockets/instance-network': { instanceNetwork: () => network },
    'wasi:sockets/tcp': { TcpSocket },
    'wasi:sockets/tcp-create-socket': { createTcpSocket: (family: IpAddressFamily) => new TcpSocket(family, control) },
    'wasi:sockets/udp': { UdpSocket, IncomingDatagramStream, OutgoingDatagramStream },
    'wasi:sockets/udp-create-socket': { createUdpSocket: (family: IpAddressFamily) => new UdpSocket(family, control) },
    'wasi:sockets/ip-name-lookup': {
      ResolveAddressStream,
      resolveAddresses: (): never => {
        throw new WasiError('permanent-resolver-failure');
      },
    },
  };
}
