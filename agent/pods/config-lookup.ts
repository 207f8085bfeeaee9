// The ConfigMaps and Secrets of the node's desired state, by namespace/name, decoded to bytes.
// Held in memory only: Secrets never reach the disk from here (the persisted state omits them).
import type { ConfigData } from '../../api/mqtt/messages.js';

export interface ConfigLookup {
  /** key -> bytes, or undefined when the object does not exist */
  configMap(namespace: string, name: string): Map<string, Buffer> | undefined;
  secret(namespace: string, name: string): Map<string, Buffer> | undefined;
}

export class ConfigSet implements ConfigLookup {
  readonly #configMaps = new Map<string, Map<string, Buffer>>();
  readonly #secrets = new Map<string, Map<string, Buffer>>();

  constructor(configMaps: ConfigData[] = [], secrets: ConfigData[] = []) {
    for (const c of configMaps) {
      const data = new Map<string, Buffer>();
      for (const [k, v] of Object.entries(c.data)) data.set(k, Buffer.from(v, 'utf8'));
      for (const [k, v] of Object.entries(c.binaryData ?? {})) data.set(k, Buffer.from(v, 'base64'));
      this.#configMaps.set(`${c.namespace}/${c.name}`, data);
    }
    for (const s of secrets) {
      this.#secrets.set(`${s.namespace}/${s.name}`, new Map(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64')])));
    }
  }

  configMap(namespace: string, name: string): Map<string, Buffer> | undefined {
    return this.#configMaps.get(`${namespace}/${name}`);
  }

  secret(namespace: string, name: string): Map<string, Buffer> | undefined {
    return this.#secrets.get(`${namespace}/${name}`);
  }
}
