import { number, t } from './i18n.js';

// Quantities as the CLI writes them (the API's canonical strings), and their values for bars.

/** Millicores of a cpu quantity: "2", "500m", "0.5". */
export function cpuMillis(text) {
  if (text === undefined || text === null) return 0;
  const value = String(text);
  if (value.endsWith('m')) return Number(value.slice(0, -1));
  return Math.round(Number(value) * 1000);
}

const binary = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Bytes of a memory or storage quantity: "512Mi", "4Gi", "1G", "1024". */
export function bytes(text) {
  if (text === undefined || text === null) return 0;
  const value = String(text);
  for (const [suffix, factor] of Object.entries(binary)) if (value.endsWith(suffix)) return Number(value.slice(0, -2)) * factor;
  for (const [suffix, factor] of Object.entries(decimal)) if (value.endsWith(suffix)) return Number(value.slice(0, -1)) * factor;
  return Number(value);
}

/** A cpu amount in millicores as the CLI writes it: whole cores, else millicores. */
export function cpu(millis) {
  if (millis % 1000 === 0) return number(millis / 1000, 0, false);
  return `${number(millis, 0, false)}m`;
}

/** Bytes as the CLI writes them: the largest binary unit that divides exactly, else plain. */
export function size(value) {
  if (value === 0) return number(0);
  for (const [suffix, factor] of Object.entries(binary).reverse()) {
    if (value >= factor && value % factor === 0) return `${number(value / factor, 0, false)}${suffix}`;
  }
  for (const [suffix, factor] of Object.entries(binary).reverse()) {
    if (value >= factor) return `${number(value / factor, 1, false)}${suffix}`;
  }
  return number(value, 0, false);
}

/** The value of one resource of a Resources object, and how to write it. */
export const resources = {
  cpu: { of: (r) => cpuMillis(r?.cpu), show: cpu },
  memory: { of: (r) => bytes(r?.memory), show: size },
  storage: { of: (r) => bytes(r?.storage), show: size },
  instances: { of: (r) => Number(r?.instances ?? 0), show: (n) => number(n) },
};

/** A phase, translated, with its word always shown (colour is never the only sign). */
export function phaseLabel(phase) {
  const key = `phase.${phase}`;
  const text = t(key);
  return text === key ? phase : text;
}
