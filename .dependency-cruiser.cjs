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
    // Inside the control plane: store < resources < reconcile < controllers | scheduler | nodes < api
    // (control-plane/api, the HTTP API). Type-only imports of the interfaces a layer serves are allowed.
    { name: 'cp-store-is-the-bottom', severity: 'error', comment: 'the store knows no typed resources, caches, workers or API',
      from: { path: '^control-plane/store/' }, to: { path: '^control-plane/(resources|reconcile|controllers|scheduler|nodes|api)/' } },
    { name: 'cp-resources-below-reconcile', severity: 'error', comment: 'typed resources know no informers, workers or API',
      from: { path: '^control-plane/resources/' }, to: { path: '^control-plane/(reconcile|controllers|scheduler|nodes|api)/' } },
    { name: 'cp-reconcile-below-workers', severity: 'error', comment: 'the reconcile layer (informers, work queue, controller base) serves controllers, scheduler and nodes',
      from: { path: '^control-plane/reconcile/' }, to: { path: '^control-plane/(controllers|scheduler|nodes|api)/' } },
    { name: 'cp-workers-below-api', severity: 'error', comment: 'controllers, scheduler and nodes do not call into the HTTP API (they may implement its interfaces)',
      from: { path: '^control-plane/(controllers|scheduler|nodes)/' }, to: { path: '^control-plane/api/', dependencyTypesNot: ['type-only'] } },
    // no folder cycles between the workers: controllers -> nothing of them; scheduler -> controllers; nodes -> both, and broker -> none
    { name: 'cp-controllers-know-no-scheduler-or-nodes', severity: 'error', comment: 'shared logic goes down to resources/ or api/',
      from: { path: '^control-plane/controllers/' }, to: { path: '^control-plane/(scheduler|nodes)/' } },
    { name: 'cp-scheduler-knows-no-nodes', severity: 'error', comment: 'pod addresses are api/pod-addresses.ts',
      from: { path: '^control-plane/scheduler/' }, to: { path: '^control-plane/nodes/' } },
    { name: 'cp-broker-knows-no-nodes', severity: 'error', comment: 'the broker takes what it needs of nodes as an interface',
      from: { path: '^control-plane/broker/' }, to: { path: '^control-plane/nodes/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^dist/|\\.d\\.ts$)' },
  },
};
