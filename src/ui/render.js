// Drawing the overview (GET /admin/overview) into the page. Every text from the server goes in
// through textContent or an attribute, never as markup: member ids and URLs are data.
const svgNs = 'http://www.w3.org/2000/svg';
const palette = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#f97316', '#64748b'];

/** One colour per member, by its place among the members sorted by id. */
export function coloursOf(members) {
  const ids = members.map((m) => m.id).sort();
  return new Map(ids.map((id, i) => [id, palette[i % palette.length]]));
}

function el(name, attrs = {}, text) {
  const node = name.startsWith('svg:') ? document.createElementNS(svgNs, name.slice(4)) : document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function cell(text, className) {
  return el('td', className ? { class: className } : {}, text);
}

/** The arc of partition `p` of `count` as an SVG path: an annulus sector between radii 60 and 100. */
function sectorPath(p, count) {
  const gap = count > 1 ? 0 : 0.0001;
  const a0 = (2 * Math.PI * p) / count - Math.PI / 2;
  const a1 = (2 * Math.PI * (p + 1)) / count - Math.PI / 2 - gap;
  const [r0, r1] = [60, 100];
  const pt = (r, a) => `${(r * Math.cos(a)).toFixed(3)} ${(r * Math.sin(a)).toFixed(3)}`;
  const large = a1 - a0 > Math.PI ? 1 : 0;
  return `M ${pt(r1, a0)} A ${r1} ${r1} 0 ${large} 1 ${pt(r1, a1)} L ${pt(r0, a1)} A ${r0} ${r0} 0 ${large} 0 ${pt(r0, a0)} Z`;
}

export function renderRing(svg, legend, view, colours) {
  const parts = view.ring.map(({ partition, owners, pending }) => {
    const path = el('svg:path', { d: sectorPath(partition, view.ring.length), fill: colours.get(owners[0]) ?? '#ccc', class: pending.length > 0 ? 'partition moving' : 'partition', 'data-partition': partition, 'data-owner': owners[0] ?? '' });
    path.append(el('svg:title', {}, `partition ${partition}: ${owners.join(', ')}${pending.length > 0 ? ` (moving to ${pending.join(', ')})` : ''}`));
    return path;
  });
  svg.replaceChildren(...parts, el('svg:text', { x: 0, y: -4 }, `${view.partitions} partitions`), el('svg:text', { x: 0, y: 12 }, `N=${view.n}, ring v${view.ringVersion}`));
  const primaries = new Map();
  for (const { owners } of view.ring) primaries.set(owners[0], (primaries.get(owners[0]) ?? 0) + 1);
  legend.replaceChildren(...view.members.map((m) => {
    const item = el('li');
    const swatch = el('svg:svg', { class: 'swatch', viewBox: '0 0 12 12' });
    swatch.append(el('svg:rect', { width: 12, height: 12, rx: 3, fill: colours.get(m.id) }));
    item.append(swatch, el('span', {}, `${m.id} (${primaries.get(m.id) ?? 0} primary)`));
    return item;
  }));
}

const fixed = (value, digits) => (value === null || value === undefined ? '–' : Number(value).toFixed(digits));

function uptimeText(seconds) {
  if (seconds === null) return '–';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h`;
}

export function renderMembers(tbody, view, ratesByMember) {
  tbody.replaceChildren(...view.members.map((m) => {
    const status = m.reachable || m.status !== 'up' ? m.status : 'unreachable';
    const row = el('tr', { 'data-member': m.id, 'data-status': m.status, 'data-reachable': m.reachable, class: m.status === 'down' ? 'down' : '' });
    const badge = el('td');
    badge.append(el('span', { class: `badge ${status}` }, status));
    const rate = ratesByMember.get(m.id);
    row.append(cell(m.id), cell(m.membership), badge, cell(fixed(m.phi, 2), 'num'), cell(m.ringVersion ?? '–', 'num'), cell(m.url ?? '–'),
      cell(m.hintsHeld ?? '–', 'num'), cell(m.hintsFor, 'num'), cell(rate === undefined ? '–' : rate.toFixed(1), 'num'), cell(uptimeText(m.uptimeSeconds), 'num'));
    return row;
  }));
}

function lagText(ms) {
  if (ms === null) return 'none yet';
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export function renderAntiEntropy(tbody, view) {
  tbody.replaceChildren(...view.members.map((m) => {
    const ae = m.antiEntropy;
    const row = el('tr', { 'data-member': m.id });
    if (ae === null) {
      row.append(cell(m.id), cell('unreachable'), cell('–', 'num'), cell('–', 'num'), cell(''));
      return row;
    }
    const peers = ae.peers.map((p) => `${p.peer} ${lagText(p.sinceLastMs)} ago (${p.lastKeysRepaired} repaired)`).join(' · ');
    row.append(cell(m.id), cell(lagText(ae.sinceLastMs)), cell(ae.exchanges, 'num'), cell(ae.keysRepaired, 'num'), cell(peers || '–'));
    return row;
  }));
}

function bytesText(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function renderTransfers(tbody, caption, transfers) {
  caption.textContent = transfers.partitionsMoving === 0 ? '(none: the ring is settled)' : `(${transfers.partitionsMoving} partitions moving, ${transfers.keysLeft} keys left, ETA ${transfers.etaSeconds ?? '?'} s)`;
  tbody.replaceChildren(...transfers.transfers.map((t) => {
    const bar = el('progress', { max: Math.max(1, t.keysTotal ?? t.keys), 'data-partition': t.partition });
    bar.value = t.state === 'done' ? bar.max : t.keys;
    const progress = el('td');
    progress.append(bar);
    const row = el('tr', { 'data-partition': t.partition, 'data-state': t.state });
    row.append(cell(t.partition, 'num'), cell(t.leaving.join(', ') || '–'), cell(t.to), cell(t.state), progress,
      cell(`${t.keys} / ${t.keysTotal ?? '?'}`, 'num'), cell(bytesText(t.bytes), 'num'), cell(t.etaSeconds === null ? '–' : `${t.etaSeconds} s`, 'num'));
    return row;
  }));
}

/** A sparkline of `values` (null: no value, left out) scaled to the SVG's 300x60 box. */
export function renderSpark(svg, values, slots) {
  const known = values.filter((v) => v !== null);
  const top = Math.max(1e-9, ...known);
  const points = values.map((v, i) => (v === null ? null : `${((300 * (i + slots - values.length)) / Math.max(1, slots - 1)).toFixed(1)},${(58 - (56 * v) / top).toFixed(1)}`)).filter((p) => p !== null);
  svg.replaceChildren(el('svg:polyline', { points: points.join(' ') }));
}
