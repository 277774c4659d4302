/**
 * The policies a simulation compares, apart from their implementations (policies.ts) so that the
 * command line can offer them without loading the scheduler.
 */
export const POLICY_NAMES = ['dedicated', 'pooled-fifo', 'pooled-smart'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}
