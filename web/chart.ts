/** A small SVG line chart: a few series over time, the largest value as the scale. */
const NS = 'http://www.w3.org/2000/svg';
const WINDOW_MS = 15 * 60 * 1000;

export interface Series {
  label: string;
  values: Array<number | null>;
}

function el(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export function lineChart(title: string, times: number[], series: Series[], format: (v: number) => string): HTMLElement {
  const W = 1000;
  const H = 220;
  const pad = { l: 4, r: 4, t: 8, b: 18 };
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  // Always the whole window, so a young server's few samples sit at the right, where "now" is.
  const t1 = Math.max(Date.now(), times[times.length - 1] ?? 0);
  const t0 = t1 - WINDOW_MS;
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / max) * (H - pad.t - pad.b);
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, class: 'chart' });
  for (const f of [0, 0.5, 1]) svg.append(el('line', { x1: pad.l, x2: W - pad.r, y1: y(max * f), y2: y(max * f), class: 'grid' }));
  series.forEach((s, i) => {
    if (s.values.length === 1 && s.values[0] !== null) svg.append(el('circle', { cx: x(times[0]), cy: y(s.values[0]), r: 3, class: `dot s${i}` }));
    let d = '';
    s.values.forEach((v, j) => {
      if (v === null || times[j] === undefined) return;
      d += `${d === '' || s.values[j - 1] === null ? 'M' : 'L'}${x(times[j]).toFixed(1)},${y(v).toFixed(1)}`;
    });
    if (d) svg.append(el('path', { d, class: `line s${i}` }));
  });
  const label = el('text', { x: W - pad.r, y: pad.t + 10, 'text-anchor': 'end', class: 'axis' });
  label.textContent = `max ${format(max)}`;
  const from = el('text', { x: pad.l, y: H - 4, class: 'axis' });
  from.textContent = new Date(t0).toLocaleTimeString('en-GB');
  const to = el('text', { x: W - pad.r, y: H - 4, 'text-anchor': 'end', class: 'axis' });
  to.textContent = new Date(t1).toLocaleTimeString('en-GB');
  svg.append(label, from, to);
  const legend = document.createElement('ul');
  legend.className = 'legend';
  series.forEach((s, i) => {
    const li = document.createElement('li');
    li.className = `s${i}`;
    const last = [...s.values].reverse().find((v) => v !== null);
    li.textContent = `${s.label}${last === undefined || last === null ? '' : ` ${format(last)}`}`;
    legend.append(li);
  });
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.append(cap, svg, legend);
  return fig;
}
