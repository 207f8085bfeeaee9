// External tools some suites need (kubectl, mosquitto, etcd, prometheus...). On a developer machine a missing tool
// skips its suite with one line; in CI (SKIFF_REQUIRE_TOOLS=1, set by .ci/run) it is an error.
import { existsSync } from 'node:fs';

export const TOOL_PATHS = {
  kubectl: '/usr/bin/kubectl',
  mosquitto: '/usr/sbin/mosquitto',
  etcd: '/usr/bin/etcd',
  prometheus: '/usr/bin/prometheus',
  chromium: '/usr/bin/chromium',
  /** Debian's docker-registry: the CNCF distribution registry */
  registry: '/usr/bin/docker-registry',
  htpasswd: '/usr/bin/htpasswd',
} as const;

export type Tool = keyof typeof TOOL_PATHS;

/** Whether `tool` is installed; prints one line when a suite is skipped for want of it. */
export function hasTool(tool: Tool, suite: string): boolean {
  const path = TOOL_PATHS[tool];
  if (existsSync(path)) return true;
  if (process.env['SKIFF_REQUIRE_TOOLS'] === '1') {
    throw new Error(`${suite}: ${tool} (${path}) is required in CI but is not installed`);
  }
  console.warn(`skipping ${suite}: ${tool} is not installed at ${path}`);
  return false;
}
