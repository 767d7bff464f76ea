/**
 * The one chart of the benchmark — delivery lag against KIE polls per task,
 * one point per poller — as hand-written SVG: no dependency, diffable in
 * git, rendered by GitHub inline in RESULTS.md.
 *
 * Lag goes on a log axis because the pollers differ by an order of magnitude
 * (a 30 s poller waits ~15 s, the adaptive one ~1.5 s) and both must stay
 * readable. Each point is the p50; a whisker runs up to the p95 with a tick
 * at the p99. Dashed lines mark the lag targets.
 *
 * Each point carries only its name; its note (e.g. its polling cost) goes in
 * a legend at the top right. With four pollers, two of them at the same
 * polls per task, notes beside the points ran into each other's points and
 * whiskers; the top right stays empty because many polls never come with a
 * lag of many seconds.
 */

export interface ChartPoint {
  label: string;
  /** CSS colour of the point and its whisker. */
  color: string;
  /** Polls per task (x). */
  x: number;
  /** Lag percentiles (y), in the axis unit. */
  p50: number;
  p95: number;
  p99: number;
  /** Said of it in the legend, after the label (e.g. "1 poll / 4.6 s of task time"). */
  note?: string;
}

export interface ChartLine {
  y: number;
  label: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Horizontal reference lines (targets). */
  lines?: readonly ChartLine[];
  width?: number;
  height?: number;
}

const MARGIN = { top: 48, right: 28, bottom: 56, left: 68 } as const;
/** Rough width of a character of the 12 px text (bold: the labels), and the gap between a point and its label. */
const CHAR_PX = 6.5;
const BOLD_CHAR_PX = 7.2;
const LABEL_GAP = 12;
/** Legend: height of a row, and the padding inside its box. */
const LEGEND_ROW = 18;
const LEGEND_PAD = 8;

/** Text safe inside SVG elements and attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** A number short enough for an axis label: 0.1, 2, 15, 1.5k. */
export function formatTick(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** "Nice" linear ticks (steps of 1, 2 or 5 × 10^k) covering [0, max]. */
export function linearTicks(max: number, count = 6): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const raw = top / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < top) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** Log ticks at 1, 2, 5 × 10^k spanning [min, max] (both > 0), widened to whole ticks. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const all: number[] = [];
  for (let k = lo; k <= hi; k++) for (const m of [1, 2, 5]) all.push(Number((m * 10 ** k).toPrecision(12)));
  const first = all.filter((t) => t <= min).pop() ?? all[0]!;
  const last = all.find((t) => t >= max) ?? all[all.length - 1]!;
  return all.filter((t) => t >= first && t <= last);
}

/** The legend box, its top right corner at (right, top) inside the plot: per point a dot, the label, and its note in a column of its own. */
function legend(points: readonly ChartPoint[], right: number, top: number): string[] {
  if (points.length === 0) return [];
  const longest = (texts: readonly string[]): number => Math.max(0, ...texts.map((t) => t.length));
  const labelsW = longest(points.map((p) => p.label)) * BOLD_CHAR_PX + LABEL_GAP;
  const width = 2 * LEGEND_PAD + 16 + labelsW + longest(points.map((p) => p.note ?? '')) * CHAR_PX;
  const height = points.length * LEGEND_ROW + LEGEND_PAD;
  const x = right - LEGEND_PAD - width;
  const y = top + LEGEND_PAD;
  const f = (n: number): string => n.toFixed(1);
  return [
    `<g>`,
    `<rect x="${f(x)}" y="${f(y)}" width="${f(width)}" height="${f(height)}" fill="#ffffff" fill-opacity="0.9" stroke="#cccccc"/>`,
    ...points.flatMap((p, i) => {
      const row = y + LEGEND_PAD / 2 + (i + 0.5) * LEGEND_ROW;
      const textX = x + LEGEND_PAD + 16;
      return [
        `<circle cx="${f(x + LEGEND_PAD + 5)}" cy="${f(row)}" r="5" fill="${p.color}"/>`,
        `<text x="${f(textX)}" y="${f(row + 4)}" font-weight="600" fill="${p.color}">${escapeXml(p.label)}</text>`,
        ...(p.note ? [`<text x="${f(textX + labelsW)}" y="${f(row + 4)}" fill="#555">${escapeXml(p.note)}</text>`] : []),
      ];
    }),
    `</g>`,
  ];
}

/** The chart as a standalone SVG document. Points with a non-positive or non-finite lag are left out. */
export function renderLagChart(points: readonly ChartPoint[], options: ChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 460;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const usable = points.filter((p) => [p.x, p.p50, p.p95, p.p99].every((v) => Number.isFinite(v) && v > 0));
  const lines = options.lines ?? [];

  const ys = [...usable.flatMap((p) => [p.p50, p.p95, p.p99]), ...lines.map((l) => l.y)].filter((v) => v > 0);
  // Room below the lowest point for its label.
  const yTicks = logTicks(Math.min(...ys, 1) / 1.6, Math.max(...ys, 1));
  const yMin = yTicks[0]!;
  const yMax = yTicks[yTicks.length - 1]!;
  // Wide enough that every label fits to the right of its point, so labels of close points never cross.
  const labelWidth = (p: ChartPoint): number => p.label.length * BOLD_CHAR_PX + LABEL_GAP;
  const room = (p: ChartPoint): number => Math.max(0.5, (plotW - labelWidth(p)) / plotW);
  const xTicks = linearTicks(Math.max(1, ...usable.map((p) => (p.x * 1.05) / room(p))));
  const xMax = xTicks[xTicks.length - 1]!;

  const sx = (x: number): number => MARGIN.left + (x / xMax) * plotW;
  const sy = (y: number): number =>
    MARGIN.top + plotH - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  const f = (n: number): string => n.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(options.title)}</text>`,
  );
  // Grid and axes.
  for (const t of yTicks) {
    out.push(
      `<line x1="${MARGIN.left}" y1="${f(sy(t))}" x2="${MARGIN.left + plotW}" y2="${f(sy(t))}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${f(sy(t) + 4)}" text-anchor="end" fill="#444">${formatTick(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    out.push(
      `<line x1="${f(sx(t))}" y1="${MARGIN.top}" x2="${f(sx(t))}" y2="${MARGIN.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${f(sx(t))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle" fill="#444">${formatTick(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 14}" text-anchor="middle" fill="#222">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#222">${escapeXml(options.yLabel)}</text>`,
  );
  // Target lines.
  for (const line of lines) {
    if (!(line.y >= yMin && line.y <= yMax)) continue;
    out.push(
      `<line x1="${MARGIN.left}" y1="${f(sy(line.y))}" x2="${MARGIN.left + plotW}" y2="${f(sy(line.y))}" stroke="#c0392b" stroke-dasharray="6 4"/>`,
      // At the left edge: the pollers' labels sit right of their points, and few polls per task never come with a low lag.
      `<text x="${MARGIN.left + 6}" y="${f(sy(line.y) - 5)}" text-anchor="start" fill="#c0392b">${escapeXml(line.label)}</text>`,
    );
  }
  // Points: p50 dot, whisker to p95, tick at p99, label beside.
  for (const p of usable) {
    const x = sx(p.x);
    // Right of the point unless the longer line would leave the plot.
    const labelLeft = x + labelWidth(p) > MARGIN.left + plotW;
    const lx = labelLeft ? x - LABEL_GAP : x + LABEL_GAP;
    const anchor = labelLeft ? 'end' : 'start';
    out.push(
      `<g>`,
      `<line x1="${f(x)}" y1="${f(sy(p.p50))}" x2="${f(x)}" y2="${f(sy(p.p95))}" stroke="${p.color}" stroke-width="3" stroke-linecap="round"/>`,
      `<line x1="${f(x - 7)}" y1="${f(sy(p.p95))}" x2="${f(x + 7)}" y2="${f(sy(p.p95))}" stroke="${p.color}" stroke-width="2"/>`,
      `<line x1="${f(x - 4)}" y1="${f(sy(p.p99))}" x2="${f(x + 4)}" y2="${f(sy(p.p99))}" stroke="${p.color}" stroke-width="1.5"/>`,
      `<circle cx="${f(x)}" cy="${f(sy(p.p50))}" r="6" fill="${p.color}" stroke="#fff" stroke-width="1.5"/>`,
      `<text x="${f(lx)}" y="${f(sy(p.p50) + 4)}" text-anchor="${anchor}" font-weight="600" fill="${p.color}">${escapeXml(p.label)}</text>`,
      `</g>`,
    );
  }
  out.push(...legend(usable, MARGIN.left + plotW, MARGIN.top));
  out.push(
    `<text x="${MARGIN.left + 6}" y="${MARGIN.top + 16}" fill="#555">dot = p50 · bar = p95 · small tick = p99</text>`,
    `</svg>`,
  );
  return `${out.join('\n')}\n`;
}
