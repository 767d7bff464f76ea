/**
 * The provider port's own logic: the registry, the task kind of each button,
 * and what a ProviderError says to a user.
 */
import { describe, expect, it } from 'vitest';
import {
  canFollowUp,
  FAILOVER_CATEGORIES,
  FOLLOW_UP_ACTIONS,
  failureOf,
  isProviderError,
  ProviderError,
  providerRegistry,
  RESULT_KIND_OF,
  taskKindOfAction,
  type ImageProvider,
} from '../../src/domain/provider.js';
import { APIXO_CAPABILITIES } from '../../src/providers/apixo/adapter.js';
import { KIE_CAPABILITIES } from '../../src/providers/kie/adapter.js';

const fake = (id: string): ImageProvider => ({ id }) as unknown as ImageProvider;

describe('provider port', () => {
  it('registry: the default must be configured; lookups by id', () => {
    const reg = providerRegistry('kie', [fake('kie'), fake('apixo')]);
    expect(reg.defaultId).toBe('kie');
    expect(reg.get('apixo')?.id).toBe('apixo');
    expect(reg.get('other')).toBeUndefined();
    expect(reg.ids()).toEqual(['kie', 'apixo']);
    expect(() => providerRegistry('apixo', [fake('kie')])).toThrow(/apixo/);
  });

  it('every button makes a task whose result kind has buttons of its own', () => {
    for (const action of FOLLOW_UP_ACTIONS) {
      const kind = taskKindOfAction(action, 'grid');
      expect(RESULT_KIND_OF[kind]).toBeDefined();
    }
    expect(taskKindOfAction('reroll', 'extend')).toBe('extend');
    expect(taskKindOfAction('upscale_4x', 'upscale')).toBe('upscale');
    expect(taskKindOfAction('vary_strong', 'upscale')).toBe('vary');
    expect(taskKindOfAction('animate_low', 'upscale')).toBe('video');
  });

  it('both capability tables list only known actions, and only on results they can act on', () => {
    for (const caps of [KIE_CAPABILITIES, APIXO_CAPABILITIES]) {
      for (const list of Object.values(caps.followUps)) for (const a of list) expect(FOLLOW_UP_ACTIONS).toContain(a);
      expect(canFollowUp(caps, 'grid', 'upscale')).toBe(true);
      expect(canFollowUp(caps, 'grid', 'extend_auto')).toBe(false);
    }
  });

  it('user messages: detail only where it helps the user, never for auth or credits', () => {
    const e = (category: ConstructorParameters<typeof ProviderError>[0], detail = 'raw detail') =>
      new ProviderError(category, { provider: 'apixo', providerCode: 'X', detail });
    expect(e('bad_input').userMessage).toBe('That request is invalid: raw detail');
    expect(e('unauthorized').userMessage).not.toContain('raw detail');
    expect(e('insufficient_credits').userMessage).toBe("The team's image account is out of credits. Ask an admin to top it up.");
    expect(e('outcome_unknown').maybeCreated).toBe(true);
    expect(e('unavailable').maybeCreated).toBe(false);
    expect(FAILOVER_CATEGORIES.has('unavailable')).toBe(true);
    expect(FAILOVER_CATEGORIES.has('outcome_unknown')).toBe(false);
    expect(failureOf(e('content_refused'))).toEqual({ category: 'content_refused', code: 'X', message: e('content_refused').userMessage });
    expect(isProviderError(e('not_found'))).toBe(true);
    expect(isProviderError(new Error('x'))).toBe(false);
  });
});
