// kvorum web console: polls GET /admin/overview about every second and draws it (render.js).
// With --auth-file the node wants an admin token: the page asks for it, keeps it in
// sessionStorage (this tab only) and sends it as a Bearer token. No external resource.
import { coloursOf, renderAntiEntropy, renderMembers, renderRing, renderSpark, renderTransfers } from './render.js';

const pollIntervalMs = 1000;
const requestTimeoutMs = 5000;
const historySlots = 60;
const tokenKey = 'kvorum-admin-token';

const $ = (id) => document.getElementById(id);
/** The last polls: time, and each reachable member's request totals. */
const history = [];

function showProblem(text) {
  $('problem').hidden = text === undefined;
  $('problem').textContent = text ?? '';
}

function askForToken(text) {
  showProblem(text);
  $('auth').hidden = false;
}

/** Requests served between two polls, summed over the members in both; null when none is. */
function intervalStats(before, after) {
  const seconds = (after.atMs - before.atMs) / 1000;
  let count = 0;
  let sum = 0;
  let members = 0;
  const buckets = new Map();
  const rates = new Map();
  for (const [id, now] of after.requests) {
    const then = before.requests.get(id);
    if (!then || now.count < then.count) continue; // new, or restarted
    members++;
    count += now.count - then.count;
    sum += now.latencySecondsSum - then.latencySecondsSum;
    rates.set(id, (now.count - then.count) / seconds);
    for (const b of now.buckets) buckets.set(b.le, (buckets.get(b.le) ?? 0) + b.count - (then.buckets.find((x) => x.le === b.le)?.count ?? 0));
  }
  if (members === 0 || seconds <= 0) return { rate: null, meanMs: null, p99Ms: null, rates };
  const target = count * 0.99;
  const p99 = [...buckets].sort(([a], [b]) => (a ?? Infinity) - (b ?? Infinity)).find(([, n]) => n >= target);
  return { rate: count / seconds, meanMs: count > 0 ? (1000 * sum) / count : null, p99Ms: count > 0 && p99 && p99[0] !== null ? 1000 * p99[0] : null, rates };
}

function record(view) {
  const requests = new Map(view.members.filter((m) => m.requests !== null).map((m) => [m.id, m.requests]));
  history.push({ atMs: performance.now(), requests });
  if (history.length > historySlots + 1) history.shift();
}

function drawTraffic() {
  const stats = history.slice(1).map((h, i) => intervalStats(history[i], h));
  const last = stats.at(-1);
  for (const [name, key, digits] of [['rate', 'rate', 1], ['mean', 'meanMs', 2], ['p99', 'p99Ms', 1]]) {
    renderSpark($(`${name}-spark`), stats.map((s) => s[key]), historySlots);
    $(`${name}-now`).textContent = last?.[key] == null ? '–' : last[key].toFixed(digits);
  }
  return last?.rates ?? new Map();
}

function draw(view) {
  record(view);
  const colours = coloursOf(view.members);
  const up = view.members.filter((m) => m.status === 'up').length;
  $('summary').textContent = `asked ${view.node} · ${up}/${view.members.length} members up · ring version ${view.ringVersion} · claimant ${view.claimant}`;
  $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  $('ring-caption').textContent = `(primary owner of each of ${view.partitions} partitions)`;
  renderRing($('ring'), $('legend'), view, colours);
  renderMembers($('members').tBodies[0], view, drawTraffic());
  renderAntiEntropy($('anti-entropy').tBodies[0], view);
  renderTransfers($('transfers').tBodies[0], $('transfers-caption'), view.transfers);
}

async function pollOnce() {
  const token = sessionStorage.getItem(tokenKey);
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  let res;
  try {
    res = await fetch('/admin/overview', { headers, cache: 'no-store', signal: AbortSignal.timeout(requestTimeoutMs) });
  } catch (err) {
    return showProblem(`Cannot reach this node: ${err.message}`);
  }
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) return askForToken(`401 unauthorized: ${token ? 'the token was refused' : 'this node needs an admin token'} (${body.message ?? body.error ?? ''})`);
  if (res.status === 403) return askForToken(`403 forbidden: the token is not an admin token (${body.message ?? body.error ?? ''})`);
  if (!res.ok) return showProblem(`HTTP ${res.status} ${body.error ?? ''}: ${body.message ?? ''}`);
  showProblem(undefined);
  $('auth').hidden = true;
  draw(body);
}

/** Polls forever, one request at a time: the next one starts pollIntervalMs after an answer. */
async function poll() {
  try {
    await pollOnce();
  } finally {
    setTimeout(poll, pollIntervalMs);
  }
}

$('auth').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(tokenKey, $('token').value.trim());
  $('token').value = '';
  showProblem('checking the token…');
});
$('forget').addEventListener('click', () => sessionStorage.removeItem(tokenKey));
poll();
