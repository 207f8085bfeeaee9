// Adds package-lock entries for optional platform packages that the registry cannot serve, so that
// `npm ci` accepts the lock with npm 10 and npm 11 (docs/decisions/003-lockfile-on-a-partial-registry.md).
// `--check`: only report. An entry is added only where Node's resolution (walking up node_modules)
// finds no version satisfying the spec; each carries the version the parent asks for, since npm 11
// fails the whole install ("Invalid Version:") on a lock entry without one.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
// semver from node_modules, or the copy inside npm itself (a fresh clone has no node_modules yet)
function loadSemver() {
  try {
    return createRequire(import.meta.url)('semver');
  } catch {
    return createRequire(join(dirname(process.execPath), '../lib/node_modules/npm/package.json'))('semver');
  }
}
const semver = loadSemver();
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages;

function resolves(path, dep, spec) {
  let dir = path;
  for (;;) {
    const entry = packages[dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`];
    if (entry?.version) return semver.satisfies(entry.version, spec, { includePrerelease: true });
    if (!dir) return false;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

const platformOf = (name) => {
  const n = name.replace(/^@[^/]+\//, '');
  const os = /darwin/.test(n) ? 'darwin' : /win32|windows/.test(n) ? 'win32' : /android/.test(n) ? 'android' : /freebsd/.test(n) ? 'freebsd' : /openharmony/.test(n) ? 'openharmony' : /wasm32/.test(n) ? undefined : 'linux';
  const cpu = /wasm32/.test(n) ? 'wasm32' : /arm64|aarch64/.test(n) ? 'arm64' : /armv7|-arm-|-arm$|gnueabihf|eabi/.test(n) ? 'arm' : /loong64/.test(n) ? 'loong64' : /riscv64/.test(n) ? 'riscv64' : /ppc64/.test(n) ? 'ppc64' : /s390x/.test(n) ? 's390x' : 'x64';
  const libc = /musl/.test(n) ? 'musl' : undefined;
  return { ...(os ? { os: [os] } : {}), cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
};

// the exact version a spec names (these are pinned: "0.3.2"), else the lowest it allows
const versionOf = (spec) => semver.valid(spec) ?? semver.minVersion(spec)?.version;

const added = [];
for (const [path, entry] of Object.entries(packages)) {
  for (const [dep, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `${path ? `${path}/` : ''}node_modules/${dep}`;
    const existing = packages[key];
    if (existing && !existing.version && !existing.link && versionOf(spec)) {
      // an entry an earlier version of this script wrote without a version
      packages[key] = { version: versionOf(spec), ...existing };
      added.push(key);
      continue;
    }
    if (existing || resolves(path, dep, spec)) continue;
    const platform = platformOf(dep);
    // a package for this very platform that is missing means a broken install, not a mirror gap
    if ((platform.os?.[0] ?? process.platform) === process.platform && platform.cpu[0] === process.arch && !platform.libc) {
      throw new Error(`${dep}@${spec} (needed by ${path || 'the project'}) is missing for this platform`);
    }
    const version = versionOf(spec);
    if (!version) throw new Error(`${dep}@${spec} (needed by ${path || 'the project'}): no version to record`);
    packages[key] = { version, optional: true, ...(entry.dev ? { dev: true } : {}), ...platform };
    added.push(key);
  }
}
if (process.argv.includes('--check')) {
  if (added.length > 0) {
    console.error(`package-lock.json lacks ${added.length} optional platform entries (or their versions) (${added.slice(0, 3).join(', ')}...): run npm run lock:complete`);
    process.exit(1);
  }
  console.log('complete-lockfile: the lock is complete');
} else {
  writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`complete-lockfile: added ${added.length} entries for optional packages the registry does not serve`);
}
