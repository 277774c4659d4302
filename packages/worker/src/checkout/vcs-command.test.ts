import { expect, test } from 'vitest';
import { redactUrl, runVcs } from './vcs-command.ts';

test('a URL is shown without the secret in it, whether a password or a user name alone (https://TOKEN@host)', () => {
  expect(redactUrl('https://x-access-token:s3cret@git.example.org/app.git')).toBe(
    'https://x-access-token:***@git.example.org/app.git',
  );
  expect(redactUrl('https://ghp_s3cret@git.example.org/app.git')).toBe('https://***@git.example.org/app.git');
  expect(redactUrl('https://git.example.org/app.git')).toBe('https://git.example.org/app.git');
  expect(redactUrl('ssh://git@git.example.org/app.git')).toBe('ssh://git@git.example.org/app.git');
  expect(redactUrl('/srv/repos/app.git')).toBe('/srv/repos/app.git');
});

test('a command that does not finish in its time is stopped, and says so', async () => {
  const hung = runVcs({ program: 'sleep', args: ['60'], timeoutMs: 300 });
  await expect(hung).rejects.toThrow('sleep 60 did not finish in 0.3 s: stopped');
});
