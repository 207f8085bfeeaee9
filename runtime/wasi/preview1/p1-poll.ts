// p1 poll_oneoff over WASI 0.2 pollables, as wasmtime's p1 does it: clock subscriptions become
// monotonic-clock pollables (a realtime deadline is turned into a relative one), fd subscriptions
// stream pollables; one event per ready subscription, in subscription order.
import { Clockid, EVENT_FD_READWRITE_HANGUP, Errno, Eventtype, P1Error, Size, SUBSCRIPTION_CLOCK_ABSTIME } from './p1-abi.js';
import { errnoOf, nanosOf, type P1Context } from './p1-context.js';
import type { Pollable } from '../io.js';

const TAG_CLOCK = 0;
const TAG_FD_READ = 1;
const TAG_FD_WRITE = 2;

interface Subscription {
  userdata: bigint;
  tag: number;
  fd: number;
}

export function createPollCall(ctx: P1Context) {
  return {
    poll_oneoff: (subsPtr: number, eventsPtr: number, count: number, out: number) => errnoOf(() => {
      if (count >>> 0 === 0) throw new P1Error(Errno.INVAL); // sleeping forever is not a thing in p1
      const subscriptions: Subscription[] = [];
      const pollables: Pollable[] = [];
      for (let i = 0; i < count >>> 0; i++) {
        const at = subsPtr + i * Size.SUBSCRIPTION;
        const sub = { userdata: ctx.memory.u64(at), tag: ctx.memory.u8(at + 8), fd: ctx.memory.u32(at + 16) };
        pollables.push(pollableOf(ctx, sub, at));
        subscriptions.push(sub);
      }
      const ready = ctx.p2.poll(pollables);
      let written = 0;
      for (const index of ready) {
        const sub = subscriptions[index]!;
        writeEvent(ctx, eventsPtr + written * Size.EVENT, sub);
        written++;
      }
      ctx.memory.setU32(out, written);
    }),
  };
}

function pollableOf(ctx: P1Context, sub: Subscription, at: number): Pollable {
  if (sub.tag === TAG_CLOCK) {
    const id = ctx.memory.u32(at + 16);
    const timeout = ctx.memory.u64(at + 24);
    let absolute = (ctx.memory.u16(at + 40) & SUBSCRIPTION_CLOCK_ABSTIME) !== 0;
    let deadline = timeout;
    if (id === Clockid.REALTIME && absolute) {
      const now = nanosOf(ctx.p2.wallNow());
      deadline = timeout > now ? timeout - now : 0n;
      absolute = false;
    } else if (id !== Clockid.MONOTONIC && id !== Clockid.REALTIME) {
      throw new P1Error(Errno.INVAL);
    }
    return absolute ? ctx.p2.subscribeInstant(deadline) : ctx.p2.subscribeDuration(deadline);
  }
  if (sub.tag !== TAG_FD_READ && sub.tag !== TAG_FD_WRITE) throw new P1Error(Errno.INVAL);
  const entry = ctx.fds.get(sub.fd);
  if (sub.tag === TAG_FD_READ && entry.kind === 'stdin') return entry.stream.subscribe();
  if (sub.tag === TAG_FD_WRITE && (entry.kind === 'stdout' || entry.kind === 'stderr')) return entry.stream.subscribe();
  if (entry.kind === 'file') {
    const stream = sub.tag === TAG_FD_READ ? entry.descriptor.readViaStream(entry.position) : entry.descriptor.writeViaStream(entry.position);
    return stream.subscribe();
  }
  throw new P1Error(Errno.BADF);
}

function writeEvent(ctx: P1Context, at: number, sub: Subscription): void {
  const { memory } = ctx;
  let nbytes = 0n;
  let flags = 0;
  const type = sub.tag === TAG_CLOCK ? Eventtype.CLOCK : sub.tag === TAG_FD_READ ? Eventtype.FD_READ : Eventtype.FD_WRITE;
  if (sub.tag !== TAG_CLOCK) {
    nbytes = 1n;
    const entry = ctx.fds.get(sub.fd);
    if (sub.tag === TAG_FD_READ && entry.kind === 'file' && entry.descriptor.stat().size <= entry.position) flags = EVENT_FD_READWRITE_HANGUP;
  }
  memory.setU64(at, sub.userdata);
  memory.setU16(at + 8, Errno.SUCCESS);
  memory.setU8(at + 10, type);
  memory.setU8(at + 11, 0);
  memory.setU32(at + 12, 0);
  memory.setU64(at + 16, nbytes);
  memory.setU16(at + 24, flags);
  memory.setU16(at + 26, 0);
  memory.setU32(at + 28, 0);
}
