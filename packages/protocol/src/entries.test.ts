import { describe, expect, it } from 'vitest';

describe('the Node entry', () => {
  it('has everything the browser entry has, its client sending over node:http', async () => {
    const node = await import('./index.ts');
    expect(Object.keys(node)).toEqual(expect.arrayContaining(Object.keys(await import('./browser.ts'))));
    const { plainRequest } = await import('./http-request.ts');
    expect(Reflect.get(new node.SwitchyardClient({ server: 'http://127.0.0.1:1' }), 'transport')).toBe(plainRequest);
  });
});
