import { escape, get, post } from './api.js';
import { el, phase, show, table } from './dom.js';
import { resources } from './format.js';
import { t } from './i18n.js';
import { guarded } from './ministry.js';
import { session } from './session.js';

const show4 = (r) => ['cpu', 'memory', 'storage', 'instances'].map((name) => `${t(name)} ${resources[name].show(resources[name].of(r))}`).join(' · ');

/** Every node: phase, cordon, zone, capacity and what is allocated. */
export async function nodes() {
  const list = await get('/v1/nodes');
  show(el('h1', {}, t('nodesTitle')),
    table(['name', 'phase', 'cordoned', 'zone', 'allocatable', 'allocated'], list.items.map((node) => [
      el('a', { href: `#/nodes/${encodeURIComponent(node.name)}` }, node.name), phase(node.phase),
      t(node.cordoned ? 'yes' : 'no'), node.labels?.zone ?? '—', show4(node.allocatable), show4(node.allocated),
    ]), 'noNodes'));
}

/** One node: labels, taints, capacity, what is allocated, its instances; an operator cordons, uncordons or drains it. */
export async function node(name, notify) {
  const [info, instances] = await Promise.all([get(`/v1/nodes/${escape(name)}`), get(`/v1/instances?node=${escape(name)}`)]);
  const act = (verb, key) => el('button', {
    type: 'button', id: `${verb}-node`, class: verb === 'drain' ? 'danger' : 'secondary',
    onclick: guarded(async () => {
      if (!window.confirm(t(key, { name }))) return;
      await post(`/v1/nodes/${escape(name)}/${verb}`);
      notify(t('actionDone', { name, action: t(verb) }));
    }),
  }, t(verb));
  show(el('h1', {}, t('nodeTitle', { name })),
    el('dl', { class: 'facts' },
      el('dt', {}, t('phase')), el('dd', {}, phase(info.phase)),
      el('dt', {}, t('cordoned')), el('dd', {}, t(info.cordoned ? 'yes' : 'no')),
      el('dt', {}, t('address')), el('dd', {}, info.address ?? '—'),
      el('dt', {}, t('isolation')), el('dd', {}, info.isolation ?? '—'),
      el('dt', {}, t('labels')), el('dd', {}, Object.entries(info.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '—'),
      el('dt', {}, t('taints')), el('dd', {}, (info.taints ?? []).map((x) => `${x.key}=${x.value ?? ''}:${x.effect}`).join(', ') || '—'),
      el('dt', {}, t('capacity')), el('dd', {}, show4(info.capacity)),
      el('dt', {}, t('allocatable')), el('dd', {}, show4(info.allocatable)),
      el('dt', {}, t('allocated')), el('dd', {}, show4(info.allocated))),
    session.role === 'operator'
      ? el('div', { class: 'actions' }, info.cordoned ? act('uncordon', 'confirmUncordon') : act('cordon', 'confirmCordon'),
        act('drain', 'confirmDrain'))
      : null,
    el('h2', {}, t('instancesTitle')),
    table(['instance', 'ministry', 'application', 'phase'], instances.items.map((i) => [
      i.id, i.ministry, i.application, phase(i.phase),
    ]), 'noInstances'));
}
