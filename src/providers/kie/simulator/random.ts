/**
 * Seeded randomness, so a simulator run (task ids, durations, images) can be
 * replayed exactly from its seed. mulberry32 is tiny and plenty for this; it
 * is not for anything security-related.
 */

/** Returns numbers in [0, 1). */
export type Rng = () => number;

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform number in [min, max). */
export const randomBetween = (rng: Rng, min: number, max: number): number => min + rng() * (max - min);

/** `length` lowercase hex digits, like KIE's task ids ("2584469c38e43c173dcae9e60663f645"). */
export function randomHex(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += Math.floor(rng() * 16).toString(16);
  return out;
}

/** FNV-1a: a stable 32-bit number from a string (per-image colour seeds). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
