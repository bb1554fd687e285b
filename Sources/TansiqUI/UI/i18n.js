// One message catalogue (messages.json) for both languages; Arabic when the browser prefers it.
let catalogue = { ar: {}, en: {} };
let language = 'ar';

export async function loadMessages() {
  const response = await fetch(new URL('messages.json', import.meta.url), { cache: 'no-cache' });
  catalogue = await response.json();
  language = sessionStorage.getItem('tansiq.language') || preferred();
  apply();
}

/** The browser's first preference among Arabic and English (Arabic when neither is named). */
function preferred() {
  for (const tag of navigator.languages || [navigator.language || '']) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'ar' || base === 'en') return base;
  }
  return 'ar';
}

export function currentLanguage() { return language; }

export function setLanguage(next) {
  language = next === 'en' ? 'en' : 'ar';
  sessionStorage.setItem('tansiq.language', language);
  apply();
}

/** `<html lang dir>` and every element that names a message. */
export function apply(root = document) {
  document.documentElement.lang = language;
  document.documentElement.dir = language === 'ar' ? 'rtl' : 'ltr';
  document.title = t('title');
  for (const element of root.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  for (const element of root.querySelectorAll('[data-i18n-label]')) {
    element.setAttribute('aria-label', t(element.dataset.i18nLabel));
  }
}

/** The message `key` in the current language, `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = catalogue[language]?.[key] ?? catalogue.en?.[key];
  if (text === undefined) {
    console.warn(`missing message ${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** True when the catalogue has `key` (for phases and reason codes that may be new). */
export function has(key) { return key in (catalogue[language] || {}); }

const numbers = new Map();
/** A number as the reader writes numbers (Arabic-Indic digits in Arabic); `grouping` false for
 * the number of a quantity, which the command line writes without separators (1500m, 64Mi). */
export function number(value, digits = 0, grouping = true) {
  const key = `${language}/${digits}/${grouping}`;
  if (!numbers.has(key)) {
    numbers.set(key, new Intl.NumberFormat(language === 'ar' ? 'ar-EG' : 'en-GB', {
      maximumFractionDigits: digits, minimumFractionDigits: 0, useGrouping: grouping,
    }));
  }
  return numbers.get(key).format(value);
}

/** A time as the reader writes dates. */
export function time(value) {
  if (!value) return '—';
  return new Intl.DateTimeFormat(language === 'ar' ? 'ar-EG' : 'en-GB', {
    dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC',
  }).format(new Date(value)) + ' UTC';
}

/** A day, short. */
export function day(value) {
  return new Intl.DateTimeFormat(language === 'ar' ? 'ar-EG' : 'en-GB', {
    day: 'numeric', month: 'short', timeZone: 'UTC',
  }).format(value);
}
