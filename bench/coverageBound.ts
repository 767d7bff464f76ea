/**
 * How many status reads per second any polling schedule needs, at least,
 * to see a share `share` of tasks within `lagS` seconds of finishing, when
 * each task's finish is uniform over a known window — a lower bound the
 * learned-timings report sets beside the measured runs (issue 11).
 *
 * One task first. A check at time c sees a finish in (previous check, c];
 * for the lag to be ≤ L there must be a check within L after the finish.
 * Checks stop once one finds the task done, so a check at c costs only the
 * chance the task is still running, S(c). Covering a stretch of the window
 * with checks L apart therefore costs ∫S/L over it (plus the first check,
 * which also sees, late, a task that finished before the stretch), and the
 * cheapest stretch holding a share p of the finishes is the last p·W
 * seconds, where S is smallest: 1 + p²·W / 2L checks on average.
 *
 * Many tasks, one overall share: the marginal cost of p for a task is
 * p·W / L, so the cheapest mix covers the same length x = p·W of every
 * window (p = min(1, x / W)), with x found by bisection.
 *
 * Per second: `arrivalsPerS` tasks of this mix arriving steadily (a
 * schedule that treats tasks alike whenever they arrive). Reads beyond this
 * are what a real schedule pays for not knowing exactly where a task is
 * in its window, and for waits when reads bunch up.
 */
export function minReadsPerSecond(windowsS: readonly number[], arrivalsPerS: number, share: number, lagS: number): number {
  const n = windowsS.length;
  if (n === 0) return 0;
  const need = share * n;
  const covered = (x: number): number => windowsS.reduce((s, w) => s + (w <= 0 ? 1 : Math.min(1, x / w)), 0);
  let lo = 0;
  let hi = Math.max(...windowsS, 0);
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (covered(mid) >= need) hi = mid;
    else lo = mid;
  }
  const perTask = windowsS.reduce((s, w) => {
    const p = w <= 0 ? 1 : Math.min(1, hi / w);
    return s + 1 + (p * p * Math.max(0, w)) / (2 * lagS);
  }, 0) / n;
  return perTask * arrivalsPerS;
}
