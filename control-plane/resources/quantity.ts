// Kubernetes resource quantities ("100m", "64Mi", "1.5", "2e3"): parsed to a plain number of base units.

const suffixFactor: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const quantityRe = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

/** Returns the value in base units (cores, bytes), or undefined when `text` is not a quantity. */
export function parseQuantity(text: string): number | undefined {
  const m = quantityRe.exec(text);
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2]) return Number(`${m[1]}${m[2]}`);
  return base * (suffixFactor[m[3] ?? ''] ?? 1);
}

export const isQuantity = (text: unknown): boolean => typeof text === 'string' && parseQuantity(text) !== undefined;

export const quantityErrorMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
