// Child process for the kill -9 test: writes forever, printing "key revision" after each acknowledged write.
import type { SqliteSynchronous } from '../../../control-plane/store/sqlite/schema.js';
import { openSqliteStore } from '../../../control-plane/store/sqlite/sqlite-store.js';

const path = process.argv[2];
const synchronous = (process.argv[3] ?? 'FULL') as SqliteSynchronous;
if (!path) throw new Error('usage: crash-writer.ts DB_PATH [FULL|NORMAL]');
const store = await openSqliteStore({ path, compactIntervalMs: 0, synchronous });
let counterRevision = await store.create('/crash/counter', '0');
process.stdout.write(`/crash/counter=0 ${counterRevision}\n`);
for (let n = 1; ; n++) {
  const key = `/crash/k${n}`;
  const revision = await store.create(key, `v${n}`);
  process.stdout.write(`${key}=v${n} ${revision}\n`);
  counterRevision = await store.update('/crash/counter', `${n}`, counterRevision);
  process.stdout.write(`/crash/counter=${n} ${counterRevision}\n`);
}
