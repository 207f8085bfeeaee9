// etcd's compaction horizon: recognising "compacted" errors, and asking the server for the horizon.
import type { Etcd3 } from 'etcd3';

/** A range or compact below the horizon fails with OUT_OF_RANGE "mvcc: required revision has been compacted". */
export function isCompactedError(error: unknown): boolean {
  return error instanceof Error && error.message.includes('required revision has been compacted');
}

/**
 * etcd has no call that returns the horizon, but a watch from revision 1 is cancelled with it
 * (compact_revision) when history was compacted. A range at revision 1 first tells whether it was.
 */
export async function readCompactedRevision(client: Etcd3, probeKey: Buffer, timeoutMs = 10_000): Promise<number> {
  try {
    await client.kv.range({ key: probeKey, revision: 1, count_only: true });
    return 0;
  } catch (error) {
    if (!isCompactedError(error)) throw error;
  }
  const stream = await client.watchClient.watch();
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('etcd did not report its compaction revision')), timeoutMs);
      stream.on('data', (response) => {
        if (!response.canceled) return;
        clearTimeout(timer);
        resolve(Number(response.compact_revision));
      });
      stream.on('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.write({ create_request: { key: probeKey, start_revision: 1 } });
    });
  } finally {
    stream.end();
  }
}
