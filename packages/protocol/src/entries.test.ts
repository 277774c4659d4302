import { describe, expect, it } from 'vitest';

describe('the Node entry', () => {
  it('has everything the browser entry has, its client sending and streaming over node:http', async () => {
    const node = await import('./index.ts');
    expect(Object.keys(node)).toEqual(expect.arrayContaining(Object.keys(await import('./browser.ts'))));
    const { plainRequest, plainStream } = await import('./http-request.ts');
    const client = new node.SwitchyardClient({ server: 'http://127.0.0.1:1' }).withToken('t');
    // fetch would cost `switchyard logs` and `watch` its start-up the first time it is called.
    expect(Reflect.get(client, 'transport')).toBe(plainRequest);
    expect(Reflect.get(client, 'stream')).toBe(plainStream);
  });
});
