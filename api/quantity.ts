// Kubernetes resource quantities ("128Mi", "500m", "1.5", "2G") to numbers.

export class InvalidQuantityError extends Error {
  override readonly name = 'InvalidQuantityError';
}

const FACTOR: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const PATTERN = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

export const QUANTITY_ERROR_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/**
 * The one quantity grammar of skiff (the API server's validation, defaulting, quotas, the scheduler,
 * the agent): the value in base units (cores, bytes), or undefined when `text` is not a quantity.
 * Exact as Kubernetes is: no surrounding blanks.
 */
export function quantityValue(text: string): number | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  if (m[2]) return Number(`${m[1]}${m[2]}`);
  return Number(m[1]) * (FACTOR[m[3] ?? ''] ?? 1);
}

/** The quantity's value as a plain number (e.g. "500m" -> 0.5, "1Ki" -> 1024); blanks around it (flags, files) are ignored. */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') return text;
  const value = quantityValue(text.trim());
  if (value === undefined) throw new InvalidQuantityError(QUANTITY_ERROR_MESSAGE);
  return value;
}

export const isValidQuantity = (text: string): boolean => quantityValue(text.trim()) !== undefined;

/** Bytes from a memory quantity, rounded up. */
export const parseBytes = (text: string | number): number => Math.ceil(parseQuantity(text));

/** Millicores from a CPU quantity ("250m" -> 250, "2" -> 2000), rounded up. */
export const parseMillicores = (text: string | number): number => Math.ceil(parseQuantity(text) * 1000 - 1e-9);

/** Formats bytes the way the API shows memory (Ki when exact, else plain). */
export function formatBytes(bytes: number): string {
  for (const [suffix, factor] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${suffix}`;
  }
  return bytes % 1024 === 0 ? `${bytes / 1024}Ki` : String(bytes);
}

export const formatMillicores = (millis: number): string => (millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`);
