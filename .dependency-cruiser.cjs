// The one-way dependency rules of skiff's architecture (docs/architecture.md).
module.exports = {
  forbidden: [
    { name: 'api-is-pure', severity: 'error', comment: 'api/ holds types, schemas and pure functions only',
      from: { path: '^api/' }, to: { path: '^(runtime|agent|control-plane|cli)/' } },
    { name: 'runtime-knows-no-node-or-server', severity: 'error', comment: 'runtime/ knows nothing of MQTT, HTTP, the agent or the control plane',
      from: { path: '^runtime/' }, to: { path: '^(agent|control-plane|cli)/|node_modules/(mqtt|aedes|hono|@hono)/' } },
    { name: 'agent-is-not-control-plane', severity: 'error', comment: 'agent and control plane share only api/',
      from: { path: '^agent/' }, to: { path: '^(control-plane|cli)/' } },
    { name: 'control-plane-is-not-agent', severity: 'error', comment: 'agent and control plane share only api/',
      from: { path: '^control-plane/' }, to: { path: '^(agent|runtime|cli)/' } },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^dist/|\\.d\\.ts$)' },
  },
};
