import { describe, expect, it } from 'vitest';
import { cruise } from 'dependency-cruiser';
import { createRequire } from 'node:module';

const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as { options: Record<string, unknown> } & Record<string, unknown>;

describe('architecture', () => {
  it('keeps dependencies one way: api <- runtime <- agent, api <- control-plane, cli wires', async () => {
    const result = await cruise(['api', 'runtime', 'agent', 'control-plane', 'cli'], { ruleSet: config as never, validate: true, ...config.options });
    const output = result.output as { summary: { violations: Array<{ from: string; to: string; rule: { name: string } }> } };
    const violations = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
    expect(violations).toEqual([]);
  }, 60_000);
});
