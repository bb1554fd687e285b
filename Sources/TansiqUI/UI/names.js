import { get } from './api.js';
import { currentLanguage } from './i18n.js';

// Ministries by their display names in the reader's language.
let display = new Map();

export async function loadNames() {
  const ministries = await get('/v1/ministries');
  display = new Map(ministries.items.map((m) => [m.metadata.name, m.spec.displayName]));
  return ministries.items;
}

export function ministryName(name) {
  const names = display.get(name);
  if (!names) return name;
  return (currentLanguage() === 'ar' ? names.ar : names.en) || name;
}
