// Volume paths are resolved on the real filesystem: symlinks (the host's, or ones a guest made in a
// shared volume) are followed only while they stay inside the volume or the allowed prefix.
import { existsSync, mkdirSync, readdirSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerConfigError } from '../../agent/pods/container-config.js';
import { PodVolumes, type VolumeHostOptions } from '../../agent/pods/pod-volumes.js';
import { isInside, resolveContained, UnsafePathError } from '../../agent/volumes/contained-path.js';
import { allowedHostDir } from '../../agent/volumes/host-path-dirs.js';
import type { Container, Pod } from '../../api/types/pod.js';

let dir: string;
let allowed: string;
let outside: string;
beforeEach(async () => {
  dir = realpathSync(await mkdtemp(join(tmpdir(), 'skiff-volume-paths-')));
  allowed = join(dir, 'allowed');
  outside = join(dir, 'outside');
  mkdirSync(allowed);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'not for pods');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const host = (): VolumeHostOptions => ({ dataDir: join(dir, 'data'), memoryDir: join(dir, 'shm'), allowedHostPaths: [allowed] });
const aPod = (volumes: Array<Record<string, unknown>>): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'main', image: 'x' }], volumes: volumes as never },
});
const mounting = (name: string, subPath?: string): Container => ({ name: 'main', image: 'x', volumeMounts: [{ name, mountPath: '/data', ...(subPath ? { subPath } : {}) }] });

describe('resolveContained', () => {
  it('tells inside from outside without a prefix test', () => {
    expect(isInside('/a', '/a')).toBe(true);
    expect(isInside('/a', '/a/b')).toBe(true);
    expect(isInside('/a', '/a/..b')).toBe(true);
    expect(isInside('/a', '/ab')).toBe(false);
    expect(isInside('/a', '/')).toBe(false);
  });

  it('follows a symlink that stays inside and returns the canonical path', () => {
    mkdirSync(join(allowed, 'real', 'deep'), { recursive: true });
    symlinkSync('real', join(allowed, 'alias'));
    expect(resolveContained(allowed, 'alias/deep', { create: false })).toBe(join(allowed, 'real', 'deep'));
  });

  it('refuses a symlink that leads outside, whether absolute or relative, and creates nothing there', () => {
    symlinkSync(outside, join(allowed, 'abs'));
    symlinkSync('../outside', join(allowed, 'rel'));
    for (const path of ['abs', 'rel', 'abs/new', 'rel/new/deeper']) {
      expect(() => resolveContained(allowed, path, { create: true })).toThrow(UnsafePathError);
    }
    expect(readdirSync(outside)).toEqual(['secret']);
  });

  it('refuses .. above the root, a file, a dangling link and a link loop', () => {
    writeFileSync(join(allowed, 'file'), '');
    symlinkSync('missing', join(allowed, 'dangling'));
    symlinkSync('loop', join(allowed, 'loop'));
    expect(() => resolveContained(allowed, '..', { create: false })).toThrow(/leaves/);
    expect(() => resolveContained(allowed, 'a/../../outside', { create: true })).toThrow(/leaves/);
    expect(() => resolveContained(allowed, 'file', { create: true })).toThrow(/not a directory/);
    expect(() => resolveContained(allowed, 'dangling', { create: true })).toThrow(UnsafePathError);
    expect(() => resolveContained(allowed, 'loop', { create: true })).toThrow(UnsafePathError);
    expect(() => resolveContained(allowed, 'missing', { create: false })).toThrow(/does not exist/);
  });

  it('creates missing directories one by one, inside', () => {
    expect(resolveContained(allowed, 'a/b/c', { create: true })).toBe(join(allowed, 'a', 'b', 'c'));
    expect(existsSync(join(allowed, 'a', 'b', 'c'))).toBe(true);
  });

  it('allows a host path only below its prefix on the real filesystem', () => {
    symlinkSync(outside, join(allowed, 'escape'));
    expect(() => allowedHostDir(join(allowed, 'escape'), [allowed], false)).toThrow(/outside/);
    expect(() => allowedHostDir(join(allowed, 'escape', 'created'), [allowed], true)).toThrow(/outside/);
    expect(existsSync(join(outside, 'created'))).toBe(false);
    expect(() => allowedHostDir(outside, [allowed], false)).toThrow(/not under an --allow-host-path prefix/);
    expect(allowedHostDir(join(allowed, 'x', '..', 'y'), [allowed], true)).toBe(join(allowed, 'y'));
  });
});

describe('volume mounts through symlinks', () => {
  it('refuses a hostPath subPath naming a symlink that points outside the prefix', async () => {
    mkdirSync(join(allowed, 'vol'));
    symlinkSync(outside, join(allowed, 'vol', 'link'));
    const volumes = new PodVolumes(aPod([{ name: 'v', hostPath: { path: join(allowed, 'vol') } }]), host(), undefined, { nodeName: 'n1' });
    await volumes.prepare();
    expect(() => volumes.preopens(mounting('v', 'link'))).toThrow(ContainerConfigError);
    expect(() => volumes.preopens(mounting('v', 'link'))).toThrow(/subPath link: link resolves to .*outside/);
    expect(() => volumes.preopens(mounting('v', 'link/below'))).toThrow(ContainerConfigError);
    expect(readdirSync(outside)).toEqual(['secret']);
  });

  it('refuses a hostPath volume that is itself a symlink out of the prefix, and a non-directory type', async () => {
    symlinkSync(outside, join(allowed, 'vol'));
    const linked = new PodVolumes(aPod([{ name: 'v', hostPath: { path: join(allowed, 'vol') } }]), host(), undefined, { nodeName: 'n1' });
    await expect(linked.prepare()).rejects.toThrow(/volume v: hostPath .*: vol resolves to .*outside/);
    const file = new PodVolumes(aPod([{ name: 'v', hostPath: { path: join(allowed, 'f'), type: 'FileOrCreate' } }]), host(), undefined, { nodeName: 'n1' });
    await expect(file.prepare()).rejects.toThrow('only directories can be mounted');
    const missing = new PodVolumes(aPod([{ name: 'v', hostPath: { path: join(allowed, 'none'), type: 'Directory' } }]), host(), undefined, { nodeName: 'n1' });
    await expect(missing.prepare()).rejects.toThrow(/does not exist/);
  });

  it('refuses an emptyDir subPath through a link a guest made, even one that only leaves after a rename', async () => {
    const volumes = new PodVolumes(aPod([{ name: 'scratch', emptyDir: {} }]), host(), undefined, { nodeName: 'n1' });
    await volumes.prepare();
    const [whole] = volumes.preopens(mounting('scratch'));
    // what a guest may do: `d/e/up -> ../..` stays inside when made (the sandbox checks it lexically) ...
    mkdirSync(join(whole!.hostPath, 'd', 'e'), { recursive: true });
    symlinkSync('../../../../../../../..', join(whole!.hostPath, 'd', 'e', 'up'));
    renameSync(join(whole!.hostPath, 'd', 'e'), join(whole!.hostPath, 'e')); // ... and points above the volume after a move
    expect(() => volumes.preopens(mounting('scratch', 'e/up'))).toThrow(/outside/);
    expect(() => volumes.preopens(mounting('scratch', 'e/up/tmp'))).toThrow(/outside/);
    symlinkSync('e', join(whole!.hostPath, 'inside'));
    expect(volumes.preopens(mounting('scratch', 'inside'))[0]!.hostPath).toBe(join(whole!.hostPath, 'e'));
  });

  it('refuses .. and absolute subPaths as the API server does, and names a file subPath', async () => {
    const volumes = new PodVolumes(aPod([{ name: 'scratch', emptyDir: {} }]), host(), undefined, { nodeName: 'n1' });
    await volumes.prepare();
    for (const subPath of ['..', 'a/../b', '/etc']) {
      expect(() => volumes.preopens(mounting('scratch', subPath))).toThrow(`subPath ${subPath} must be a relative path without '..'`);
    }
    writeFileSync(join(volumes.preopens(mounting('scratch'))[0]!.hostPath, 'f'), '');
    expect(() => volumes.preopens(mounting('scratch', 'f'))).toThrow(/is not a directory/);
  });

  it('refuses a persistent volume whose path leaves its root through a symlink', async () => {
    const localRoot = join(dir, 'data', 'volumes', 'local-path');
    mkdirSync(join(localRoot, 'pvc-1'), { recursive: true });
    symlinkSync(outside, join(localRoot, 'pvc-1', 'sub'));
    const claim = [{ name: 'store', persistentVolumeClaim: { claimName: 'data' } }];
    const viaLocal = new PodVolumes(aPod(claim), host(), undefined, { nodeName: 'n1' }, { store: { volumeName: 'pv', path: '/var/lib/skiff/local-path/pvc-1/sub' } });
    await expect(viaLocal.prepare()).rejects.toThrow(/persistentvolume "pv": path .*outside/);
    symlinkSync(outside, join(allowed, 'static'));
    const viaHost = new PodVolumes(aPod(claim), host(), undefined, { nodeName: 'n1' }, { store: { volumeName: 'pv', path: join(allowed, 'static') } });
    await expect(viaHost.prepare()).rejects.toThrow(/outside/);
  });
});
