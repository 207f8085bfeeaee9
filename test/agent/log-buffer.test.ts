import { describe, expect, it } from 'vitest';
import { formatLogLine, LogBuffer } from '../../agent/log-buffer.js';

describe('LogBuffer', () => {
  it('splits output into lines and holds back a partial line until its newline', () => {
    const logs = new LogBuffer(1024, () => 1000);
    logs.write('stdout', 'hello\nwor');
    expect(logs.read({ partial: false }).map((l) => l.text)).toEqual(['hello']);
    logs.write('stdout', 'ld\n');
    expect(logs.read().map((l) => l.text)).toEqual(['hello', 'world']);
  });
  it('drops the oldest lines past its byte bound', () => {
    const logs = new LogBuffer(20);
    for (let i = 0; i < 10; i++) logs.write('stdout', `line ${i}\n`);
    const lines = logs.read().map((l) => l.text);
    expect(lines.at(-1)).toBe('line 9');
    expect(lines.length).toBeLessThan(10);
  });
  it('answers tail, since and limitBytes', () => {
    let now = 0;
    const logs = new LogBuffer(1024, () => now);
    for (let i = 0; i < 5; i++) {
      now = i * 1000;
      logs.write('stderr', `l${i}\n`);
    }
    expect(logs.read({ tailLines: 2 }).map((l) => l.text)).toEqual(['l3', 'l4']);
    expect(logs.read({ sinceMs: 3000 }).map((l) => l.text)).toEqual(['l3', 'l4']);
    expect(logs.read({ limitBytes: 6 }).map((l) => l.text)).toEqual(['l0', 'l1']);
  });
  it('feeds followers and ends them when closed, flushing a partial line', () => {
    const logs = new LogBuffer();
    const seen: string[] = [];
    let closed = false;
    logs.follow((l) => seen.push(l.text), () => (closed = true));
    logs.write('stdout', 'a\nb');
    logs.close();
    expect(seen).toEqual(['a', 'b']);
    expect(closed).toBe(true);
  });
  it('shows an unfinished last line to reads at once, and completes it when the run ends', () => {
    let now = 1000;
    const logs = new LogBuffer(1024, () => now);
    logs.write('stdout', 'done\nwaiting for input: ');
    now = 2000;
    logs.write('stderr', 'warn');
    expect(logs.read().map((l) => `${l.stream}:${l.text}`)).toEqual(['stdout:done', 'stdout:waiting for input: ', 'stderr:warn']);
    expect(logs.read({ tailLines: 1 }).map((l) => l.text)).toEqual(['warn']);
    // still one line when the rest arrives
    logs.write('stdout', 'ok\n');
    expect(logs.read().map((l) => l.text)).toEqual(['done', 'waiting for input: ok', 'warn']);
    // the run ended (the pod did not): the unfinished line is a line, followers get it
    const seen: string[] = [];
    logs.follow((l) => seen.push(l.text), () => {});
    now = 3000;
    logs.write('stdout', 'bye');
    logs.flush();
    expect(seen).toEqual(['warn', 'bye']);
    expect(logs.closed).toBe(false);
  });
  it('formats timestamps as kubectl prints them', () => {
    expect(formatLogLine({ ts: Date.UTC(2026, 0, 2, 3, 4, 5, 678), stream: 'stdout', text: 'x' }, true)).toBe('2026-01-02T03:04:05.678000000Z x\n');
  });
});
