import { ApiError, escape, get, post } from './api.js';
import { dailyChart } from './chart.js';
import { bar, el, phase, show, table } from './dom.js';
import { resources } from './format.js';
import { currentLanguage, number, t, time } from './i18n.js';
import { loadNames, ministryName } from './names.js';
import { session } from './session.js';

/** Every ministry the caller may read. */
export async function ministries() {
  const items = await loadNames();
  show(el('h1', {}, t('ministriesTitle')),
    table(['ministry', 'code', 'fairShare', 'weight'], items.map((m) => [
      el('a', { href: `#/ministries/${encodeURIComponent(m.metadata.name)}` }, ministryName(m.metadata.name)),
      m.spec.code, t('perMille', { value: number(m.status?.fairShare ?? 0) }), number(m.spec.weight ?? 1, 3),
    ]), 'notFound'));
}

/** One ministry: applications, instances, quota and fair share, 30 days of use, capacity requests. */
export async function ministry(name, notify) {
  await loadNames();
  const m = escape(name);
  const [info, apps, instances, quotas, requests] = await Promise.all([
    get(`/v1/ministries/${m}`), get(`/v1/ministries/${m}/applications`), get(`/v1/instances?ministry=${m}`),
    get('/v1/quotas'), get('/v1/capacity-requests'),
  ]);
  const quota = quotas.items.find((q) => q.ministry === name);
  const days = await usage(name);
  const mine = requests.items.filter((r) => r.metadata.ministry === name)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  show(
    el('h1', {}, ministryName(name)),
    el('p', { class: 'muted' }, `${info.spec.code} · ${name}`),
    el('section', { 'aria-labelledby': 'h-apps' }, el('h2', { id: 'h-apps' }, t('applications')),
      table(['application', 'ready', 'rollout', 'imageDigest'], apps.items.map((app) => [
        app.metadata.name, t('readyOf', { ready: number(app.status?.ready ?? 0), desired: number(app.spec.replicas) }),
        app.status?.rollout ? phase(app.status.rollout) : '—', app.status?.imageDigest ? app.status.imageDigest.slice(0, 19) : '—',
      ]), 'noApplications')),
    el('section', { 'aria-labelledby': 'h-instances' }, el('h2', { id: 'h-instances' }, t('instancesTitle')),
      table(['instance', 'phase', 'node', 'reason'], instances.items.map((i) => [
        i.id, phase(i.phase), i.node ? el('a', { href: `#/nodes/${encodeURIComponent(i.node)}` }, i.node) : '—',
        i.reasonCode ? `${t(`code.${i.reasonCode}`)} — ${i.reason ?? ''}` : (i.reason ?? ''),
      ]), 'noInstances')),
    quota ? el('section', { 'aria-labelledby': 'h-quota' }, el('h2', { id: 'h-quota' }, t('quotaTitle')),
      ['cpu', 'memory', 'storage', 'instances'].map((resource) => {
        const kind = resources[resource];
        const guaranteed = kind.of(quota.guaranteedInUse);
        const borrowed = kind.of(quota.borrowed);
        return bar(t(resource), guaranteed, borrowed, Math.max(kind.of(quota.effective), guaranteed + borrowed),
          t('quotaUse', { used: kind.show(guaranteed + borrowed), quota: kind.show(kind.of(quota.effective)), borrowed: kind.show(borrowed) }));
      }),
      el('dl', { class: 'facts' },
        el('dt', {}, t('fairShare')), el('dd', {}, t('perMille', { value: number(quota.fairShare) })),
        el('dt', {}, t('weight')), el('dd', {}, number(quota.weight, 3)))) : null,
    el('section', { 'aria-labelledby': 'h-usage' }, el('h2', { id: 'h-usage' }, t('usageTitle')),
      dailyChart(t('usageCpu'), days.map((d) => ({ date: d.date, guaranteed: d.cpu.guaranteed, borrowed: d.cpu.borrowed })), currentLanguage() === 'ar'),
      dailyChart(t('usageMemory'), days.map((d) => ({ date: d.date, guaranteed: d.memory.guaranteed, borrowed: d.memory.borrowed })), currentLanguage() === 'ar')),
    el('section', { 'aria-labelledby': 'h-requests' }, el('h2', { id: 'h-requests' }, t('requestsTitle')),
      table(['request', 'phase', 'add', 'reason', 'requestedBy', 'decidedBy', 'action'], mine.map((r) => [
        r.metadata.name, phase(r.status?.phase ?? 'Pending'), addition(r.spec.add), r.spec.reason,
        r.status?.requestedBy ?? "—", r.status?.decidedBy ?? "—", decision(r, notify),
      ]), 'noRequests'),
      session.role === 'operator' || (session.role === 'ministry-admin' && session.ministry === name)
        ? requestForm(name, notify) : null));
}

/** Daily use of the last 30 days, guaranteed and borrowed, from /v1/usage one day at a time. */
async function usage(name) {
  const today = new Date();
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1);
  const days = [];
  for (let i = 29; i >= 0; i -= 1) days.push(new Date(end - (i + 1) * 86400000));
  const reports = await Promise.all(days.map((from) => get(
    `/v1/usage?from=${from.toISOString().replace('.000', '')}&to=${new Date(from.getTime() + 86400000).toISOString().replace('.000', '')}`)));
  return days.map((date, index) => {
    const item = reports[index].items.find((u) => u.ministry === name);
    return {
      date,
      cpu: { guaranteed: item?.guaranteed?.cpuCoreHours ?? 0, borrowed: item?.borrowed?.cpuCoreHours ?? 0 },
      memory: { guaranteed: item?.guaranteed?.memoryGiBHours ?? 0, borrowed: item?.borrowed?.memoryGiBHours ?? 0 },
    };
  });
}

function addition(add) {
  return ['cpu', 'memory', 'storage', 'instances'].filter((r) => add?.[r] !== undefined)
    .map((r) => `${t(r)} ${resources[r].show(resources[r].of(add))}`).join(currentLanguage() === 'ar' ? '، ' : ', ');
}

/** Approve or deny, with a comment: operators only, pending requests only. */
function decision(request, done) {
  if (session.role !== 'operator' || (request.status?.phase ?? 'Pending') !== 'Pending') return '—';
  const name = request.metadata.name;
  const commentId = `comment-${name}`;
  const act = (verb) => async () => {
    if (!window.confirm(t(verb === 'approve' ? 'confirmApprove' : 'confirmDeny', { name }))) return;
    const comment = document.getElementById(commentId).value;
    const result = await post(`/v1/capacity-requests/${escape(name)}/${verb}`, { comment });
    done(t('decided', { name, phase: t(`phase.${result.status?.phase ?? (verb === 'approve' ? 'Approved' : 'Denied')}`) }));
  };
  return el('div', { class: 'decision', role: 'group', 'aria-label': t('decisionFor', { name }) },
    el('label', { for: commentId }, t('comment')), ' ',
    el('input', { id: commentId, name: 'comment', type: 'text' }),
    el('div', { class: 'actions' },
      el('button', { type: 'button', id: `approve-${name}`, onclick: guarded(act('approve')) }, t('approve')),
      el('button', { type: 'button', class: 'danger', id: `deny-${name}`, onclick: guarded(act('deny')) }, t('deny'))));
}

/** The form a ministry-admin (or an operator) files a capacity request with. */
function requestForm(ministryName, notify) {
  const field = (id, key, attributes = {}) => el('label', { for: id }, t(key), el('input', { id, name: id, type: 'text', ...attributes }));
  const form = el('form', { class: 'stack', id: 'request-form' },
    el('h3', {}, t('fileRequestTitle')),
    field('request-cpu', 'requestCpu', { inputmode: 'decimal' }),
    field('request-memory', 'requestMemory'),
    field('request-storage', 'requestStorage'),
    field('request-instances', 'requestInstances', { inputmode: 'numeric' }),
    el('label', { for: 'request-reason' }, t('requestReason'), el('textarea', { id: 'request-reason', name: 'reason', required: true, rows: 2 })),
    field('request-until', 'requestUntil'),
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'request-submit' }, t('fileRequest'))));
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    const value = (id) => document.getElementById(id).value.trim();
    const add = {};
    if (value('request-cpu')) add.cpu = value('request-cpu');
    if (value('request-memory')) add.memory = value('request-memory');
    if (value('request-storage')) add.storage = value('request-storage');
    if (value('request-instances')) add.instances = Number(value('request-instances'));
    const spec = { add, reason: value('request-reason') };
    if (value('request-until')) spec.until = value('request-until').length === 10 ? `${value('request-until')}T00:00:00Z` : value('request-until');
    const created = await post('/v1/capacity-requests', { metadata: { ministry: ministryName }, spec });
    notify(t('requestFiled', { name: created.metadata.name }));
  }));
  return form;
}

/** Runs `action`, showing an API refusal in the page, in the reader's language. */
export function guarded(action) {
  return async (...args) => {
    try {
      await action(...args);
    } catch (error) {
      window.dispatchEvent(new CustomEvent('tansiq-error', { detail: error instanceof ApiError ? error : new ApiError(0, 'unreachable', String(error)) }));
    }
  };
}
