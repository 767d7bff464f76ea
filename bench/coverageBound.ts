/**
 * How many status reads per second a polling schedule needs, at least, to
 * see a share `share` of tasks within `lagS` seconds of finishing, when
 * each task's finish is uniform over a known window — the yardstick the
 * learned-timings report sets beside the measured runs (issue 11).
 *
 * One task first. A check at time c sees a finish in (previous check, c];
 * for the lag to be ≤ L there must be a check within L after the finish.
 * Checks stop once one finds the task done, so a check costs only the chance
 * the task is still running when it is due. Covering the last x seconds of
 * a window of W seconds with n = x / L checks L apart (the last at the
 * window's end, where the chance of still running is smallest) costs
 *     1 + L·n(n − 1) / 2W  =  1 + p²·W / 2L − p / 2,   p = x / W,
 * checks on average (the first is always made, and also sees, late, a task
 * that finished before the covered stretch), and no placement of checks
 * covering a share p costs less. Below p·W = L one check at the end does.
 *
 * Many tasks, one overall share: the marginal cost of p for a task is
 * p·W / L − 1/2, so the cheapest mix covers the same length x of every
 * window (p = min(1, x / W)), with x found by bisection.
 *
 * Per second: `arrivalsPerS` tasks of this mix arriving steadily. The
 * yardstick assumes checks exactly L apart and never a wait; reads beyond it
 * are what a real schedule pays for checks that bunch up and wait, and for
 * covering every window alike.
 */
export function minReadsPerSecond(windowsS: readonly number[], arrivalsPerS: number, share: number, lagS: number): number {
  const n = windowsS.length;
  if (n === 0) return 0;
  const x = coverLength(windowsS, share);
  return (windowsS.reduce((s, w) => s + coverCost(w, x, lagS), 0) / n) * arrivalsPerS;
}

/**
 * Both lag targets at once: p95 ≤ 3 s and p50 ≤ 1.5 s. Checks 3 s apart over
 * the p95 cover see half of its finishes within 1.5 s (the lag is uniform
 * between checks); the rest of the half comes cheapest from checks 1.5 s
 * apart over the last y seconds of every window (the same y for all), which
 * adds y² / 6W checks per task (its density doubles there).
 */
export function minReadsBothTargets(windowsS: readonly number[], arrivalsPerS: number): number {
  const n = windowsS.length;
  if (n === 0) return 0;
  const x = coverLength(windowsS, 0.95);
  const within15 = (y: number): number =>
    windowsS.reduce((s, w) => {
      if (w <= 0) return s + 1;
      const cover = Math.min(w, x);
      const tail = Math.min(cover, y);
      return s + (tail + 0.5 * (cover - tail)) / w;
    }, 0);
  const y = within15(0) >= 0.5 * n ? 0 : leastSuch(Math.max(...windowsS, 0), (t) => within15(t) >= 0.5 * n);
  const extra = windowsS.reduce((s, w) => (w <= 0 ? s : s + Math.min(w, x, y) ** 2 / (6 * w)), 0);
  return minReadsPerSecond(windowsS, arrivalsPerS, 0.95, 3) + (extra / n) * arrivalsPerS;
}

/** The length x of every window to cover (the last x seconds) so that `share` of the finishes are covered. */
function coverLength(windowsS: readonly number[], share: number): number {
  const need = share * windowsS.length;
  const covered = (x: number): number => windowsS.reduce((s, w) => s + (w <= 0 ? 1 : Math.min(1, x / w)), 0);
  return leastSuch(Math.max(...windowsS, 0), (x) => covered(x) >= need);
}

/** The least t in [0, max] with `ok(t)` (`ok` grows with t), by bisection: `max` if none smaller is found. */
function leastSuch(max: number, ok: (t: number) => boolean): number {
  let lo = 0;
  let hi = max;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Expected checks for one task of window w with its last x seconds covered by checks L apart. */
function coverCost(w: number, x: number, lagS: number): number {
  if (w <= 0) return 1;
  const p = Math.min(1, x / w);
  return 1 + Math.max(0, (p * p * w) / (2 * lagS) - p / 2);
}
