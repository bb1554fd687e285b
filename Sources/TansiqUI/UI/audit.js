import { get } from './api.js';
import { el, show, table } from './dom.js';
import { t, time } from './i18n.js';
import { session } from './session.js';

let filters = { subject: '', action: '', object: '' };

/** The audit log (auditors and operators), the newest first, filtered by subject, action and object. */
export async function audit() {
  if (session.role !== 'operator' && session.role !== 'auditor') {
    show(el('h1', {}, t('auditTitle')), el('p', {}, t('notAllowed')));
    return;
  }
  const records = [];
  let after = 0;
  for (let page = 0; page < 20; page += 1) {
    const answer = await get(`/v1/audit?after=${after}&limit=5000`);
    records.push(...answer.items);
    if (answer.items.length < 5000) break;
    after = answer.next;
  }
  const matches = records.filter((r) => (!filters.subject || r.subject === filters.subject)
    && (!filters.action || r.action === filters.action)
    && (!filters.object || r.object.includes(filters.object))).reverse().slice(0, 500);
  const field = (id, key, value, list) => el('label', { for: id }, t(key),
    el('input', { id, name: id, type: 'text', value, list }));
  const form = el('form', { class: 'actions', id: 'audit-filter' },
    field('filter-subject', 'filterSubject', filters.subject),
    field('filter-action', 'filterAction', filters.action, 'audit-actions'),
    field('filter-object', 'filterObject', filters.object),
    el('datalist', { id: 'audit-actions' }, [...new Set(records.map((r) => r.action))].sort().map((a) => el('option', { value: a }))),
    el('button', { type: 'submit' }, t('filter')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    filters = {
      subject: document.getElementById('filter-subject').value.trim(),
      action: document.getElementById('filter-action').value.trim(),
      object: document.getElementById('filter-object').value.trim(),
    };
    audit();
  });
  show(el('h1', {}, t('auditTitle')), form,
    table(['seq', 'time', 'subject', 'role', 'action', 'object', 'result', 'message'],
      matches.map((r) => [String(r.seq), time(r.time), r.subject, r.role, r.action, r.object, r.result, r.message ?? '']), 'noAudit'));
}
