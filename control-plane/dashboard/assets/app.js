// @ts-check
// The skiff dashboard: lists and watches nodes, pods and events (and lists leases, Deployments and ReplicaSets)
// through the Kubernetes API (session cookie + X-Skiff-Dashboard header), and renders them with DOM
// methods only (never innerHTML: every name and message is untrusted text). Read-only.

const HEADERS = { 'x-skiff-dashboard': '1', accept: 'application/json' };
const EVENTS_SHOWN = 25;

/** @typedef {{ metadata: { name: string, namespace?: string, uid: string, resourceVersion?: string, ownerReferences?: Array<{ kind: string, uid: string }>, creationTimestamp?: string }, [k: string]: any }} Obj */

/** resource -> (key -> object) */
const state = {
  nodes: new Map(), leases: new Map(), pods: new Map(), deployments: new Map(), replicasets: new Map(), events: new Map(),
};
// A browser opens at most six HTTP/1.1 connections to a host, and every watch holds one: three
// watches leave room for the polls, the page's own requests and signing out. What changes most
// (nodes, pods, events) is watched; leases (renewed every 10 s), Deployments and ReplicaSets are
// listed every few seconds.
const WATCHED = [
  ['nodes', '/api/v1/nodes'],
  ['pods', '/api/v1/pods'],
  ['events', '/api/v1/events'],
];
const POLLED = [
  ['leases', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'],
  ['deployments', '/apis/apps/v1/deployments'],
  ['replicasets', '/apis/apps/v1/replicasets'],
];
const POLL_INTERVAL_MS = 3000;
const live = new Set();

/** @param {Obj} o */
const keyOf = (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

class SignedOut extends Error {}

/** @param {Response} res */
function check(res) {
  if (res.status === 401) throw new SignedOut();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res;
}

/** Lists, then watches from the list's resourceVersion; relists with back-off when the watch ends. */
async function follow(/** @type {keyof typeof state} */ name, /** @type {string} */ path) {
  let backoffMs = 500;
  for (;;) {
    try {
      const list = await (check(await fetch(path, { headers: HEADERS, credentials: 'same-origin' }))).json();
      const map = state[name];
      map.clear();
      for (const item of list.items ?? []) map.set(keyOf(item), item);
      scheduleRender();
      const watch = check(await fetch(`${path}?watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(list.metadata?.resourceVersion ?? '')}`, { headers: HEADERS, credentials: 'same-origin' }));
      live.add(name);
      scheduleRender();
      backoffMs = 500;
      await readEvents(watch, (event) => {
        if (event.type === 'ADDED' || event.type === 'MODIFIED') map.set(keyOf(event.object), event.object);
        else if (event.type === 'DELETED') map.delete(keyOf(event.object));
        else if (event.type === 'ERROR') return false;
        scheduleRender();
        return true;
      });
    } catch (error) {
      if (error instanceof SignedOut) {
        window.location.assign('/dashboard/login');
        return;
      }
    }
    live.delete(name);
    scheduleRender();
    await new Promise((resolve) => setTimeout(resolve, backoffMs));
    backoffMs = Math.min(backoffMs * 2, 10_000);
  }
}

/** Feeds each JSON line of a watch stream to `onEvent` until the stream ends or it returns false. */
async function readEvents(/** @type {Response} */ res, /** @type {(e: any) => boolean} */ onEvent) {
  const reader = /** @type {ReadableStream<Uint8Array>} */ (res.body).pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() && !onEvent(JSON.parse(line))) {
        await reader.cancel();
        return;
      }
    }
  }
}

let renderScheduled = false;
function scheduleRender() {
  if (renderScheduled) return;
  renderScheduled = true;
  requestAnimationFrame(() => {
    renderScheduled = false;
    render();
  });
}

/** An element with text and attributes (text is always text, never markup). */
function el(/** @type {string} */ tag, /** @type {Record<string, string>} */ attrs = {}, /** @type {Array<Node | string>} */ ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

function age(/** @type {string | undefined} */ time) {
  if (!time) return '?';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(time)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function nodeStatus(/** @type {Obj} */ node) {
  const ready = node.status?.conditions?.find((/** @type {any} */ c) => c.type === 'Ready')?.status;
  return ready === 'True' ? 'Ready' : ready === 'False' ? 'NotReady' : 'Unknown';
}

const terminal = (/** @type {Obj} */ pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** What kubectl's STATUS column would say: a waiting or terminated reason, else the phase. */
function podStatus(/** @type {Obj} */ pod) {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const reason = c.state?.waiting?.reason;
    if (reason && reason !== 'ContainerCreating') return reason;
  }
  return pod.status?.phase ?? 'Pending';
}

const restarts = (/** @type {Obj} */ pod) => (pod.status?.containerStatuses ?? []).reduce((n, /** @type {any} */ c) => n + (c.restartCount ?? 0), 0);

function render() {
  const nodes = [...state.nodes.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const pods = [...state.pods.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  renderSummary(nodes, pods);
  renderNodes(nodes, pods);
  renderMap(nodes, pods);
  renderPods(nodes, pods);
  renderEvents();
  const isLive = live.size === WATCHED.length;
  const badge = /** @type {HTMLElement} */ (document.getElementById('live'));
  badge.textContent = isLive ? 'live' : 'reconnecting';
  badge.className = `live ${isLive ? 'on' : 'off'}`;
}

function renderSummary(/** @type {Obj[]} */ nodes, /** @type {Obj[]} */ pods) {
  const ready = nodes.filter((n) => nodeStatus(n) === 'Ready').length;
  const running = pods.filter((p) => p.status?.phase === 'Running').length;
  /** @type {HTMLElement} */ (document.getElementById('summary')).textContent =
    `${ready}/${nodes.length} nodes Ready · ${pods.length} pods (${running} running) · ${state.deployments.size} Deployment${state.deployments.size === 1 ? '' : 's'}`;
}

function renderNodes(/** @type {Obj[]} */ nodes, /** @type {Obj[]} */ pods) {
  const rows = nodes.map((node) => {
    const name = node.metadata.name;
    const status = nodeStatus(node);
    const lease = state.leases.get(`kube-node-lease/${name}`);
    const conditions = (node.status?.conditions ?? []).filter((/** @type {any} */ c) => c.type !== 'Ready' && c.status === 'True').map((/** @type {any} */ c) => el('span', { class: 'cond' }, c.type));
    if (node.spec?.unschedulable) conditions.push(el('span', { class: 'cond' }, 'SchedulingDisabled'));
    const count = pods.filter((p) => p.spec?.nodeName === name && !terminal(p)).length;
    const info = node.status?.nodeInfo ?? {};
    return el('tr', { 'data-node': name, 'data-status': status },
      el('td', {}, name),
      el('td', { class: `status-${status}` }, status),
      el('td', { class: 'lease-age' }, lease ? age(lease.spec?.renewTime) : 'no lease'),
      el('td', {}, ...(conditions.length ? conditions : [el('span', { class: 'muted' }, 'none')])),
      el('td', { class: 'pod-count' }, String(count)),
      el('td', { class: 'muted' }, `${info.kubeletVersion ?? ''} ${info.architecture ?? ''}`.trim()));
  });
  replaceRows('nodes', rows.length ? rows : [el('tr', {}, el('td', { colspan: '6', class: 'muted' }, 'no nodes have joined'))]);
}

function renderMap(/** @type {Obj[]} */ nodes, /** @type {Obj[]} */ pods) {
  const table = /** @type {HTMLTableElement} */ (document.getElementById('deployments'));
  const deployments = [...state.deployments.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  const rsOwner = new Map([...state.replicasets.values()].map((rs) => [rs.metadata.uid, rs.metadata.ownerReferences?.find((/** @type {any} */ o) => o.kind === 'Deployment')?.uid]));
  const head = el('tr', {}, el('th', {}, 'Deployment'), el('th', {}, 'Ready'), ...nodes.map((n) => el('th', {}, n.metadata.name)));
  /** @type {HTMLElement} */ (table.tHead).replaceChildren(head);
  const rows = deployments.map((d) => {
    const owned = pods.filter((p) => !terminal(p) && p.metadata.ownerReferences?.some((/** @type {any} */ o) => o.kind === 'ReplicaSet' && rsOwner.get(o.uid) === d.metadata.uid));
    const cells = nodes.map((n) => {
      const count = owned.filter((p) => p.spec?.nodeName === n.metadata.name).length;
      return el('td', { class: `count${count ? '' : ' zero'}`, 'data-deployment': keyOf(d), 'data-node': n.metadata.name }, String(count));
    });
    return el('tr', { 'data-deployment': keyOf(d) }, el('td', {}, keyOf(d).replace(/^\//, '')), el('td', {}, `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`), ...cells);
  });
  replaceRows('deployments', rows.length ? rows : [el('tr', {}, el('td', { colspan: String(2 + nodes.length), class: 'muted' }, 'no Deployments'))]);
}

function renderPods(/** @type {Obj[]} */ nodes, /** @type {Obj[]} */ pods) {
  const groups = [...nodes.map((n) => n.metadata.name), ''];
  const cards = groups.map((nodeName) => {
    const mine = pods.filter((p) => (p.spec?.nodeName ?? '') === nodeName);
    if (!nodeName && mine.length === 0) return undefined;
    const items = mine.map((p) => {
      const status = podStatus(p);
      return el('li', { 'data-pod': keyOf(p), 'data-status': status },
        el('span', {}, keyOf(p)),
        el('span', { class: `phase-${p.status?.phase ?? 'Pending'}` }, status),
        el('span', { class: 'muted' }, `${restarts(p)} restarts`));
    });
    return el('div', { class: 'node-pods', 'data-node': nodeName || '(unscheduled)' },
      el('h3', {}, nodeName || 'Not scheduled'),
      el('ul', {}, ...(items.length ? items : [el('li', { class: 'muted' }, 'no pods')])));
  }).filter((c) => c !== undefined);
  /** @type {HTMLElement} */ (document.getElementById('pods')).replaceChildren(...cards);
}

function renderEvents() {
  const when = (/** @type {Obj} */ e) => e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '';
  const events = [...state.events.values()].sort((a, b) => when(b).localeCompare(when(a))).slice(0, EVENTS_SHOWN);
  const rows = events.map((e) => el('tr', { 'data-reason': String(e.reason ?? '') },
    el('td', {}, age(when(e))),
    el('td', { class: `type-${e.type}` }, String(e.type ?? '')),
    el('td', {}, String(e.reason ?? '')),
    el('td', {}, `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`),
    el('td', {}, `${String(e.message ?? '')}${e.count > 1 ? ` (×${e.count})` : ''}`)));
  replaceRows('events', rows.length ? rows : [el('tr', {}, el('td', { colspan: '5', class: 'muted' }, 'no events'))]);
}

function replaceRows(/** @type {string} */ id, /** @type {HTMLElement[]} */ rows) {
  /** @type {HTMLTableElement} */ (document.getElementById(id)).tBodies[0]?.replaceChildren(...rows);
}

/** Lists `path` every few seconds (what is not worth a connection of its own). */
async function poll(/** @type {keyof typeof state} */ name, /** @type {string} */ path) {
  for (;;) {
    try {
      const list = await (check(await fetch(path, { headers: HEADERS, credentials: 'same-origin' }))).json();
      const map = state[name];
      map.clear();
      for (const item of list.items ?? []) map.set(keyOf(item), item);
      scheduleRender();
    } catch (error) {
      if (error instanceof SignedOut) {
        window.location.assign('/dashboard/login');
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

for (const [name, path] of WATCHED) void follow(/** @type {keyof typeof state} */ (name), /** @type {string} */ (path));
for (const [name, path] of POLLED) void poll(/** @type {keyof typeof state} */ (name), /** @type {string} */ (path));
setInterval(scheduleRender, 1000); // lease and event ages
