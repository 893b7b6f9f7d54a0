import { describe, expect, it } from 'vitest';
import { REVOKE_MORE_VALUE, revokeModal } from '../../blocks/admin-modals.js';
import { checkView } from '../../src/sandbox/slack-api/block-kit-limits.js';

describe('a static select past 100 options', () => {
  it("keeps 99 of a person's 150 grants and says in the last slot how many are not listed", () => {
    const grants = Array.from({ length: 150 }, (_, i) => ({
      grantId: `grt_${i}`,
      app: 'github',
      role: 'member',
      appName: 'GitHub',
      roleName: `Member ${i}`,
      status: 'active' as const,
      activatedAt: '2026-03-02T09:00:00.000Z',
      expiresAt: '2026-03-09T09:00:00.000Z',
      extendable: true,
      removal: { kind: 'automatic' as const },
    }));
    const view = revokeModal({ personSlackId: 'U0ADA', personName: 'Ada Lovelace', grants, timezone: 'UTC' });
    expect(checkView(view, 'modal')).toEqual([]);
    type Select = { options?: { value: string; text: { text: string } }[] };
    const blocks = view.blocks as { block_id?: string; element?: Select }[];
    const select = blocks.find((b) => b.element?.options?.some((o) => o.value === 'grt_0'))!.element!;
    expect(select.options).toHaveLength(100);
    expect(select.options!.at(-1)).toMatchObject({ value: REVOKE_MORE_VALUE, text: { text: '…51 more not listed' } });
  });
});
