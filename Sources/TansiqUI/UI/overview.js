import { get } from './api.js';
import { bar, el, phase, show, table } from './dom.js';
import { resources } from './format.js';
import { number, t, time } from './i18n.js';
import { loadNames, ministryName } from './names.js';

/** The shared data centre at a glance: nodes, capacity, every readable ministry's quota use, what waits and why. */
export async function overview() {
  const [nodes, capacity, quotas, pending, events] = await Promise.all([
    get('/v1/nodes'), get('/v1/capacity'), get('/v1/quotas'), get('/v1/instances?phase=Pending'),
    get('/v1/events'), loadNames(),
  ]);
  const zones = new Map();
  for (const node of nodes.items) {
    const key = `${node.labels?.datacentre ?? '—'}\u0000${node.labels?.zone ?? '—'}`;
    if (!zones.has(key)) zones.set(key, []);
    zones.get(key).push(node);
  }
  const zoneRows = [...zones.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, members]) => {
    const [datacentre, zone] = key.split('\u0000');
    return [datacentre, zone, el('span', {}, members.map((node) => el('span', {},
      el('a', { href: `#/nodes/${encodeURIComponent(node.name)}` }, node.name), ' ', phase(node.phase), ' ')))];
  });
  const total = capacity.total ?? {};
  const capacityBars = ['cpu', 'memory', 'storage', 'instances'].map((name) => {
    const kind = resources[name];
    const allocated = kind.of(total.allocated);
    const allocatable = kind.of(total.allocatable);
    return bar(t(name), allocated, 0, allocatable, t('allocatedOf', {
      used: kind.show(allocated), total: kind.show(allocatable), free: kind.show(kind.of(total.free)),
    }));
  });
  const ministries = quotas.items.map((item) => el('div', { class: 'card' },
    el('h3', {}, el('a', { href: `#/ministries/${encodeURIComponent(item.ministry)}` }, ministryName(item.ministry))),
    ['cpu', 'memory'].map((name) => {
      const kind = resources[name];
      const guaranteed = kind.of(item.guaranteedInUse);
      const borrowed = kind.of(item.borrowed);
      const quota = Math.max(kind.of(item.effective), guaranteed + borrowed);
      return bar(t(name), guaranteed, borrowed, quota, t('quotaUse', {
        used: kind.show(guaranteed + borrowed), quota: kind.show(kind.of(item.effective)), borrowed: kind.show(borrowed),
      }));
    }),
    el('dl', { class: 'facts' },
      el('dt', {}, t('lent')), el('dd', {}, resources.cpu.show(resources.cpu.of(item.lendable)), ' ', t('cpu')),
      el('dt', {}, t('fairShare')), el('dd', {}, t('perMille', { value: number(item.fairShare) })),
      el('dt', {}, t('weight')), el('dd', {}, number(item.weight, 3)),
      item.overQuota ? el('dt', {}, t('overQuota')) : null, item.overQuota ? el('dd', {}, t('yes')) : null)));
  const reasons = new Map();
  for (const instance of pending.items) {
    const code = instance.reasonCode || 'unknown';
    reasons.set(code, (reasons.get(code) ?? 0) + 1);
  }
  const recent = events.items.slice(-15).reverse();
  show(
    el('h1', {}, t('overviewTitle')),
    el('section', { 'aria-labelledby': 'h-zones' }, el('h2', { id: 'h-zones' }, t('nodesByZone')),
      table(['datacentre', 'zone', 'nodes'], zoneRows, 'noNodes')),
    el('section', { 'aria-labelledby': 'h-capacity' }, el('h2', { id: 'h-capacity' }, t('capacityTitle')), capacityBars),
    el('section', { 'aria-labelledby': 'h-quotas' }, el('h2', { id: 'h-quotas' }, t('quotasTitle')),
      el('div', { class: 'cards' }, ministries)),
    el('section', { 'aria-labelledby': 'h-pending' }, el('h2', { id: 'h-pending' }, t('pendingTitle')),
      table(['reasonCode', 'count'], [...reasons.entries()].map(([code, n]) => [t(`code.${code}`), number(n)]), 'noPending')),
    el('section', { 'aria-labelledby': 'h-events' }, el('h2', { id: 'h-events' }, t('eventsTitle')),
      table(['time', 'object', 'reason', 'message'],
        recent.map((event) => [time(event.time), `${event.kind}/${event.name}`, event.reason, event.message]), 'noEvents')));
}
