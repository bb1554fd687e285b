import { el } from './dom.js';
import { day, number, t } from './i18n.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

/**
 * Stacked daily columns: guaranteed (solid) and borrowed (hatched) for each day, with the largest
 * day's total written on the axis and each column's numbers in its title (shown on hover and read
 * by assistive technology). Drawn as SVG, mirrored for right-to-left by the page's direction.
 */
export function dailyChart(what, days, rtl) {
  const width = 640;
  const height = 180;
  const top = 16;
  const bottom = 28;
  const left = 8;
  const most = Math.max(1e-9, ...days.map((d) => d.guaranteed + d.borrowed));
  const step = (width - 2 * left) / Math.max(1, days.length);
  const scale = (height - top - bottom) / most;
  const x = (index) => (rtl ? width - left - (index + 1) * step : left + index * step);
  const columns = days.map((d, index) => {
    const gHeight = d.guaranteed * scale;
    const bHeight = d.borrowed * scale;
    const base = height - bottom;
    return svg('g', {},
      svg('title', {}, `${day(d.date)}: ${t('guaranteed')} ${number(d.guaranteed, 1)}, ${t('borrowed')} ${number(d.borrowed, 1)}`),
      svg('rect', { x: x(index) + 1, y: base - gHeight, width: step - 2, height: gHeight, fill: '#0b5cad' }),
      svg('rect', { x: x(index) + 1, y: base - gHeight - bHeight, width: step - 2, height: bHeight, fill: 'url(#hatch)' }));
  });
  const labels = days.filter((_, index) => index % 7 === 0 || index === days.length - 1).map((d) => {
    const index = days.indexOf(d);
    return svg('text', { x: x(index) + step / 2, y: height - 8, 'text-anchor': 'middle' }, day(d.date));
  });
  const chart = svg('svg', {
    class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': t('chartLabel', { what }),
  },
  svg('defs', {}, svg('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
    svg('rect', { width: 6, height: 6, fill: '#c57a1f' }), svg('rect', { width: 3, height: 6, fill: '#8a4b00' }))),
  svg('line', { x1: left, x2: width - left, y1: height - bottom, y2: height - bottom, stroke: '#4a5360' }),
  svg('text', { x: rtl ? width - left : left, y: 11, 'text-anchor': rtl ? 'end' : 'start' }, number(most, 1)),
  columns, labels);
  return el('figure', {}, el('figcaption', {}, what), chart,
    el('div', { class: 'legend' },
      el('span', {}, swatch('#0b5cad'), t('guaranteed')), el('span', {}, swatch('#c57a1f'), t('borrowed'))));
}

function swatch(colour) {
  const element = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  element.style.background = colour;
  return element;
}
