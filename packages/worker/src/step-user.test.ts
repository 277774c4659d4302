import { describe, expect, it } from 'vitest';
import { parsePasswdLine, resolveStepUser } from './step-user.ts';

describe('the step user', () => {
  it('is read from a passwd line', () => {
    expect(parsePasswdLine('builder:x:998:997:Build steps:/home/builder:/bin/sh\n')).toEqual({
      name: 'builder',
      uid: 998,
      gid: 997,
      home: '/home/builder',
    });
    expect(parsePasswdLine('garbage')).toBeNull();
    expect(parsePasswdLine('a:x:uid:1:g:/h:/s')).toBeNull();
  });

  it('is refused when the worker is not root, when unknown, and when it is root itself', async () => {
    await expect(resolveStepUser('nobody', 1000)).rejects.toThrow('needs the worker to start as root');
    await expect(resolveStepUser('no-such-user-here', 0)).rejects.toThrow('no user named no-such-user-here');
    await expect(resolveStepUser('root', 0)).rejects.toThrow('that user is root');
    expect(await resolveStepUser('nobody', 0)).toMatchObject({ name: 'nobody', uid: expect.any(Number) });
  });
});
