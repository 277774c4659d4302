import { describe, expect, it } from 'vitest';
import { renewBeforeExpiring } from './lease-reaper.ts';

describe('renewBeforeExpiring', () => {
  it('renews running leases for a lease after the database last refused a write for a full disk', () => {
    expect(renewBeforeExpiring(null, 100_000, 30_000)).toBe(false);
    expect(renewBeforeExpiring(90_000, 100_000, 30_000)).toBe(true);
    expect(renewBeforeExpiring(70_001, 100_000, 30_000)).toBe(true);
    expect(renewBeforeExpiring(70_000, 100_000, 30_000)).toBe(false);
  });
});
