// `--invoke`: calls one exported function instead of the command, as `wasmtime run --invoke` does.
// A core module's arguments are parsed by its parameter types and its results printed one per line;
// a component's function is found at the top level or (by a unique name) inside an exported
// interface, called with WAVE values, and its result printed as WAVE.
import type { FunctionSignature } from '../export-signature.js';
import { formatWave, parseWaveCall } from '../wave.js';

/** The function or its arguments do not fit (reported like a failure to start, not a trap). */
export class InvokeError extends Error {
  override readonly name = 'InvokeError';
}

const camelCase = (name: string): string => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export function invokeCoreExport(instance: WebAssembly.Instance, name: string, args: string[], signature: FunctionSignature | undefined): string[] {
  const initialize = instance.exports['_initialize'];
  if (typeof initialize === 'function') (initialize as () => void)();
  const fn = instance.exports[name];
  if (typeof fn !== 'function' || !signature) throw new InvokeError(`failed to find export function \`${name}\``);
  if (args.length !== signature.params.length) throw new InvokeError(`\`${name}\` takes ${signature.params.length} argument(s), ${args.length} given`);
  const values = signature.params.map((type, i) => parseCoreValue(type, args[i]!));
  const result = (fn as (...a: unknown[]) => unknown)(...values);
  const results = signature.results.length > 1 ? (result as unknown[]) : signature.results.length === 1 ? [result] : [];
  return results.map((value) => formatCoreValue(value));
}

function parseCoreValue(type: string, text: string): number | bigint {
  const fail = () => new InvokeError(`failed to parse argument \`${text}\` as ${type}`);
  if (type === 'i32' || type === 'i64') {
    if (!/^[-+]?\d+$/.test(text.trim())) throw fail();
    const value = BigInt(text.trim());
    const bits = type === 'i32' ? 32n : 64n;
    if (value < -(1n << (bits - 1n)) || value >= 1n << bits) throw fail();
    return type === 'i32' ? Number(BigInt.asIntN(32, value)) : BigInt.asIntN(64, value);
  }
  if (type === 'f32' || type === 'f64') {
    const value = Number(text.trim());
    if (text.trim() === '' || Number.isNaN(value) && !/^[-+]?nan$/i.test(text.trim())) throw fail();
    return value;
  }
  throw new InvokeError(`arguments of type ${type} cannot be given on the command line`);
}

function formatCoreValue(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  }
  return String(value);
}

/** The function an invoke names in a component's exports (jco names them in camelCase). */
function findComponentFunction(component: Record<string, unknown>, name: string): (...args: unknown[]) => unknown {
  const key = camelCase(name);
  const direct = component[name] ?? component[key];
  if (typeof direct === 'function') return direct as (...args: unknown[]) => unknown;
  // `iface#fn` or `ns:pkg/iface@v#fn` names the interface; otherwise the name must be unique across them
  const [iface, fnName] = name.includes('#') ? name.split('#') as [string, string] : [undefined, name];
  const found = new Set<(...args: unknown[]) => unknown>(); // jco exports an interface under two names
  for (const [exportName, value] of Object.entries(component)) {
    if (!value || typeof value !== 'object') continue;
    if (iface !== undefined && exportName !== iface && !exportName.startsWith(`${iface}@`) && camelCase(exportName) !== camelCase(iface)) continue;
    const fn = (value as Record<string, unknown>)[camelCase(fnName)];
    if (typeof fn === 'function') found.add(fn as (...args: unknown[]) => unknown);
  }
  if (found.size === 1) return [...found][0]!;
  throw new InvokeError(found.size === 0 ? `No exported func named \`${name}\` in component.` : `\`${name}\` is exported by more than one interface: name one as IFACE#${fnName}`);
}

export function invokeComponentExport(component: Record<string, unknown>, name: string, args: string[]): string[] {
  const call = name.includes('(') ? parseWaveCall(name) : { name, args: args.map((a) => parseWaveCall(`f(${a})`).args[0]) };
  const fn = findComponentFunction(component, call.name);
  const result = fn(...call.args);
  return result === undefined ? [] : [formatWave(result)];
}
